/**
 * OAuth2 access tokens for a connection via oauth4webapi: client credentials, a refresh token with
 * rotation (given as a secret, or stored sealed by `syncwright connection authorize` for the
 * authorization-code flow), or a signed JWT assertion (RFC 7523, service accounts). Tokens are cached in
 * memory and in Postgres (sealed) until shortly before they expire.
 * A refresh is single-flight across processes: it happens under a Postgres advisory lock on the
 * connection, and whoever gets the lock second finds the fresh token instead of asking again.
 *
 * Bounds: the token request times out after `timeoutMs`; the transaction holding the lock across it has
 * a lock timeout and an idle-in-transaction timeout just above that, so neither a hung endpoint nor a
 * hung worker holds the lock (or a Postgres connection) for longer.
 *
 * Secrets change: every save of a connection gives it a new generation. Tokens are stored with the
 * generation they were obtained under, and an instance knows the generation of the secrets it was made
 * with. Stored tokens of another generation are never used (a new connection's refresh token wins over
 * a rotated one of its previous secrets), and an instance whose connection has a newer generation
 * refuses to refresh (a retryable error: the next attempt opens the connection anew).
 */
import { recordTokenRequest } from '../../metrics/metrics.js';
import * as oauth from 'oauth4webapi';
import { sql } from 'kysely';
import type { Db } from '../../store/db.js';
import { EncryptionKeyError, type SealContext, type SecretBox } from '../../store/secret-box.js';
import { ProviderError, scrubbedError } from '../errors.js';
import { NO_PATH_SECRETS, type PathSecrets } from '../path-secrets.js';
import { authVars, resolveSecret, type AuthInputs } from './apply.js';
import { fillTemplate, textOf } from '../../template/template.js';
import { buildAssertion, JwtKeyError, privateKeyFor } from './jwt.js';
import { sessionLogin } from './session-login.js';
import { clientAuthOf, type OAuthAuthConfig as OAuthConfig, type TokenAuthConfig } from './schema.js';

/** The RFC 7523 grant type of a JWT-bearer token request. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Where a token request goes, as oauth4webapi wants it. */
export function tokenEndpoint(tokenUrl: string): oauth.AuthorizationServer {
  return { issuer: new URL(tokenUrl).origin, token_endpoint: tokenUrl };
}

