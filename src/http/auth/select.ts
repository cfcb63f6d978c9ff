/**
 * A spec's auth may offer several options (`type: select`, Airbyte's SelectiveAuthenticator), of which
 * each connection uses one: the option its config field `auth.by` names, else `auth.default`. Everything
 * that authenticates a connection (requests, token caches and refreshes, redaction, `connection
 * authorize`) first resolves the spec's auth to the connection's own with `chosenAuth`, so from there on
 * a connection has exactly one auth, as if its spec had only that.
 *
 *   const { auth } = chosenAuth(spec.auth, connection.config, 'connection harvest/acme');
 */
import type { AuthConfig, SelectAuthConfig, SpecAuthConfig } from './schema.js';

/** A connection whose config names no option of its spec's auth, or one the spec does not have. */
export class AuthOptionError extends Error {
  override name = 'AuthOptionError';
}

export function isSelectAuth(auth: SpecAuthConfig): auth is SelectAuthConfig {
  return auth.type === 'select';
}

/** One auth a spec may use: the spec's own, or one of its options (with its name and path in the spec). */
export interface AuthChoice {
  option?: string;
  auth: AuthConfig;
  /** Where it is in the spec: `['auth']` or `['auth', 'options', name]`. */
  at: (string | number)[];
}

/** Every auth a spec's connections may use, each with where it is in the spec. */
export function authChoices(auth: SpecAuthConfig): AuthChoice[] {
  if (!isSelectAuth(auth)) return [{ auth, at: ['auth'] }];
  return Object.entries(auth.options).map(([option, a]) => ({
    option,
    auth: a,
    at: ['auth', 'options', option],
  }));
}

const listed = (auth: SelectAuthConfig) =>
  Object.keys(auth.options)
    .map((o) => JSON.stringify(o))
    .join(', ');

/**
 * The name of the option a connection's config selects, or what is wrong with it (naming the config
 * field and the valid choices). A value of the wrong kind is never quoted: it may be a pasted secret.
 */
export function selectedOption(
  auth: SelectAuthConfig,
  config: Readonly<Record<string, unknown>>,
): { option: string } | { problem: string } {
  const value = config[auth.by];
  if (value === undefined || value === null || value === '') {
    if (auth.default !== undefined) return { option: auth.default };
    return {
      problem: `config.${auth.by}: required: the auth option this connection uses (one of ${listed(auth)})`,
    };
  }
  if (typeof value !== 'string')
    return {
      problem: `config.${auth.by}: expected the name of an auth option (one of ${listed(auth)}), got a ${typeof value}`,
    };
  if (!Object.hasOwn(auth.options, value))
    return {
      problem: `config.${auth.by}: ${JSON.stringify(value)} is not an auth option of this integration (options: ${listed(auth)})`,
    };
  return { option: value };
}

/**
 * The auth a connection uses: the spec's, or the option its config selects (AuthOptionError, naming the
 * config field and the options, when it selects none of them). `where` starts the error message.
 */
export function chosenAuth(
  auth: SpecAuthConfig,
  config: Readonly<Record<string, unknown>>,
  where: string,
): { option?: string; auth: AuthConfig } {
  if (!isSelectAuth(auth)) return { auth };
  const chosen = selectedOption(auth, config);
  if ('problem' in chosen) throw new AuthOptionError(`${where}: ${chosen.problem}`);
  return { option: chosen.option, auth: auth.options[chosen.option]! };
}

const SECRET_PLACEHOLDER = /\{secrets\.([A-Za-z_][A-Za-z0-9_]*)/g;

/** The `{secrets.name}` placeholders of every string in a value. */
export function secretPlaceholders(value: unknown): string[] {
  return [...JSON.stringify(value ?? null).matchAll(SECRET_PLACEHOLDER)].map((m) => m[1]!);
}

/** The connection secrets (by name) an auth uses: its secret references and `{secrets.x}` in its templates. */
export function authSecretNames(auth: AuthConfig): string[] {
  const refs: unknown[] = [];
  switch (auth.type) {
    case 'bearer':
      refs.push(auth.token);
      break;
    case 'api-key':
      refs.push(auth.value);
      break;
    case 'basic':
      refs.push(auth.username, auth.password);
      break;
    case 'oauth2-client-credentials':
    case 'oauth2-authorization-code':
      refs.push(auth.clientId, auth.clientSecret);
      break;
    case 'oauth2-refresh-token':
      refs.push(auth.clientId, auth.clientSecret, auth.refreshToken);
      break;
    case 'oauth2-jwt-bearer':
      refs.push(auth.privateKey, auth.issuer, auth.subject, auth.keyId);
      break;
    case 'session-token':
      refs.push(auth.login.basic?.username, auth.login.basic?.password);
      break;
    case 'none':
    case 'custom-headers':
      break;
  }
  const names = refs.filter((r): r is string => typeof r === 'string');
  return [...new Set([...names, ...secretPlaceholders(auth)])];
}
