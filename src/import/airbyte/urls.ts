/**
 * URL templates of a manifest (url_base + path, token_refresh_endpoint) split into their origin and the
 * rest. The origin is a literal scheme and host whose config values are host labels
 * (`https://{{ config.region }}.api.example.com`), or one config value that is the whole URL
 * (`{{ config['endpoint'] }}/api/v1`): a `format: url` field in Syncwright, whose values are checked
 * as URLs (https, no user info) when a connection is saved and before each use.
 */
import { baseUrlProblem } from '../../http/base-url.js';
import { choiceHead, choiceOn, expressionText, translateTemplate, type Scope } from './expressions.js';
import { accessPath, parseTemplate, type Node } from './jinja.js';
import { DEFAULT_CONSTRUCTS } from './target.js';

export interface SplitUrl {
  /** The origin as written in the manifest, or its Syncwright template when `translated`. */
  origin: string;
  path: string;
  translated: boolean;
}

/**
 * Splits a URL template into its origin (`https://{{ config.sub }}.example.com`) and the rest; the
 * authority ends at the first "/" outside `{{ … }}`.
 */
function literalOrigin(url: string): SplitUrl | undefined {
  const m = /^https?:\/\//.exec(url.trim());
  if (!m) return undefined;
  const text = url.trim();
  let i = m[0].length;
  while (i < text.length) {
    if (text.startsWith('{{', i)) {
      const close = text.indexOf('}}', i);
      if (close < 0) return undefined;
      i = close + 2;
      continue;
    }
    if (text[i] === '/' || text[i] === '?') break;
    i++;
  }
  return { origin: text.slice(0, i), path: text.slice(i), translated: false };
}

/** `{{ config['endpoint'] }}/rest`: the config field as a whole URL, then a path (or nothing). */
function configOrigin(url: string, scope: Scope): SplitUrl | undefined {
  let parts;
  try {
    parts = parseTemplate(url.trim());
  } catch {
    return undefined;
  }
  const first = parts[0];
  if (!first || !('expr' in first)) return undefined;
  const access = accessPath(first.expr);
  if (access?.root !== 'config' || access.path.length === 0) return undefined;
  if (scope.config.isSecret(access.path)) return undefined;
  const close = url.trim().indexOf('}}') + 2;
  const rest = url.trim().slice(close);
  if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?')) return undefined;
  return { origin: `{config.${scope.config.use(access.path, 'url')}}`, path: rest, translated: true };
}

/** The expression a URL template starts with, when host choices are a construct of the target. */
function leadingChoice(url: string, scope: Scope): Node | undefined {
  if (!(scope.constructs ?? DEFAULT_CONSTRUCTS).hostChoice) return undefined;
  let parts;
  try {
    parts = parseTemplate(url.trim());
  } catch {
    return undefined;
  }
  const first = parts[0];
  return first && 'expr' in first ? first.expr : undefined;
}

/**
 * `{{ 'https://api.x.com/v1' if config['env'] == 'live' else 'https://sandbox.x.com/v1' }}/path`: two
 * bases written out with the same scheme and path, the config value choosing the host
 * (`https://{config.env|eq:live:api.x.com:sandbox.x.com}`): credentials still go only to hosts the
 * manifest names.
 */
function chosenOrigin(url: string, scope: Scope): SplitUrl | undefined {
  const expr = leadingChoice(url, scope);
  if (expr?.k !== 'cond') return undefined;
  const { test, then, else: otherwise } = expr;
  if (then.k !== 'lit' || otherwise?.k !== 'lit') return undefined;
  const urls: URL[] = [];
  for (const v of [then.value, otherwise.value]) {
    if (typeof v !== 'string') return undefined;
    try {
      urls.push(new URL(v.trim()));
    } catch {
      return undefined;
    }
  }
  const [a, b] = urls as [URL, URL];
  const bare = (u: URL) => !u.username && !u.password && !u.search && !u.hash;
  if (a.protocol !== b.protocol || !/^https?:$/.test(a.protocol) || !bare(a) || !bare(b)) return undefined;
  if (a.port !== b.port) return undefined;
  const pathOf = (u: URL) => u.pathname.replace(/\/+$/, '');
  if (pathOf(a) !== pathOf(b) || a.hostname === b.hostname) return undefined;
  const choice = choiceOn(test, scope);
  if (!choice) return undefined;
  const close = url.trim().indexOf('}}') + 2;
  const rest = url.trim().slice(close);
  if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?')) return undefined;
  const name = scope.config.use(choice.field, 'value');
  return {
    origin: `${a.protocol}//{config.${name}|${choice.filter(a.hostname, b.hostname)}}${a.port ? `:${a.port}` : ''}`,
    path: `${pathOf(a)}${rest}`,
    translated: true,
  };
}

