/**
 * Authenticators: ApiKeyAuthenticator, BearerAuthenticator, BasicHttpAuthenticator, OAuthAuthenticator
 * (refresh token or client credentials), NoAuth and SelectiveAuthenticator (`auth.type: select`, each
 * option that translates, chosen by the config value at authenticator_selection_path) as Syncwright
 * `auth`. Every config value an authenticator uses becomes a connection secret. Pure: returns the auth,
 * or undefined with the reason reported.
 */
import type { ConfigFields } from './config-fields.js';
import { translateTemplate, type Scope } from './expressions.js';
import { accessPath, isInterpolated, parseTemplate } from './jinja.js';
import { pathSecretProblem } from '../../http/path-secrets.js';
import { isObject, type Component, type Json } from './manifest.js';
import { soleExpression } from './pagination.js';
import { durationSeconds } from './datetime.js';
import { splitUrl, translateUrl } from './urls.js';
import { DEFAULT_CONSTRUCTS } from './target.js';
import { RESERVED_TOKEN_PARAMS } from '../../http/auth/schema.js';

export type AuthOut = Record<string, unknown> & { type: string };

export type AuthResult =
  | {
      ok: true;
      auth: AuthOut;
      note?: string;
      loginOrigin?: string;
      loginUrl?: string;
      /** A SelectiveAuthenticator's options as translated, each finished on its own (finishAuth). */
      choice?: Choice;
      /**
       * Of a choice: its first option alone, for streams whose options differ from one another (a stream
       * sending more credentials with one of them), which one spec's auth cannot say.
       */
      fallback?: AuthResult;
    }
  | { ok: false; reason: string };

/** The options of a SelectiveAuthenticator: the config field choosing one, and each option's result. */
interface Choice {
  by: string;
  options: [string, AuthResult][];
}

/**
 * Applies what a stream adds to its auth (secrets it sends, where its login goes) to the auth, or to
 * each option of a choice, which is then built again from the options that still translate.
 */
export function finishAuth(result: AuthResult, finish: (r: AuthResult) => AuthResult): AuthResult {
  if (!result.ok || !result.choice) return finish(result);
  const { by, options } = result.choice;
  return selectOf(
    by,
    options.map(([name, r]) => [name, r.ok ? finish(r) : r]),
  );
}

/**
 * `auth.type: select` of the options that translate; an option left out is said in the note (a
 * connection choosing it is refused, naming the options it may choose). None translating: a failure.
 */
function selectOf(by: string, options: [string, AuthResult][]): AuthResult {
  const ok = options.filter((o): o is [string, Extract<AuthResult, { ok: true }>] => o[1].ok);
  const failed = options.filter((o) => !o[1].ok);
  const reasons = failed.map(([name, r]) => `${name}: ${r.ok ? '' : r.reason}`);
  if (ok.length === 0) return { ok: false, reason: `no option translates (${reasons.join('; ')})` };
  const notes = ok.flatMap(([name, r]) => (r.note ? [`${name}: ${r.note}`] : []));
  if (failed.length)
    notes.unshift(
      `the ${failed.map(([n]) => JSON.stringify(n)).join(', ')} option${failed.length > 1 ? 's are' : ' is'} left out (${reasons.join('; ')}): connections choose ${ok.map(([n]) => JSON.stringify(n)).join(' or ')}`,
    );
  const [firstName, first] = ok[0]!;
  return {
    ok: true,
    auth: { type: 'select', by, options: Object.fromEntries(ok.map(([name, r]) => [name, r.auth])) },
    ...(notes.length ? { note: notes.join('; ') } : {}),
    choice: { by, options },
    fallback: {
      ...first,
      note:
        `only the "${firstName}" option of ${options.length} is imported (the streams send different credentials with the others): connections must use it` +
        (first.note ? `; ${first.note}` : ''),
    },
  };
}

