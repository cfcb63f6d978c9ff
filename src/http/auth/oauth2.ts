/**
 * OAuth2 access tokens for a connection (client credentials, or refresh token with rotation), via
 * oauth4webapi. Tokens are cached in memory and in Postgres (sealed) until shortly before they expire.
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
import * as oauth from 'oauth4webapi';
import { sql } from 'kysely';
import type { Db } from '../../store/db.js';
import { EncryptionKeyError, type SealContext, type SecretBox } from '../../store/secret-box.js';
import { ProviderError } from '../errors.js';
import { resolveSecret, type AuthInputs } from './apply.js';
import type { AuthConfig } from './schema.js';

type OAuthConfig = Extract<AuthConfig, { type: 'oauth2-client-credentials' | 'oauth2-refresh-token' }>;

/** Tokens are refreshed this long before they expire. */
const EXPIRY_SKEW_MS = 60_000;
/** A token request's timeout unless the caller gives one. */
export const DEFAULT_TOKEN_TIMEOUT_MS = 30_000;
/** How much longer than a token request the Postgres side of a refresh may take. */
const DB_MARGIN_MS = 5_000;

interface Cached {
  token: string;
  expiresAt: number | null;
}

export interface OAuth2TokensOptions {
  /** The generation of the connection whose secrets `inputs` holds (connections.generation). */
  generation: string;
  /** Timeout of one token request (default 30 s). */
  timeoutMs?: number;
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
    private readonly config: OAuthConfig,
    private readonly inputs: AuthInputs,
    private readonly target: { integration: string; connection: string },
    options: OAuth2TokensOptions,
    /** Token requests made by this instance (for tests and logs). */
    readonly stats = { tokenRequests: 0 },
  ) {
    this.generation = options.generation;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
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
    const refreshCtx = this.context('oauth-refresh-token');
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
          };
          if (this.fresh(stored) && stored.token !== rejected) return stored;
        }
        const storedRefresh = row?.refresh_token_sealed
          ? box.open(row.refresh_token_sealed, refreshCtx)
          : undefined;
        const result = await this.requestToken(storedRefresh);
        const expiresAt = result.expires_in !== undefined ? Date.now() + result.expires_in * 1000 : null;
        const refreshToken = result.refresh_token ?? storedRefresh;
        const values = {
          access_token_sealed: box.seal(result.access_token, access),
          expires_at: expiresAt === null ? null : new Date(expiresAt),
          refresh_token_sealed: refreshToken ? box.seal(refreshToken, refreshCtx) : null,
          generation: this.generation,
        };
        await tx
          .insertInto('oauth_tokens')
          .values({ integration, connection, ...values })
          .onConflict((oc) =>
            oc.columns(['integration', 'connection']).doUpdateSet({ ...values, updated_at: sql`now()` }),
          )
          .execute();
        return { token: result.access_token, expiresAt };
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

  private async requestToken(storedRefresh: string | undefined): Promise<oauth.TokenEndpointResponse> {
    const c = this.config;
    const url = new URL(c.tokenUrl);
    const as: oauth.AuthorizationServer = { issuer: url.origin, token_endpoint: c.tokenUrl };
    const client: oauth.Client = { client_id: resolveSecret(c.clientId, this.inputs) };
    const secret = resolveSecret(c.clientSecret, this.inputs);
    const clientAuth =
      c.clientAuth === 'post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
    // Plain http only for a token endpoint on this machine (local simulators and tests).
    const loopback = url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    const options = {
      signal: AbortSignal.timeout(this.timeoutMs),
      ...(loopback ? { [oauth.allowInsecureRequests]: true } : {}),
    };
    this.stats.tokenRequests++;
    try {
      if (c.type === 'oauth2-client-credentials') {
        const params: Record<string, string> = {};
        if (c.scopes.length) params.scope = c.scopes.join(' ');
        if (c.audience) params.audience = c.audience;
        const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, params, options);
        return await oauth.processClientCredentialsResponse(as, client, response);
      }
      const refreshToken = storedRefresh ?? resolveSecret(c.refreshToken, this.inputs);
      const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, options);
      return await oauth.processRefreshTokenResponse(as, client, response);
    } catch (error) {
      const where = {
        integration: this.target.integration,
        connection: this.target.connection,
        method: 'POST',
        path: url.pathname,
      };
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        return Promise.reject(
          new ProviderError(
            'timeout',
            `the OAuth2 token endpoint did not answer within ${this.timeoutMs} ms`,
            where,
          ),
        );
      }
      // Never echo the token endpoint's body: it may contain tokens. Status and OAuth error code only.
      const status = error instanceof oauth.ResponseBodyError ? error.status : undefined;
      const code =
        error instanceof oauth.ResponseBodyError
          ? error.error
          : error instanceof Error
            ? error.name
            : 'error';
      const transient = status === undefined || status >= 500 || status === 429;
      return Promise.reject(
        new ProviderError(
          transient ? 'server' : 'auth',
          `the OAuth2 token endpoint refused the connection's credentials (${status ?? 'no answer'}, ${code})` +
            (transient ? '' : ': fix the client id/secret or refresh token of this connection'),
          where,
          status !== undefined ? { status } : {},
        ),
      );
    }
  }
}