/**
 * A whole base URL as template text whose choices give whole URLs: a literal URL, a config URL field
 * (`format: url`), `a or b` (the field when set), `a if test else b`, or text joined around choices
 * (`'https://' ~ ('eu-' if config.region == 'EU' else '') ~ 'api.example.com'`). `''` and None give no
 * URL (a connection whose config chooses it cannot be used).
 */
function urlChoice(node: Node, scope: Scope): string | undefined {
  if (node.k === 'lit') {
    if (node.value === null || node.value === '') return '';
    if (typeof node.value !== 'string' || /[{}]/.test(node.value)) return undefined;
    const text = node.value.trim();
    return /^https?:\/\/[^/?#]+/.test(text) ? text.replace(/\/+$/, '') : undefined;
  }
  const access = accessPath(node);
  if (access) {
    if (access.root !== 'config' || access.path.length === 0 || scope.config.isSecret(access.path))
      return undefined;
    return `{config.${scope.config.use(access.path, 'url')}}`;
  }
  if (node.k === 'bin' && node.op === 'or') {
    const left = urlChoice(node.left, scope);
    const right = urlChoice(node.right, scope);
    const head = choiceHead(node.left, scope);
    return left && right !== undefined && head ? `${head}${left}{:}${right}{/}` : undefined;
  }
  if (node.k === 'cond') {
    const head = choiceHead(node.test, scope);
    const then = urlChoice(node.then, scope);
    const otherwise = node.else ? urlChoice(node.else, scope) : '';
    if (!head || then === undefined || otherwise === undefined) return undefined;
    return `${head}${then}${otherwise ? `{:}${otherwise}` : ''}{/}`;
  }
  if (node.k === 'bin' && (node.op === '~' || node.op === '+')) {
    // Text joined around host choices: its config values are host labels, as in a literal URL's host.
    const t = expressionText(node, scope, 'host');
    return 'text' in t && /^https?:\/\//.test(t.text) ? t.text.replace(/\/+$/, '') : undefined;
  }
  return undefined;
}

/** `{{ config.api_url or 'https://x.io/api' }}/path`: a choice of whole bases, then a path. */
function choiceOrigin(url: string, scope: Scope): SplitUrl | undefined {
  const expr = leadingChoice(url, scope);
  if (expr?.k !== 'cond' && expr?.k !== 'bin') return undefined;
  const origin = urlChoice(expr, scope);
  if (origin === undefined || baseUrlProblem(origin) !== undefined) return undefined;
  const close = url.trim().indexOf('}}') + 2;
  const rest = url.trim().slice(close);
  if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?')) return undefined;
  return { origin, path: rest, translated: true };
}

export function splitUrl(url: string, scope: Scope): SplitUrl | undefined {
  return (
    literalOrigin(url) ?? configOrigin(url, scope) ?? chosenOrigin(url, scope) ?? choiceOrigin(url, scope)
  );
}

/**
 * A whole URL template (a token endpoint) as a Syncwright URL template: config in the host as host
 * labels, in the path as segments, or the whole URL from one config field; a reason otherwise.
 */
export function translateUrl(
  url: string,
  scope: Scope,
): { ok: true; url: string } | { ok: false; reason: string } {
  const split = splitUrl(url, scope);
  if (!split)
    return { ok: false, reason: 'it is neither an http(s) URL with a literal scheme nor a config URL' };
  const origin = split.translated
    ? { ok: true as const, text: split.origin }
    : translateTemplate(split.origin, scope, 'host');
  if (!origin.ok) return { ok: false, reason: origin.reason };
  const path = translateTemplate(split.path, scope);
  if (!path.ok) return { ok: false, reason: path.reason };
  const text = `${origin.text}${path.text}`;
  // Choices read config too (`{?config.sandbox}`, `{:}`, `{/}`).
  const other = /\{(?!config\.|\?!?(config|secrets)\.|:\}|\/\})[^{}]*\}/.exec(text);
  if (other) return { ok: false, reason: `${other[0]} is not a connection config value` };
  return { ok: true, url: text };
}