/** A value that must be one secret: `{{ config['api_key'] }}` → the secret's name. */
function secretOf(value: Json | undefined, config: ConfigFields): string | undefined {
  const node = soleExpression(value);
  if (!node) return undefined;
  let n = node;
  while (n.k === 'filter' && ['string', 'trim'].includes(n.name)) n = n.value;
  const access = accessPath(n);
  if (!access || access.root !== 'config' || access.path.length === 0) return undefined;
  return config.use(access.path, 'secret');
}

/** A secret header value with text around it, `Token {{ config.key }}` → prefix "Token ". */
function prefixedSecret(
  value: Json | undefined,
  scope: Scope,
): { prefix: string; secret: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const t = translateTemplate(value, scope, 'secret');
  if (!t.ok) return undefined;
  const m = /^([^{}]*)\{secrets\.([A-Za-z0-9_]+)\}$/.exec(t.text);
  return m ? { prefix: m[1]!, secret: m[2]! } : undefined;
}

/** A token endpoint: a literal http(s) URL, or a template over config (host labels, path, whole URL). */
function tokenUrl(value: Json | undefined, scope: Scope): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (isInterpolated(value)) {
    // Secret-marked values in the path are sealed first: trying them as plain config would mark
    // them as needed plain (config-fields.ts).
    const sealed = sealedTokenUrl(value, scope);
    if (sealed !== undefined) return sealed;
    const t = translateUrl(value, scope);
    return t.ok ? t.url : undefined;
  }
  try {
    const u = new URL(value);
    return /^https?:$/.test(u.protocol) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A token URL whose path holds secret-marked config values as whole segments (Microsoft's
 * `https://login.microsoftonline.com/{{ config['tenant_id'] }}/oauth2/v2.0/token`): they stay secrets,
 * `{secrets.tenant_id}`, revealed only in the token request (src/http/path-secrets.ts). The origin is
 * still literal or built from plain config only.
 */
function sealedTokenUrl(value: string, scope: Scope): string | undefined {
  const split = splitUrl(value.trim(), scope);
  if (!split) return undefined;
  const origin = split.translated
    ? { ok: true as const, text: split.origin }
    : translateTemplate(split.origin, scope, 'host');
  if (!origin.ok) return undefined;
  let parts;
  try {
    parts = parseTemplate(split.path);
  } catch {
    return undefined;
  }
  const secrets = parts.flatMap((part) => {
    const access = 'expr' in part ? accessPath(part.expr) : undefined;
    return access?.root === 'config' && scope.config.isSecret(access.path) ? [access.path] : [];
  });
  if (secrets.length === 0) return undefined;
  const before = scope.secretsAsConfig;
  scope.secretsAsConfig = true;
  const path = translateTemplate(split.path, scope);
  scope.secretsAsConfig = before;
  if (!path.ok) return undefined;
  let text = path.text;
  for (const p of secrets) {
    const name = scope.config.nameOf(p);
    text = text.split(`{config.${name}}`).join(`{secrets.${name}}`);
  }
  const url = `${origin.text}${text}`;
  if (/\{(?!config\.|secrets\.)[^{}]*\}/.test(url) || pathSecretProblem(url, origin.text.length))
    return undefined;
  for (const p of secrets) if (scope.config.seal(p) === undefined) return undefined;
  return url;
}

/**
 * A literal token URL's query (`…/token?grant_type=client_credentials&scope=x`): Syncwright's token URL
 * has none, so its parameters go with the token request's form fields instead (the URL without them).
 */
function splitTokenQuery(url: string): { url: string; query: [string, string][] } | string {
  // A choice's `{?` is no query.
  if (!url.replace(/\{\?/g, '').includes('?') && !url.includes('#')) return { url, query: [] };
  if (isInterpolated(url) || url.includes('{?'))
    return 'token_refresh_endpoint built from config has a query';
  const u = new URL(url);
  if (u.hash) return 'token_refresh_endpoint has a fragment';
  const query = [...u.searchParams.entries()];
  u.search = '';
  return { url: u.toString(), query };
}

/** Folds a token URL's query into the token params; a parameter the grant sets itself must agree. */
function tokenQueryParams(
  query: [string, string][],
  params: Record<string, string>,
  grant: Record<string, string | undefined>,
  hasScopes: boolean,
): Record<string, string> | string {
  const out = { ...params };
  for (const [k, v] of query) {
    if (k in grant) {
      if (grant[k] !== v)
        return `token_refresh_endpoint's query sets ${k}, which the token request sets itself`;
      continue;
    }
    if ((RESERVED_TOKEN_PARAMS as readonly string[]).includes(k))
      return `token_refresh_endpoint's query sets ${k}, a field of another grant`;
    if (k === 'scope' && hasScopes) return "token_refresh_endpoint's query sets scope next to scopes";
    if (k in out && out[k] !== v)
      return `token_refresh_endpoint's query and refresh_request_body both set ${k}`;
    // Literal text: braces would read as placeholders.
    if (/[{}]/.test(v)) return `token_refresh_endpoint's query value of ${k} has braces`;
    out[k] = v;
  }
  return out;
}

export function translateAuth(auth: Json | undefined, scope: Scope): AuthResult {
  const config = scope.config;
  if (auth === undefined || auth === null) return { ok: true, auth: { type: 'none' } };
  if (!isObject(auth)) return { ok: false, reason: 'expected an authenticator component' };
  switch (auth.type) {
    case 'NoAuth':
      return { ok: true, auth: { type: 'none' } };
    case 'BearerAuthenticator': {
      const token = secretOf(auth.api_token, config);
      return token
        ? { ok: true, auth: { type: 'bearer', token } }
        : { ok: false, reason: 'api_token is not one config value' };
    }
    case 'ApiKeyAuthenticator': {
      const option = isObject(auth.inject_into) ? auth.inject_into : undefined;
      const place = option?.inject_into ?? (typeof auth.header === 'string' ? 'header' : undefined);
      const name = option ? option.field_name : auth.header;
      if (typeof name !== 'string' || isInterpolated(name))
        return { ok: false, reason: 'the header or parameter name is not a literal' };
      const value = prefixedSecret(auth.api_token, scope);
      if (!value) {
        // Several values in one header (`{{ config.id }}:{{ config.key }}`): custom headers.
        if (place === 'header' && typeof auth.api_token === 'string') {
          const t = translateTemplate(auth.api_token, scope, 'secret');
          if (t.ok) return { ok: true, auth: { type: 'custom-headers', headers: { [name]: t.text } } };
          return { ok: false, reason: t.reason };
        }
        return { ok: false, reason: 'api_token is not one config value (with an optional prefix)' };
      }
      // A header, or a field of the form body (body_data), may take a prefixed key.
      if (place === 'header' || place === 'body_data')
        return {
          ok: true,
          auth: {
            type: 'api-key',
            in: place === 'header' ? 'header' : 'form',
            name,
            value: value.secret,
            ...(value.prefix ? { prefix: value.prefix } : {}),
          },
        };
      if (place === 'request_parameter') {
        if (value.prefix) return { ok: false, reason: 'a prefixed key in a query parameter' };
        return { ok: true, auth: { type: 'api-key', in: 'query', name, value: value.secret } };
      }
      return { ok: false, reason: `an API key injected into ${JSON.stringify(place)}` };
    }
    case 'BasicHttpAuthenticator': {
      // A part written as plain text is the provider's fixed text (BambooHR's password "x", Mailgun's
      // user name "api"): written into the spec, not asked of connections.
      const part = (v: Json | undefined): string | { value: string } | undefined =>
        typeof v === 'string' && !isInterpolated(v) ? { value: v } : secretOf(v, config);
      const username = part(auth.username);
      if (!username) return { ok: false, reason: 'username is neither one config value nor fixed text' };
      const pw = auth.password;
      // No password (an API key as the user name): Syncwright's basic auth without one sends the
      // same "user:" pair.
      if (pw === undefined || pw === null || pw === '')
        return { ok: true, auth: { type: 'basic', username } };
      const password = part(pw);
      return password
        ? { ok: true, auth: { type: 'basic', username, password } }
        : { ok: false, reason: 'password is neither one config value nor fixed text' };
    }
    case 'OAuthAuthenticator': {
      const rawUrl = tokenUrl(auth.token_refresh_endpoint, scope);
      if (!rawUrl)
        return {
          ok: false,
          reason: 'token_refresh_endpoint is neither an http(s) URL nor one built from config values',
        };
      const split = splitTokenQuery(rawUrl);
      if (typeof split === 'string') return { ok: false, reason: split };
      const url = split.url;
      const clientId = secretOf(auth.client_id, config);
      const clientSecret = secretOf(auth.client_secret, config);
      if (!clientId || !clientSecret)
        return { ok: false, reason: 'client_id and client_secret must each be one config value' };
      const scopes = Array.isArray(auth.scopes)
        ? auth.scopes.filter((s): s is string => typeof s === 'string')
        : [];
      const clientCredentials = auth.grant_type === 'client_credentials';
      const bodyParams = tokenParams(auth.refresh_request_body, scope, clientCredentials, scopes.length > 0);
      if (typeof bodyParams === 'string') return { ok: false, reason: bodyParams };
      const grant = { grant_type: clientCredentials ? 'client_credentials' : 'refresh_token' };
      const params = tokenQueryParams(split.query, bodyParams, grant, scopes.length > 0);
      if (typeof params === 'string') return { ok: false, reason: params };
      const moved = split.query.length
        ? {
            note: `the token URL's query (${split.query.map(([k]) => k).join(', ')}) is sent as token request form fields`,
          }
        : {};
      const more = Object.keys(params).length ? { tokenParams: params } : {};
      if (clientCredentials)
        return {
          ok: true,
          auth: {
            type: 'oauth2-client-credentials',
            tokenUrl: url,
            clientId,
            clientSecret,
            scopes,
            clientAuth: 'post',
            ...more,
          },
          ...moved,
        };
      const refreshToken = secretOf(auth.refresh_token, config);
      if (!refreshToken) return { ok: false, reason: 'refresh_token is not one config value' };
      return {
        ok: true,
        auth: {
          type: 'oauth2-refresh-token',
          tokenUrl: url,
          clientId,
          clientSecret,
          refreshToken,
          clientAuth: 'post',
          ...more,
        },
        ...moved,
      };
    }
    case 'SessionTokenAuthenticator':
      if (!(scope.constructs ?? DEFAULT_CONSTRUCTS).sessionToken)
        return { ok: false, reason: 'SessionTokenAuthenticator has no equivalent yet' };
      return sessionToken(auth, scope);
    case 'SelectiveAuthenticator': {
      const options = isObject(auth.authenticators) ? Object.entries(auth.authenticators) : [];
      if ((scope.constructs ?? DEFAULT_CONSTRUCTS).selectAuth) {
        const path = auth.authenticator_selection_path;
        if (!Array.isArray(path) || path.length === 0 || !path.every((p) => typeof p === 'string'))
          return { ok: false, reason: 'authenticator_selection_path is not a list of config keys' };
        if (options.length === 0) return { ok: false, reason: 'authenticators has no options' };
        const by = config.use(path, 'value');
        config.requireChoice(
          by,
          options.map(([name]) => name),
        );
        return selectOf(
          by,
          options.map(([name, option]): [string, AuthResult] => {
            const undo = config.checkpoint();
            let r = translateAuth(option, scope);
            // Options are single auths: a choice within a choice has no equivalent.
            if (r.ok && r.auth.type === 'select')
              r = { ok: false, reason: 'a SelectiveAuthenticator inside another' };
            // An option left out asks nothing of connections: its config fields and secrets go with it.
            if (!r.ok) undo();
            return [name, r];
          }),
        );
      }
      const reasons: string[] = [];
      for (const [name, option] of options) {
        const r = translateAuth(option, scope);
        if (r.ok)
          return {
            ok: true,
            auth: r.auth,
            note: `only the "${name}" option of ${options.length} is imported: connections must use it`,
          };
        reasons.push(`${name}: ${r.reason}`);
      }
      return { ok: false, reason: `no option translates (${reasons.join('; ')})` };
    }
    default:
      // A component named only by its Python class (Airbyte's CustomAuthenticator, `type` left out).
      if (auth.type === undefined || auth.type === 'CustomAuthenticator')
        return {
          ok: false,
          reason: `${typeof auth.class_name === 'string' ? `the custom authenticator ${auth.class_name}` : 'an authenticator without a type'} is Python code, which Syncwright does not run`,
        };
      return { ok: false, reason: `${JSON.stringify(auth.type)} has no equivalent yet` };
  }
}

/**
 * `refresh_request_body`: more token request fields. Airbyte keeps its own fields over these (grant
 * type, client id and secret, the refresh token, scopes), so those keys are dropped as it drops them;
 * the rest become `tokenParams`, config values as {config.x} (or {secrets.x} when marked secret).
 */
function tokenParams(
  body: Json | undefined,
  scope: Scope,
  clientCredentials: boolean,
  hasScopes: boolean,
): Record<string, string> | string {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) return 'refresh_request_body is not a mapping';
  const own = ['grant_type', 'client_id', 'client_secret', ...(clientCredentials ? [] : ['refresh_token'])];
  if (hasScopes) own.push('scopes');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (own.includes(k)) continue;
    if ((RESERVED_TOKEN_PARAMS as readonly string[]).includes(k))
      return `refresh_request_body.${k} is a field of another grant`;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      return `refresh_request_body.${k} is not a scalar`;
    const text = String(v);
    let t = translateTemplate(text, scope);
    if (!t.ok) t = translateTemplate(text, scope, 'secret');
    if (!t.ok) return `refresh_request_body.${k}: ${t.reason}`;
    out[k] = t.text;
  }
  return out;
}

