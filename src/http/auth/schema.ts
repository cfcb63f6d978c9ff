import { z } from 'zod';
import { dotPath } from '../../json/path.js';
import { urlTemplateSchema } from './urls.js';
import { instanceUrlSchema } from '../instance-url.js';

/**
 * A secret is never written in a spec: it is the name of a secret the connection supplies, or
 * `{ env: NAME }` for one read from the worker's environment.
 */
export const secretRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name') }),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

/**
 * A basic-auth part: a secret, or `{ value: 'x' }` for text the provider fixes for everyone (BambooHR's
 * password "x", Mailgun's user name "api"), which is no secret and which connections need not supply.
 */
export const credentialSchema = z.union([secretRefSchema, z.strictObject({ value: z.string() })]);
export type Credential = z.infer<typeof credentialSchema>;

/**
 * More credentials sent with every authenticated request, next to the auth's own: header or query
 * parameter name → template over {secrets.name} and {config.name} (Harvest's Harvest-Account-Id next
 * to its bearer token). They go exactly where the auth's own credentials go, never elsewhere; query
 * values are redacted wherever a URL is reported.
 */
export const authExtraSchema = z.strictObject({
  headers: z.record(z.string().min(1), z.string()).default({}),
  query: z.record(z.string().min(1), z.string()).default({}),
});
export type AuthExtra = z.infer<typeof authExtraSchema>;
const extra = { extra: authExtraSchema.optional() };

/**
 * More form fields of a token request (name → template over {secrets.name} and {config.name}), e.g.
 * Box's box_subject_type; fields the grant sets itself cannot be given (spec-checks.ts).
 */
const tokenParamsSchema = z.record(z.string().min(1), z.string()).default({});

/**
 * Token request fields the grants set themselves: tokenParams may not override them, so a connection's
 * config can never turn a refresh into another grant or replace its credentials.
 */
export const RESERVED_TOKEN_PARAMS = [
  'grant_type',
  'client_id',
  'client_secret',
  'refresh_token',
  'assertion',
  'client_assertion',
  'client_assertion_type',
] as const;

/** Authorize URL parameters the flow sets itself; a spec's authorizeParams may not override them. */
export const RESERVED_AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'code_challenge',
  'code_challenge_method',
] as const;

const bearerAuthSchema = z.strictObject({ type: z.literal('bearer'), token: secretRefSchema, ...extra });
const apiKeyAuthSchema = z.strictObject({
  type: z.literal('api-key'),
  /**
   * `form`: a field of the request's HTML form body (Canny's `apiKey`); a request without a body sends
   * a form of the key alone. Resources with a body must send it as a form.
   */
  in: z.enum(['header', 'query', 'form']),
  name: z.string().min(1),
  value: secretRefSchema,
  /** Header value prefix, e.g. "Token ". */
  prefix: z.string().optional(),
  ...extra,
});
const basicAuthSchema = z.strictObject({
  type: z.literal('basic'),
  username: credentialSchema,
  /** Left out: an empty password, for providers that take an API key as the user name (Close, Dropbox Sign). */
  password: credentialSchema.optional(),
  ...extra,
});
const customHeadersAuthSchema = z.strictObject({
  type: z.literal('custom-headers'),
  /** Header name → template with {secrets.name} and {config.name}. */
  headers: z.record(z.string().min(1), z.string()),
  ...extra,
});

