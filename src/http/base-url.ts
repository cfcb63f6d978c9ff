/**
 * Per-connection base URLs: `https://{config.subdomain}.zendesk.com`, a Jira Cloud site, a tenant path.
 * Only `{config.name}` placeholders, only in the host or the path. A host value must be a host name
 * (letters, digits, "-" and "." between labels) so a connection cannot add a port, user info or a path
 * and aim its credentials elsewhere; the spec must also constrain it with a `pattern` (checked by the
 * spec schema). A path value is exactly one segment, as in request paths.
 *
 * A placeholder may instead choose between literal texts by a config value
 * (`https://{config.env|eq:live:api:api-sandbox}.example.com`, `{config.sandbox|if:a:b}`): every host
 * the credentials can go to is then written in the spec, so such a field needs no pattern.
 *
 * Choices (`{?config.x=="v"}…{:}…{/}`, src/template/choices.ts) may pick between pieces of a base URL,
 * or between whole base URLs (`{?config.api_url}{config.api_url}{:}https://plausible.io/api/v1{/}`).
 * Their conditions read only config values, so the base is fixed per connection, never per request;
 * and every text the choices can give is checked here as a base URL by the rules above (a choice that
 * gives no text at all is refused when a connection's config makes it).
 *
 * `{instanceUrl}` may start a base URL: the origin comes from the OAuth token response
 * (instance-url.ts), and the rest is a path.
 *
 * `{config.name}` may start one too when the field is declared `format: url`: a self-hosted or
 * regional provider whose whole URL each connection gives (`{config.endpoint}/api/v1`). Whoever
 * creates the connection chooses that origin and supplies the credentials sent to it, so they go where
 * their owner said; a provider's answers still cannot move them (the URL policy is built from the
 * filled base). The value must be an https URL (plain http only on a loopback host: simulators, local
 * providers) without user info, query or fragment, and on one of the field's `hosts` when the spec
 * lists them — which a platform whose connection creators are not trusted operators should do.
 */
import { pathSegment, PathValueError } from './path-template.js';
import { hostMatches, INSTANCE_PLACEHOLDER, LOOPBACK } from './instance-url.js';
import { applyFilter, filterProblem, parseFilter } from '../template/functions.js';
import {
  choiceAlternatives,
  choiceConditions,
  conditionNames,
  resolveChoices,
  TemplateError,
  templateProblem,
} from '../template/template.js';

/** What a base URL needs to know of a connection config field. */
export interface UrlFieldSpec {
  format?: 'url' | undefined;
  hosts?: readonly string[] | undefined;
}

/** `{config.name}` as the start of a URL template: the whole origin from a `format: url` field. */
const LEADING = /^\{config\.([A-Za-z_][A-Za-z0-9_]*)\}/;

/** The config field a URL template starts with, if it starts with one. */
export function leadingUrlField(template: string): string | undefined {
  return LEADING.exec(template)?.[1];
}

/**
 * A `format: url` config value as the base it stands for (origin and path, no trailing "/"), or why it
 * cannot be one. Only the origin is ever quoted: the rest is the operator's, but stays out of errors.
 */
