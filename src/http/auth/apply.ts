/** Turns an auth config and a connection's secrets into what a request carries. */
import { fillTemplate, textOf, type TemplateVars } from '../../template/template.js';
import type { AuthConfig, AuthExtra, Credential, SecretRef, SpecAuthConfig } from './schema.js';
import { authChoices, chosenAuth } from './select.js';

export interface AppliedAuth {
  headers: Record<string, string>;
  query: Record<string, string>;
  /** Query parameters holding secrets, redacted from every error and log. */
  secretParams: string[];
  /** Fields of a form body (api-key `in: form`); bodies are never logged. */
  form?: Record<string, string>;
}

export class MissingSecretError extends Error {
  override name = 'MissingSecretError';
}

export interface AuthInputs {
  secrets: Readonly<Record<string, string>>;
  config: Readonly<Record<string, unknown>>;
  /** Environment for `{ env: NAME }` references (the worker's, passed in by the entry point). */
  env: Readonly<Record<string, string | undefined>>;
  /** For error messages: which connection is missing what. */
  where: string;
}

export function resolveSecret(ref: SecretRef, inputs: AuthInputs): string {
  if (typeof ref === 'string') {
    const value = inputs.secrets[ref];
    if (value === undefined || value === '') {
      throw new MissingSecretError(
        `${inputs.where} has no secret "${ref}": set it with \`syncwright connection add ... --secret ${ref}=...\``,
      );
    }
    return value;
  }
  const value = inputs.env[ref.env];
  if (value === undefined || value === '')
    throw new MissingSecretError(`environment variable ${ref.env} is not set (needed by ${inputs.where})`);
  return value;
}

/** A basic-auth part: a secret, or the fixed text the spec writes (`{ value: 'x' }`). */
export function resolveCredential(ref: Credential, inputs: AuthInputs): string {
  return typeof ref === 'object' && 'value' in ref ? ref.value : resolveSecret(ref, inputs);
}

/** Names auth templates may use: `{secrets.name}` and `{config.name}` (and `{now}`), with filters. */
export function authVars(inputs: AuthInputs): TemplateVars {
  return (name) => {
    const dot = name.indexOf('.');
    const kind = name.slice(0, dot);
    const key = name.slice(dot + 1);
    if (kind === 'secrets') return resolveSecret(key, inputs);
    if (kind !== 'config') return undefined;
    const v = inputs.config[key];
    if (v === undefined) throw new MissingSecretError(`${inputs.where} has no config field "${key}"`);
    return v;
  };
}

function fillAuthTemplate(template: string, inputs: AuthInputs): string {
  return textOf(fillTemplate(template, authVars(inputs)));
}

/**
 * Static credentials and the auth's `extra` ones; OAuth2 and session tokens get their header from an
 * OAuth2Tokens instance instead. An extra never replaces what the auth itself sends. A spec's auth with
 * options (`type: select`) applies the option the connection's config selects (AuthOptionError if none).
 */
export function applyAuth(given: SpecAuthConfig, inputs: AuthInputs): AppliedAuth {
  const auth = chosenAuth(given, inputs.config, inputs.where).auth;
  const own = ownAuth(auth, inputs);
  const more = 'extra' in auth ? auth.extra : undefined;
  return more ? withExtra(own, more, inputs) : own;
}

/**
 * The query parameters an auth puts secrets in, known without its secrets (for redaction); of every
 * option, for a spec's auth with options.
 */
export function querySecretNames(given: SpecAuthConfig): string[] {
  if (given.type === 'select')
    return [...new Set(authChoices(given).flatMap((c) => querySecretNames(c.auth)))];
  const auth = given;
  const own = auth.type === 'api-key' && auth.in === 'query' ? [auth.name] : [];
  const more = 'extra' in auth && auth.extra ? Object.keys(auth.extra.query) : [];
  return [...new Set([...own, ...more])];
}

function withExtra(own: AppliedAuth, more: AuthExtra, inputs: AuthInputs): AppliedAuth {
  const headers = { ...own.headers };
  for (const [k, t] of Object.entries(more.headers)) headers[k.toLowerCase()] ??= fillAuthTemplate(t, inputs);
  const query = { ...own.query };
  for (const [k, t] of Object.entries(more.query)) query[k] ??= fillAuthTemplate(t, inputs);
  const secretParams = [...new Set([...own.secretParams, ...Object.keys(more.query)])];
  return { headers, query, secretParams };
}

function ownAuth(auth: AuthConfig, inputs: AuthInputs): AppliedAuth {
  switch (auth.type) {
    case 'oauth2-client-credentials':
    case 'oauth2-refresh-token':
    case 'oauth2-authorization-code':
    case 'oauth2-jwt-bearer':
    case 'session-token':
      return { headers: {}, query: {}, secretParams: [] };
    case 'none':
      return { headers: {}, query: {}, secretParams: [] };
    case 'bearer':
      return {
        headers: { authorization: `Bearer ${resolveSecret(auth.token, inputs)}` },
        query: {},
        secretParams: [],
      };
    case 'basic': {
      const password = auth.password === undefined ? '' : resolveCredential(auth.password, inputs);
      const pair = `${resolveCredential(auth.username, inputs)}:${password}`;
      return {
        headers: { authorization: `Basic ${Buffer.from(pair).toString('base64')}` },
        query: {},
        secretParams: [],
      };
    }
    case 'api-key': {
      const value = `${auth.prefix ?? ''}${resolveSecret(auth.value, inputs)}`;
      if (auth.in === 'form')
        return { headers: {}, query: {}, secretParams: [], form: { [auth.name]: value } };
      return auth.in === 'header'
        ? { headers: { [auth.name.toLowerCase()]: value }, query: {}, secretParams: [] }
        : { headers: {}, query: { [auth.name]: value }, secretParams: [auth.name] };
    }
    case 'custom-headers':
      return {
        headers: Object.fromEntries(
          Object.entries(auth.headers).map(([k, t]) => [k.toLowerCase(), fillAuthTemplate(t, inputs)]),
        ),
        query: {},
        secretParams: [],
      };
  }
}