/** Request options: a timeout, and plain http only for an endpoint on this machine (simulators, tests). */
export function tokenRequestOptions(url: string, timeoutMs: number) {
  const u = new URL(url);
  const loopback = u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  return {
    signal: AbortSignal.timeout(timeoutMs),
    ...(loopback ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}

/** The client and its authentication at the token endpoint, from the connection's secrets. */
export function tokenClient(
  c: Exclude<OAuthConfig, { type: 'oauth2-jwt-bearer' }>,
  inputs: AuthInputs,
): { client: oauth.Client; clientAuth: oauth.ClientAuth } {
  const client: oauth.Client = { client_id: resolveSecret(c.clientId, inputs) };
  const method = c.type === 'oauth2-authorization-code' ? clientAuthOf(c) : c.clientAuth;
  if (method === 'none' || c.clientSecret === undefined) return { client, clientAuth: oauth.None() };
  const secret = resolveSecret(c.clientSecret, inputs);
  return {
    client,
    clientAuth: method === 'post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret),
  };
}

const FIX_HINT: Record<TokenAuthConfig['type'], string> = {
  'oauth2-client-credentials': "fix the connection's client id and secret",
  'oauth2-refresh-token': "fix the connection's client id/secret or refresh token",
  'oauth2-authorization-code':
    'authorize the connection again with `syncwright connection authorize` (or fix its client id/secret)',
  'oauth2-jwt-bearer':
    "fix the connection's private key, issuer or subject (the provider refused the signed assertion)",
  'session-token': "fix the connection's login secrets",
};

/**
 * A failed token request as a ProviderError: a timeout, a transient failure (no answer, 5xx, 429), or
 * refused credentials (an AuthError, with what to fix). Never echoes the endpoint's body, which may
 * contain tokens: status and OAuth error code only.
 */
export function tokenRequestError(
  error: unknown,
  where: { integration?: string; connection?: string; method: string; path: string },
  timeoutMs: number,
  type: TokenAuthConfig['type'],
): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return new ProviderError(
      'timeout',
      `the OAuth2 token endpoint did not answer within ${timeoutMs} ms`,
      where,
    );
  const status = error instanceof oauth.ResponseBodyError ? error.status : undefined;
  const code =
    error instanceof oauth.ResponseBodyError ? error.error : error instanceof Error ? error.name : 'error';
  const transient = status === undefined || status >= 500 || status === 429;
  return new ProviderError(
    transient ? 'server' : 'auth',
    `the OAuth2 token endpoint refused the connection's credentials (${status ?? 'no answer'}, ${code})` +
      (transient ? '' : `: ${FIX_HINT[type]}`),
    where,
    status !== undefined ? { status } : {},
  );
}

/**
 * Stores a token response for a connection (sealed, bound to its row) under the generation of the
 * connection's secrets, keeping `fallbackRefresh` when the response brings no new refresh token.
 */
export async function storeTokens(
  db: Db,
  box: SecretBox,
  target: { integration: string; connection: string },
  generation: string,
  result: oauth.TokenEndpointResponse,
  fallbackRefresh?: string,
  /** The token response field naming the instance URL (auth.instanceUrl.field), and the one to keep without it. */
  instance?: { field: string; fallback: string | null },
): Promise<{ token: string; expiresAt: number | null; instanceUrl: string | null }> {
  const { integration, connection } = target;
  const named = instance ? result[instance.field] : undefined;
  const instanceUrl = typeof named === 'string' && named !== '' ? named : (instance?.fallback ?? null);
  const expiresAt = result.expires_in !== undefined ? Date.now() + result.expires_in * 1000 : null;
  const refreshToken = result.refresh_token ?? fallbackRefresh;
  const values = {
    access_token_sealed: box.seal(result.access_token, { what: 'oauth-access-token', ...target }),
    expires_at: expiresAt === null ? null : new Date(expiresAt),
    refresh_token_sealed: refreshToken
      ? box.seal(refreshToken, { what: 'oauth-refresh-token', ...target })
      : null,
    generation,
    instance_url: instanceUrl,
  };
  await db
    .insertInto('oauth_tokens')
    .values({ integration, connection, ...values })
    .onConflict((oc) =>
      oc.columns(['integration', 'connection']).doUpdateSet({ ...values, updated_at: sql`now()` }),
    )
    .execute();
  return { token: result.access_token, expiresAt, instanceUrl };
}

/** Tokens are refreshed this long before they expire. */
const EXPIRY_SKEW_MS = 60_000;
/** A token request's timeout unless the caller gives one. */
export const DEFAULT_TOKEN_TIMEOUT_MS = 30_000;
/** How much longer than a token request the Postgres side of a refresh may take. */
const DB_MARGIN_MS = 5_000;

interface Cached {
  token: string;
  expiresAt: number | null;
  instanceUrl: string | null;
}

export interface OAuth2TokensOptions {
  /** The generation of the connection whose secrets `inputs` holds (connections.generation). */
  generation: string;
  /** Timeout of one token request (default 30 s). */
  timeoutMs?: number;
  /**
   * Secrets in the token URL's path (`https://login.example.com/{secrets.tenant_id}/oauth2/token`):
   * revealed only in the URL the token request is sent to; errors are scrubbed of them.
   */
  pathSecrets?: PathSecrets;
}

export class OAuth2Tokens {
  private cached: Cached | undefined;
  private inFlight: Promise<string> | undefined;
  private stale = false;
  readonly generation: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox | undefined,
    private readonly config: TokenAuthConfig,
    private readonly inputs: AuthInputs,
    private readonly target: { integration: string; connection: string },
    options: OAuth2TokensOptions,
    /** Token requests made by this instance (for tests and logs). */
    readonly stats = { tokenRequests: 0 },
  ) {
    this.generation = options.generation;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
    this.pathSecrets = options.pathSecrets ?? NO_PATH_SECRETS;
  }
  private readonly pathSecrets: PathSecrets;

  /**
   * The instance URL the current token's response named (auth.instanceUrl), as stored: unchecked, the
   * caller checks it against the spec's hosts. Null before a token, or when none was named.
   */
  instanceUrl(): string | null {
    return this.cached?.instanceUrl ?? null;
  }

  /** The connection was saved again: this instance's secrets and tokens are never used again. */
  invalidate(): void {
    this.stale = true;
    this.cached = undefined;
  }

  private context(what: SealContext['what']): SealContext {
    return { what, ...this.target };
  }

  private changed(removed = false): ProviderError {
    return new ProviderError(
      'server',
      removed
        ? 'the connection was removed while this request ran'
        : "the connection's secrets were replaced while this request ran: the next attempt uses the new ones",
      { ...this.target, method: 'POST', path: new URL(this.config.tokenUrl).pathname },
    );
  }

  private fresh(c: Cached | undefined): c is Cached {
    return c !== undefined && (c.expiresAt === null || c.expiresAt - EXPIRY_SKEW_MS > Date.now());
  }

  /** A valid access token: from memory, from Postgres, or from the token endpoint. */
  async token(): Promise<string> {
    if (this.stale) throw this.changed();
    if (this.fresh(this.cached)) return this.cached.token;
    this.inFlight ??= this.refresh(undefined).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /**
   * The provider refused `rejected`: get another. If another worker already replaced it, that one is
   * used; otherwise the token endpoint is asked once.
   */
  async renew(rejected: string): Promise<string> {
    if (this.stale) throw this.changed();
    if (this.cached?.token !== rejected && this.fresh(this.cached)) return this.cached.token;
    this.cached = undefined;
    this.inFlight ??= this.refresh(rejected).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private sealer(): SecretBox {
    if (!this.box)
      throw new EncryptionKeyError('OAuth2 tokens are stored encrypted: set SYNCWRIGHT_ENCRYPTION_KEY');
    return this.box;
  }

  private async refresh(rejected: string | undefined): Promise<string> {
    const box = this.sealer();
    const { integration, connection } = this.target;
    const access = this.context('oauth-access-token');
    const token = await this.db
      .transaction()
      .execute(async (tx) => {
        // The lock is held across the token request (bounded by timeoutMs): a waiter gives up after the
        // longest a holder can take, and Postgres ends this session if the worker hangs mid-transaction.
        const bound = `${this.timeoutMs + DB_MARGIN_MS}ms`;
        await sql`select set_config('lock_timeout', ${bound}, true),
                         set_config('idle_in_transaction_session_timeout', ${bound}, true)`.execute(tx);
        // Serialises refreshes of this connection across every process sharing the database.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`oauth:${integration}:${connection}`}, 0))`.execute(
          tx,
        );
        const current = await tx
          .selectFrom('connections')
          .select('generation')
          .where('integration', '=', integration)
          .where('id', '=', connection)
          .executeTakeFirst();
        if (String(current?.generation) !== this.generation) {
          this.invalidate();
          throw this.changed(current === undefined);
        }
        const found = await tx
          .selectFrom('oauth_tokens')
          .selectAll()
          .where('integration', '=', integration)
          .where('connection', '=', connection)
          .executeTakeFirst();
        // Tokens of an earlier generation belong to replaced secrets: never used, overwritten below.
        const row = found && String(found.generation) === this.generation ? found : undefined;
        if (row) {
          const stored: Cached = {
            token: box.open(row.access_token_sealed, access),
            expiresAt: row.expires_at?.getTime() ?? null,
            instanceUrl: row.instance_url,
          };
          if (this.fresh(stored) && stored.token !== rejected) return stored;
        }
        const storedRefresh = row?.refresh_token_sealed
          ? box.open(row.refresh_token_sealed, this.context('oauth-refresh-token'))
          : undefined;
        if (this.config.type === 'oauth2-authorization-code' && storedRefresh === undefined) {
          throw new ProviderError(
            'auth',
            row
              ? 'the access token expired or was refused, and the provider gave no refresh token: authorize the connection again with `syncwright connection authorize`'
              : `the connection is not authorized (or was saved again since): run \`syncwright connection authorize ${integration} --id ${connection}\``,
            { ...this.target, method: 'POST', path: new URL(this.config.tokenUrl).pathname },
          );
        }
        const result = await this.requestToken(storedRefresh);
        const instanceUrl = 'instanceUrl' in this.config ? this.config.instanceUrl : undefined;
        const instance = instanceUrl
          ? { field: instanceUrl.field, fallback: row?.instance_url ?? null }
          : undefined;
        return storeTokens(tx, box, this.target, this.generation, result, storedRefresh, instance);
      })
      .catch((error: unknown) => {
        // 55P03: another worker's refresh held the lock past its bound.
        if ((error as { code?: unknown }).code !== '55P03') throw error;
        throw new ProviderError(
          'timeout',
          `another token request for this connection held its lock for more than ${this.timeoutMs + DB_MARGIN_MS} ms`,
          { ...this.target, method: 'POST', path: new URL(this.config.tokenUrl).pathname },
        );
      });
    this.cached = token;
    return token.token;
  }

  /** One token request, counted in syncwright_token_refreshes_total by outcome. */
  private async requestToken(storedRefresh: string | undefined): Promise<oauth.TokenEndpointResponse> {
    const { integration, connection } = this.target;
    try {
      const r = await this.requestTokenOnce(storedRefresh);
      recordTokenRequest(integration, connection, true);
      return r;
    } catch (error) {
      recordTokenRequest(integration, connection, false);
      throw error;
    }
  }

  private async requestTokenOnce(storedRefresh: string | undefined): Promise<oauth.TokenEndpointResponse> {
    const c = this.config;
    // c.tokenUrl carries the markers of path secrets (errors quote its path); the request goes to `wire`.
    const wire = this.pathSecrets.reveal(c.tokenUrl);
    const as = tokenEndpoint(wire);
    const options = tokenRequestOptions(wire, this.timeoutMs);
    const where = { ...this.target, method: 'POST', path: new URL(c.tokenUrl).pathname };
    this.stats.tokenRequests++;
    try {
      if (c.type === 'session-token')
        return (await sessionLogin(
          c,
          wire,
          this.inputs,
          this.timeoutMs,
          this.target,
        )) as oauth.TokenEndpointResponse;
      if (c.type === 'oauth2-jwt-bearer') {
        const params: Record<string, string> = { assertion: this.assertion(c, wire) };
        if (c.scopes.length && c.scopesIn === 'request') params.scope = c.scopes.join(' ');
        // The assertion is the credential: no client authentication, no client_id in the body.
        const client: oauth.Client = { client_id: resolveSecret(c.issuer, this.inputs) };
        const response = await oauth.genericTokenEndpointRequest(
          as,
          client,
          () => undefined,
          JWT_BEARER_GRANT,
          params,
          options,
        );
        return await oauth.processGenericTokenEndpointResponse(as, client, response);
      }
      const { client, clientAuth } = tokenClient(c, this.inputs);
      const more = 'tokenParams' in c ? this.tokenParams(c.tokenParams) : {};
      if (c.type === 'oauth2-client-credentials') {
        const params: Record<string, string> = { ...more };
        if (c.scopes.length) params.scope = c.scopes.join(' ');
        if (c.audience) params.audience = c.audience;
        const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, params, options);
        return await oauth.processClientCredentialsResponse(as, client, response);
      }
      const refreshToken =
        storedRefresh ??
        (c.type === 'oauth2-refresh-token' ? resolveSecret(c.refreshToken, this.inputs) : '');
      const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, {
        ...options,
        ...(Object.keys(more).length ? { additionalParameters: more } : {}),
      });
      return await oauth.processRefreshTokenResponse(as, client, response);
    } catch (error) {
      const failure = tokenRequestError(error, where, this.timeoutMs, c.type);
      return Promise.reject(this.pathSecrets.any ? scrubbedError(failure, this.pathSecrets.scrub) : failure);
    }
  }

  /** The spec's extra token request fields, filled from the connection's secrets and config. */
  private tokenParams(params: Readonly<Record<string, string>>): Record<string, string> {
    const vars = authVars(this.inputs);
    return Object.fromEntries(Object.entries(params).map(([k, t]) => [k, textOf(fillTemplate(t, vars))]));
  }

  /** A fresh signed assertion; a key that does not parse or fit the algorithm is an AuthError. */
  private assertion(c: Extract<OAuthConfig, { type: 'oauth2-jwt-bearer' }>, wire: string): string {
    const inputs = this.inputs;
    const optional = (ref: typeof c.subject) => (ref === undefined ? undefined : resolveSecret(ref, inputs));
    try {
      return buildAssertion({
        alg: c.algorithm,
        privateKey: privateKeyFor(resolveSecret(c.privateKey, inputs), c.algorithm, inputs.where),
        keyId: optional(c.keyId),
        issuer: resolveSecret(c.issuer, inputs),
        subject: optional(c.subject),
        audience: c.audience ?? wire,
        scope: c.scopes.length && c.scopesIn === 'claim' ? c.scopes.join(' ') : undefined,
        lifetimeSeconds: c.lifetimeSeconds,
        now: Math.floor(Date.now() / 1000),
      });
    } catch (error) {
      if (!(error instanceof JwtKeyError)) throw error;
      throw new ProviderError('auth', error.message, {
        ...this.target,
        method: 'POST',
        path: new URL(c.tokenUrl).pathname,
      });
    }
  }
}