export function urlFieldValue(value: unknown, field: UrlFieldSpec): { url: string } | { problem: string } {
  if (typeof value !== 'string' || value.trim() === '') return { problem: 'is not a URL' };
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return { problem: 'is not a URL' };
  }
  const host = url.hostname.toLowerCase();
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(host)))
    return {
      problem: `must be an https URL (plain http only on a loopback host), got ${url.protocol === 'http:' ? url.origin : `a ${url.protocol} URL`}`,
    };
  if (url.username || url.password) return { problem: 'must not carry user info' };
  if (url.search || url.hash || /[?#]/.test(value)) return { problem: 'must not have a query or fragment' };
  if (field.hosts && !field.hosts.some((p) => hostMatches(p, host, url.port)))
    return { problem: `${url.origin} is not on a host the spec allows (${field.hosts.join(', ')})` };
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

const PLACEHOLDER = /\{config\.([A-Za-z_][A-Za-z0-9_]*)(?:\|((?:if|eq):[^{}|]*))?\}/g;
const HOST_VALUE =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export interface BaseUrlPlaceholder {
  name: string;
  inHost: boolean;
  /** `{config.name}` starting the template: the whole origin (a `format: url` field). */
  wholeUrl?: true;
  /** `{config.name|eq:…}` / `{config.name|if:…}`: the filter choosing between literal texts. */
  choice?: string;
  /** `{?config.name…}`: read by a choice's condition, never placed in the URL. */
  condition?: true;
  /** `{?secrets.name}`: a condition on whether the connection has this secret (`name` is the secret's). */
  secret?: true;
}

/** The config field a base URL condition reads, or undefined when it reads something else. */
function conditionField(name: string): string | undefined {
  return /^config\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(name)?.[1];
}

/** The secret a base URL condition tests for being set (`{?secrets.api_key}`), or undefined. */
function conditionSecret(name: string): string | undefined {
  return /^secrets\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(name)?.[1];
}

/** The literal texts a choice filter may give, or a problem with it. */
function choiceTexts(filter: string): string[] | { problem: string } {
  const problem = filterProblem(filter);
  if (problem) return { problem };
  const f = parseFilter(filter);
  if (f.op === 'if') return [f.then, f.otherwise];
  if (f.op === 'eq') return [f.then, f.otherwise];
  return { problem: `${filter} is not a choice` };
}

/** Where the authority ends: the host part is everything between "://" and the next "/", "?" or "#". */
function hostRange(template: string): [number, number] {
  const start = template.indexOf('://') + 3;
  const rest = template.slice(start).search(/[/?#]/);
  return [start, rest === -1 ? template.length : start + rest];
}

export function baseUrlPlaceholders(template: string): BaseUrlPlaceholder[] {
  if (templateProblem(template) === undefined && conditionNames(template).length > 0) {
    const seen = new Set<string>();
    const out: BaseUrlPlaceholder[] = [];
    const conditions = conditionNames(template).flatMap((n): BaseUrlPlaceholder[] => {
      const field = conditionField(n);
      if (field !== undefined) return [{ name: field, inHost: false, condition: true }];
      const secret = conditionSecret(n);
      return secret === undefined ? [] : [{ name: secret, inHost: false, condition: true, secret: true }];
    });
    for (const p of [...conditions, ...choiceAlternatives(template).flatMap(plainPlaceholders)]) {
      const key = JSON.stringify(p);
      if (!seen.has(key)) out.push(p);
      seen.add(key);
    }
    return out;
  }
  return plainPlaceholders(template);
}

function plainPlaceholders(template: string): BaseUrlPlaceholder[] {
  const leading = leadingUrlField(template);
  if (leading !== undefined) {
    const rest = template.replace(LEADING, 'https://leading.invalid');
    return [{ name: leading, inHost: false, wholeUrl: true }, ...plainPlaceholders(rest)];
  }
  const [hs, he] = hostRange(template);
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({
    name: m[1]!,
    inHost: m.index >= hs && m.index < he,
    ...(m[2] !== undefined ? { choice: m[2] } : {}),
  }));
}

/** Whether the base URL's origin is the connection's instance URL. */
export function usesInstanceUrl(template: string): boolean {
  return template.startsWith(INSTANCE_PLACEHOLDER);
}

/** Why a base URL template is not usable, or undefined. */
export function baseUrlProblem(template: string): string | undefined {
  const syntax = templateProblem(template);
  if (syntax) return syntax;
  const alternatives = choiceAlternatives(template);
  if (alternatives.length === 1 && alternatives[0] === template) return plainBaseUrlProblem(template);
  for (const c of choiceConditions(template)) {
    // Whether a secret is set says nothing of it; its value never chooses the host.
    if (conditionSecret(c.name) !== undefined && c.op !== 'set' && c.op !== 'unset')
      return `{?${c.name}…}: a baseUrl choice may only test whether a secret is set ({?${c.name}} or {?!${c.name}})`;
    if (conditionField(c.name) === undefined && conditionSecret(c.name) === undefined)
      return `{?${c.name}…}: a baseUrl choice may only read a config value ({?config.<field>…}) or whether a secret is set ({?secrets.<name>}), so the base is fixed per connection`;
  }
  for (const alt of alternatives) {
    if (alt === '') continue;
    const problem = plainBaseUrlProblem(alt);
    if (problem) return `when its choices give ${JSON.stringify(alt)}: ${problem}`;
  }
  return undefined;
}

function plainBaseUrlProblem(template: string): string | undefined {
  if (usesInstanceUrl(template)) {
    const rest = template.slice(INSTANCE_PLACEHOLDER.length);
    if (rest !== '' && !rest.startsWith('/'))
      return `after ${INSTANCE_PLACEHOLDER} comes a path ("/services/data/v63.0") or nothing`;
    if (rest.includes('{config.'))
      return `a base URL with ${INSTANCE_PLACEHOLDER} takes no other placeholders`;
    return plainBaseUrlProblem(`https://instance.invalid${rest}`);
  }
  if (template.includes(INSTANCE_PLACEHOLDER))
    return `${INSTANCE_PLACEHOLDER} may only start baseUrl (it is the whole origin)`;
  if (leadingUrlField(template) !== undefined) {
    const rest = template.replace(LEADING, '');
    if (rest !== '' && !rest.startsWith('/'))
      return 'after a leading {config.name} (the whole URL) comes a path ("/api/v1") or nothing';
    return plainBaseUrlProblem(`https://leading.invalid${rest}`);
  }
  const stripped = template.replace(PLACEHOLDER, 'x');
  if (/[{}]|%7[bd]/i.test(stripped))
    return 'only {config.name} placeholders (or choices {config.name|eq:<value>:<a>:<b>}, {config.name|if:<a>:<b>}) may appear in baseUrl (in its host or path)';
  const [chs, che] = hostRange(template);
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m[2] === undefined) continue;
    const texts = choiceTexts(m[2]);
    if (!Array.isArray(texts)) return `{config.${m[1]}|${m[2]}}: ${texts.problem}`;
    const inHost = m.index >= chs && m.index < che;
    for (const t of texts) {
      if (inHost ? !HOST_VALUE.test(t) : !/^[A-Za-z0-9._~-]+$/.test(t))
        return `{config.${m[1]}|${m[2]}}: ${JSON.stringify(t)} is not ${inHost ? 'a host name (letters, digits, "-", ".")' : 'a path segment (letters, digits, "-", ".", "_", "~")'}`;
    }
  }
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
  // A choice's texts are separated by ":": take choices out before looking for a port.
  const bareAuthority = authority.replace(PLACEHOLDER, (m) => (m.includes('|') ? 'x' : m));
  if (/\{config\./.test(bareAuthority.replace(/^[^:]*/, ''))) return 'a placeholder cannot be the port';
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
  /** The spec's connectionConfig: a leading `{config.name}` needs its field's format and hosts. */
  fields?: Readonly<Record<string, UrlFieldSpec>>,
  /** The connection's secrets, for choices on whether one is set (`{?secrets.api_key}`); only read so. */
  secrets?: Readonly<Record<string, unknown>>,
): string {
  let chosen: string;
  try {
    chosen = resolveChoices(template, (name) => {
      const field = conditionField(name);
      if (field !== undefined) return config[field];
      const secret = conditionSecret(name);
      if (secret === undefined) return undefined;
      if (!secrets)
        throw new BaseUrlValueError(`${where}: {?${name}} in the URL needs the connection's secrets here`);
      // Set or not is all a choice reads: the value itself never leaves this function.
      const v = secrets[secret];
      return v === undefined || v === null || v === '' ? undefined : true;
    });
  } catch (error) {
    if (error instanceof TemplateError) throw new BaseUrlValueError(`${where}: ${error.message}`);
    throw error;
  }
  if (chosen === template) return fillPlainBaseUrl(template, config, where, instance, fields);
  if (chosen.trim() === '')
    throw new BaseUrlValueError(`${where}: the choices of the URL give no URL for this connection's config`);
  return fillPlainBaseUrl(chosen, config, where, instance, fields);
}

function fillPlainBaseUrl(
  template: string,
  config: Readonly<Record<string, unknown>>,
  where: string,
  instance?: string,
  fields?: Readonly<Record<string, UrlFieldSpec>>,
): string {
  if (usesInstanceUrl(template)) {
    if (instance === undefined)
      throw new BaseUrlValueError(`${where}: baseUrl's ${INSTANCE_PLACEHOLDER} has no value yet`);
    return `${instance}${template.slice(INSTANCE_PLACEHOLDER.length)}`;
  }
  const leading = leadingUrlField(template);
  if (leading !== undefined) {
    const field = fields?.[leading];
    if (field?.format !== 'url')
      throw new BaseUrlValueError(
        `${where}: {config.${leading}} starts a URL, which needs the spec's connectionConfig.${leading} with format: url`,
      );
    const v = config[leading];
    if (v === undefined || v === null || v === '')
      throw new BaseUrlValueError(`${where}: URL placeholder {config.${leading}} has no value`);
    const base = urlFieldValue(v, field);
    if ('problem' in base) throw new BaseUrlValueError(`${where}: {config.${leading}} ${base.problem}`);
    const rest = fillPlainBaseUrl(`https://leading.invalid${template.replace(LEADING, '')}`, config, where);
    return `${base.url}${rest.slice('https://leading.invalid'.length)}`;
  }
  const [hs, he] = hostRange(template);
  return template.replace(PLACEHOLDER, (_whole, name: string, choice: string | undefined, offset: number) => {
    // A choice gives one of its literal texts (checked with the spec), whatever the value.
    if (choice !== undefined) {
      const text = String(applyFilter(parseFilter(choice), config[name]));
      return offset >= hs && offset < he ? text.toLowerCase() : text;
    }
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