export const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  bearerAuthSchema,
  apiKeyAuthSchema,
  basicAuthSchema,
  z.strictObject({
    type: z.literal('oauth2-client-credentials'),
    tokenUrl: urlTemplateSchema,
    clientId: secretRefSchema,
    clientSecret: secretRefSchema,
    scopes: z.array(z.string()).default([]),
    audience: z.string().optional(),
    /** How the client authenticates at the token endpoint (default: HTTP basic). */
    clientAuth: z.enum(['basic', 'post']).default('basic'),
    /** The connection's API host comes with the token (baseUrl "{instanceUrl}/…"): instance-url.ts. */
    instanceUrl: instanceUrlSchema.optional(),
    tokenParams: tokenParamsSchema,
    ...extra,
  }),
  z.strictObject({
    type: z.literal('oauth2-refresh-token'),
    tokenUrl: urlTemplateSchema,
    clientId: secretRefSchema,
    clientSecret: secretRefSchema,
    /** The first refresh token; rotated ones are stored (encrypted) and used from then on. */
    refreshToken: secretRefSchema,
    clientAuth: z.enum(['basic', 'post']).default('basic'),
    /** The connection's API host comes with the token (baseUrl "{instanceUrl}/…"): instance-url.ts. */
    instanceUrl: instanceUrlSchema.optional(),
    tokenParams: tokenParamsSchema,
    ...extra,
  }),
  z.strictObject({
    type: z.literal('oauth2-authorization-code'),
    /** Where the user approves access (`syncwright connection authorize` opens it). */
    authorizeUrl: urlTemplateSchema,
    tokenUrl: urlTemplateSchema,
    clientId: secretRefSchema,
    /** Absent for a public client (`clientAuth: none`): PKCE is what protects its code. */
    clientSecret: secretRefSchema.optional(),
    /** How the client authenticates at the token endpoint (default: basic, or none without a secret). */
    clientAuth: z.enum(['basic', 'post', 'none']).optional(),
    scopes: z.array(z.string().min(1)).default([]),
    /** More query parameters of the authorize URL, e.g. Google's access_type: offline. */
    authorizeParams: z.record(z.string().min(1), z.string()).default({}),
    /**
     * Token response field → connectionConfig field it is saved into at authorization, e.g.
     * Salesforce's `instance_url: instanceUrl`. The config field's own rules (type, pattern) apply.
     */
    tokenResponseFields: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** The connection's API host comes with the token (baseUrl "{instanceUrl}/…"): instance-url.ts. */
    instanceUrl: instanceUrlSchema.optional(),
    ...extra,
  }),
  z.strictObject({
    type: z.literal('oauth2-jwt-bearer'),
    tokenUrl: urlTemplateSchema,
    /** PEM private key (PKCS#8, or PKCS#1/SEC1) that signs the assertion. */
    privateKey: secretRefSchema,
    /** The assertion's `iss`, e.g. a Google service account's client_email. */
    issuer: secretRefSchema,
    /** The assertion's `sub`: a user to act as (domain-wide delegation), when the provider allows it. */
    subject: secretRefSchema.optional(),
    /** The JWT header's `kid`, e.g. a Google service account's private_key_id. */
    keyId: secretRefSchema.optional(),
    /** The assertion's `aud` (default: tokenUrl). */
    audience: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).default([]),
    /** Scopes go in the assertion's `scope` claim (Google) or in the token request's `scope` parameter. */
    scopesIn: z.enum(['claim', 'request']).default('claim'),
    algorithm: z.enum(['RS256', 'ES256']).default('RS256'),
    /** Seconds from the assertion's `iat` to its `exp` (providers cap it: Google at 3600). */
    lifetimeSeconds: z.number().int().min(30).max(86_400).default(3600),
    /** The connection's API host comes with the token (baseUrl "{instanceUrl}/…"): instance-url.ts. */
    instanceUrl: instanceUrlSchema.optional(),
    ...extra,
  }),
  z.strictObject({
    type: z.literal('session-token'),
    /**
     * The login request: its path under baseUrl, or a whole `url` written in the spec (a login host of
     * its own, such as Docker Hub's auth.docker.io): a literal, so no connection can send the login
     * secrets anywhere else. Headers and body are templates over {secrets.name} and {config.name}.
     */
    login: z.strictObject({
      path: z.string().startsWith('/', 'must start with "/" (a path under baseUrl)').optional(),
      url: z.string().min(1).optional(),
      method: z.enum(['POST', 'GET', 'PUT']).default('POST'),
      headers: z.record(z.string(), z.string()).default({}),
      body: z.record(z.string(), z.unknown()).optional(),
      /** How the body is sent: JSON or an HTML form (application/x-www-form-urlencoded). */
      bodyFormat: z.enum(['json', 'form']).default('json'),
      /** The login request itself authenticated with HTTP basic (Akeneo's client id and secret). */
      basic: z.strictObject({ username: credentialSchema, password: credentialSchema.optional() }).optional(),
    }),
    /** Where the token is in the login answer: a body path (`session.token`) or a header. */
    tokenPath: dotPath().min(1).optional(),
    tokenHeader: z.string().min(1).optional(),
    /** The token's lifetime in seconds, from the answer; else lifetimeSeconds; else until refused (401). */
    expiresInPath: dotPath().min(1).optional(),
    lifetimeSeconds: z.number().int().min(1).optional(),
    /** The header that carries the token, and its value as a template of {token}. */
    header: z.string().min(1).default('authorization'),
    value: z.string().default('Bearer {token}'),
    ...extra,
  }),
  customHeadersAuthSchema,
]);
export type AuthConfig = z.infer<typeof authSchema>;