/** Auth as a comparable key, to tell whether two streams authenticate alike. */
export function authKey(auth: AuthOut): string {
  return JSON.stringify(auth);
}

/** Every string of a login request as a template; config values become secrets. */
function loginValues(value: Json | undefined, scope: Scope): Record<string, string> | string {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) return 'not a mapping';
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return `${k}: not a scalar`;
    const t = translateTemplate(String(v), scope, 'secret');
    if (!t.ok) return `${k}: ${t.reason}`;
    out[k] = t.text;
  }
  return out;
}

/**
 * Where a login goes: a literal URL (its origin, path and the whole URL, for a login host of its own),
 * or a URL built from config (`{{ config.host }}/api/oauth/v1`, host labels), whose origin must then be
 * the base URL's: credentials never go to a host a connection names unless the base URL goes there too.
 */
function loginPlace(
  base: string,
  loginPath: string,
  scope: Scope,
): { origin: string; path: string; url?: string } | string {
  if (isInterpolated(base)) {
    const split = splitUrl(base, scope);
    if (!split || isInterpolated(split.path) || split.path.includes('?'))
      return 'the login url_base is neither a literal URL nor a config URL then a literal path';
    const origin = split.translated
      ? { ok: true as const, text: split.origin }
      : translateTemplate(split.origin, scope, 'host');
    if (!origin.ok) return `the login url_base: ${origin.reason}`;
    const path = `${split.path.replace(/\/+$/, '')}/${loginPath.replace(/^\/+/, '')}`;
    return { origin: origin.text, path: path.startsWith('/') ? path : `/${path}` };
  }
  // An empty path is the url_base itself (Docker Hub's carries its query).
  const url = loginPath === '' ? base : `${base.replace(/\/+$/, '')}/${loginPath.replace(/^\/+/, '')}`;
  try {
    const u = new URL(url);
    return { origin: u.origin, path: u.pathname, url };
  } catch {
    return 'the login URL is not a URL';
  }
}

