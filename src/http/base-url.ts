/**
 * Per-connection base URLs: `https://{config.subdomain}.zendesk.com`, a Jira Cloud site, a tenant path.
 * Only `{config.name}` placeholders, only in the host or the path. A host value must be a host name
 * (letters, digits, "-" and "." between labels) so a connection cannot add a port, user info or a path
 * and aim its credentials elsewhere; the spec must also constrain it with a `pattern` (checked by the
 * spec schema). A path value is exactly one segment, as in request paths.
 *
 * `{instanceUrl}` may start a base URL: the origin comes from the OAuth token response
 * (instance-url.ts), and the rest is a path.
 */
import { pathSegment, PathValueError } from './path-template.js';
import { INSTANCE_PLACEHOLDER } from './instance-url.js';

const PLACEHOLDER = /\{config\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
const HOST_VALUE =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export interface BaseUrlPlaceholder {
  name: string;
  inHost: boolean;
}

/** Where the authority ends: the host part is everything between "://" and the next "/", "?" or "#". */
function hostRange(template: string): [number, number] {
  const start = template.indexOf('://') + 3;
  const rest = template.slice(start).search(/[/?#]/);
  return [start, rest === -1 ? template.length : start + rest];
}

export function baseUrlPlaceholders(template: string): BaseUrlPlaceholder[] {
  const [hs, he] = hostRange(template);
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({
    name: m[1]!,
    inHost: m.index >= hs && m.index < he,
  }));
}

/** Whether the base URL's origin is the connection's instance URL. */
export function usesInstanceUrl(template: string): boolean {
  return template.startsWith(INSTANCE_PLACEHOLDER);
}

/** Why a base URL template is not usable, or undefined. */
export function baseUrlProblem(template: string): string | undefined {
  if (usesInstanceUrl(template)) {
    const rest = template.slice(INSTANCE_PLACEHOLDER.length);
    if (rest !== '' && !rest.startsWith('/'))
      return `after ${INSTANCE_PLACEHOLDER} comes a path ("/services/data/v63.0") or nothing`;
    if (rest.includes('{config.'))
      return `a base URL with ${INSTANCE_PLACEHOLDER} takes no other placeholders`;
    return baseUrlProblem(`https://instance.invalid${rest}`);
  }
  if (template.includes(INSTANCE_PLACEHOLDER))
    return `${INSTANCE_PLACEHOLDER} may only start baseUrl (it is the whole origin)`;
  const stripped = template.replace(PLACEHOLDER, 'x');
  if (/[{}]|%7[bd]/i.test(stripped))
    return 'only {config.name} placeholders may appear in baseUrl (in its host or path)';
  let url: URL;
  try {
    url = new URL(stripped);
  } catch {
    return 'must be an http(s) URL';
  }
  if (!/^https?:$/.test(url.protocol)) return 'must be an http(s) URL';
  if (url.search || url.hash) return 'must not have a query or fragment';
  const [hs, he] = hostRange(template);
  const authority = template.slice(hs, he);
  if (/[@]/.test(authority)) return 'must not carry user info';
  if (/\{config\./.test(authority.replace(/^[^:]*/, ''))) return 'a placeholder cannot be the port';
  return undefined;
}

export class BaseUrlValueError extends PathValueError {
  override name = 'BaseUrlValueError';
}

/** The connection's base URL; `where` names the connection for errors. */
export function fillBaseUrl(
  template: string,
  config: Readonly<Record<string, unknown>>,
  where: string,
  /** The connection's instance origin (checked against the spec's hosts), for `{instanceUrl}`. */
  instance?: string,
): string {
  if (usesInstanceUrl(template)) {
    if (instance === undefined)
      throw new BaseUrlValueError(`${where}: baseUrl's ${INSTANCE_PLACEHOLDER} has no value yet`);
    return `${instance}${template.slice(INSTANCE_PLACEHOLDER.length)}`;
  }
  const [hs, he] = hostRange(template);
  return template.replace(PLACEHOLDER, (_whole, name: string, offset: number) => {
    const v = config[name];
    if (v === undefined || v === null || v === '')
      throw new BaseUrlValueError(`${where}: baseUrl placeholder {config.${name}} has no value`);
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (offset >= hs && offset < he) {
      if (!HOST_VALUE.test(text))
        throw new BaseUrlValueError(
          `${where}: {config.${name}} in baseUrl's host is ${JSON.stringify(text.slice(0, 80))}, which is not a host name (letters, digits, "-", ".")`,
        );
      return text.toLowerCase();
    }
    return pathSegment(text, `${where}: the value of {config.${name}} in baseUrl`);
  });
}