/**
 * Several ways to authenticate, of which each connection uses one (Airbyte's SelectiveAuthenticator:
 * an OAuth2 refresh token or a personal access token). The connection's config field `by` names the
 * option; `default` is the option of a connection whose config has no value there. Options are auths of
 * every other type; each connection needs the secrets of its own option only (select.ts).
 */
export const selectAuthSchema = z.strictObject({
  type: z.literal('select'),
  /** The connectionConfig field (a string) whose value is the name of the option a connection uses. */
  by: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a connectionConfig field name'),
  options: z
    .record(z.string().min(1), authSchema)
    .refine((o) => Object.keys(o).length > 0, 'at least one option'),
  /** The option of a connection whose config leaves `by` out. */
  default: z.string().min(1).optional(),
});
export type SelectAuthConfig = z.infer<typeof selectAuthSchema>;

/** A spec's `auth`: one auth, or a choice between several (`type: select`). */
export const specAuthSchema = z.discriminatedUnion('type', [...authSchema.options, selectAuthSchema]);
export type SpecAuthConfig = z.infer<typeof specAuthSchema>;

/**
 * A resource's own auth, in place of the spec's for that resource's requests (Rollbar's project token
 * next to its account token): static credentials only, so token caches and refreshes stay per spec.
 */
export const resourceAuthSchema = z.discriminatedUnion('type', [
  bearerAuthSchema,
  apiKeyAuthSchema,
  basicAuthSchema,
  customHeadersAuthSchema,
]);
export type ResourceAuthConfig = z.infer<typeof resourceAuthSchema>;

/** Auth types whose requests carry an OAuth2 access token from an OAuth2Tokens instance. */
export type OAuthAuthConfig = Extract<
  AuthConfig,
  {
    type:
      | 'oauth2-client-credentials'
      | 'oauth2-refresh-token'
      | 'oauth2-authorization-code'
      | 'oauth2-jwt-bearer';
  }
>;

export function isOAuthAuth(auth: AuthConfig): auth is OAuthAuthConfig {
  return (
    auth.type === 'oauth2-client-credentials' ||
    auth.type === 'oauth2-refresh-token' ||
    auth.type === 'oauth2-authorization-code' ||
    auth.type === 'oauth2-jwt-bearer'
  );
}

/** The client authentication of an authorization-code client: as given, else basic with a secret. */
export function clientAuthOf(
  auth: Extract<AuthConfig, { type: 'oauth2-authorization-code' }>,
): 'basic' | 'post' | 'none' {
  return auth.clientAuth ?? (auth.clientSecret === undefined ? 'none' : 'basic');
}

export type SessionTokenAuthConfig = Extract<AuthConfig, { type: 'session-token' }>;

/** Auth types whose tokens are obtained, cached, stored sealed and refreshed single-flight (oauth2.ts). */
export type TokenAuthConfig = OAuthAuthConfig | (SessionTokenAuthConfig & { tokenUrl: string });

export function usesTokens(auth: AuthConfig): auth is OAuthAuthConfig | SessionTokenAuthConfig {
  return isOAuthAuth(auth) || auth.type === 'session-token';
}