/** The login request's own authenticator: basic, or a key or bearer token in its headers. */
function loginAuthentication(
  authenticator: Json | undefined,
  scope: Scope,
): { headers: Record<string, string>; basic?: Record<string, unknown> } | string {
  if (authenticator === undefined || authenticator === null) return { headers: {} };
  const r = translateAuth(authenticator, scope);
  if (!r.ok) return `the login request's authenticator: ${r.reason}`;
  const a = r.auth;
  if (a.type === 'none') return { headers: {} };
  if (a.type === 'basic')
    return {
      headers: {},
      basic: { username: a.username, ...(a.password !== undefined ? { password: a.password } : {}) },
    };
  if (a.type === 'bearer') return { headers: { Authorization: `Bearer {secrets.${String(a.token)}}` } };
  if (a.type === 'api-key' && a.in === 'header' && typeof a.name === 'string')
    return {
      headers: {
        [a.name]: `${typeof a.prefix === 'string' ? a.prefix : ''}{secrets.${String(a.value)}}`,
      },
    };
  return `the login request's ${a.type} authenticator has no equivalent on a login`;
}

/** SessionTokenAuthenticator: a login request whose answer holds a token for a header. */
function sessionToken(auth: Component, scope: Scope): AuthResult {
  const login = auth.login_requester;
  if (!isObject(login) || typeof login.url_base !== 'string')
    return { ok: false, reason: 'the login url_base is not a URL' };
  const loginAuth = loginAuthentication(login.authenticator, scope);
  if (typeof loginAuth === 'string') return { ok: false, reason: loginAuth };
  const loginPath = typeof login.path === 'string' ? login.path : '';
  if (isInterpolated(loginPath)) return { ok: false, reason: 'the login path is not literal' };
  const where = loginPlace(login.url_base.trim(), loginPath, scope);
  if (typeof where === 'string') return { ok: false, reason: where };
  const form = login.request_body_data !== undefined && login.request_body_data !== null;
  const body = loginValues(form ? login.request_body_data : login.request_body_json, scope);
  const given = loginValues(login.request_headers, scope);
  const headers = typeof given === 'string' ? given : { ...given, ...loginAuth.headers };
  if (typeof body === 'string') return { ok: false, reason: `login body ${body}` };
  if (typeof headers === 'string') return { ok: false, reason: `login headers ${headers}` };
  const tokenPath = Array.isArray(auth.session_token_path) ? auth.session_token_path : [];
  if (tokenPath.length === 0 || tokenPath.some((p) => typeof p !== 'string'))
    return { ok: false, reason: 'session_token_path is not a list of keys' };
  const ra = isObject(auth.request_authentication) ? auth.request_authentication : {};
  let header = 'authorization';
  let value = 'Bearer {token}';
  if (ra.type === 'ApiKey') {
    const option = isObject(ra.inject_into) ? ra.inject_into : {};
    if (option.inject_into !== 'header' || typeof option.field_name !== 'string')
      return { ok: false, reason: 'the session token is not sent in a header' };
    header = option.field_name;
    value = '{token}';
  } else if (ra.type !== 'Bearer')
    return { ok: false, reason: 'request_authentication is neither Bearer nor ApiKey' };
  const lifetime =
    typeof auth.expiration_duration === 'string' ? durationSeconds(auth.expiration_duration) : undefined;
  return {
    ok: true,
    loginOrigin: where.origin,
    ...(where.url !== undefined ? { loginUrl: where.url } : {}),
    auth: {
      type: 'session-token',
      login: {
        path: where.path,
        method: typeof login.http_method === 'string' ? login.http_method.toUpperCase() : 'POST',
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(Object.keys(body).length ? { body } : {}),
        ...(form ? { bodyFormat: 'form' } : {}),
        ...(loginAuth.basic ? { basic: loginAuth.basic } : {}),
      },
      tokenPath: (tokenPath as string[]).join('.'),
      ...(lifetime ? { lifetimeSeconds: Math.round(lifetime) } : {}),
      header,
      value,
    },
  };
}
