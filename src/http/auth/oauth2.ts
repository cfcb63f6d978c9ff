/**
 * OAuth2 access tokens for a connection (client credentials, or refresh token with rotation), via
 * oauth4webapi. Tokens are cached in memory and in Postgres (sealed) until shortly before they expire.
 * A refresh is single-flight across processes: it happens under a Postgres advisory lock on the
 * connection, and whoever gets the lock second finds the fresh token instead of asking again.
 */
import * as oauth from 'oauth4webapi';
import { sql } from 'kysely';
import type { Db } from '../../store/db.js';
import { EncryptionKeyError, type SecretBox } from '../../store/secret-box.js';
import { ProviderError } from '../errors.js';
import { resolveSecret, type AuthInputs } from './apply.js';
import type { AuthConfig } from './schema.js';

type OAuthConfig = Extract<AuthConfig, { type: 'oauth2-client-credentials' | 'oauth2-refresh-token' }>;

/** Tokens are refreshed this long before they expire. */
const EXPIRY_SKEW_MS = 60_000;

interface Cached {
  token: string;
  expiresAt: number | null;
}

export class OAuth2Tokens {
  private cached: Cached | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox | undefined,
    private readonly config: OAuthConfig,
    private readonly inputs: AuthInputs,
    private readonly target: { integration: string; connection: string },
    /** Token requests made by this instance (for tests and logs). */
    readonly stats = { tokenRequests: 0 },
  ) {}

  private fresh(c: Cached | undefined): c is Cached {
    return c !== undefined && (c.expiresAt === null || c.expiresAt - EXPIRY_SKEW_MS > Date.now());
  }

  /** A valid access token: from memory, from Postgres, or from the token endpoint. */
  async token(): Promise<string> {
    if (this.fresh(this.cached)) return this.cached.token;
    this.inFlight ??= this.refresh(undefined).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /**
   * The provider refused `rejected`: get another. If another worker already replaced it, that one is
   * used; otherwise the token endpoint is asked once.
   */
  async renew(rejected: string): Promise<string> {
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
    const token = await this.db.transaction().execute(async (tx) => {
      // Serialises refreshes of this connection across every process sharing the database.
      await sql`select pg_advisory_xact_lock(hashtextextended(${`oauth:${integration}:${connection}`}, 0))`.execute(
        tx,
      );
      const row = await tx
        .selectFrom('oauth_tokens')
        .selectAll()
        .where('integration', '=', integration)
        .where('connection', '=', connection)
        .executeTakeFirst();
      if (row) {
        const stored: Cached = {
          token: box.open(row.access_token_sealed),
          expiresAt: row.expires_at?.getTime() ?? null,
        };
        if (this.fresh(stored) && stored.token !== rejected) return stored;
      }
      const storedRefresh = row?.refresh_token_sealed ? box.open(row.refresh_token_sealed) : undefined;
      const result = await this.requestToken(storedRefresh);
      const expiresAt = result.expires_in !== undefined ? Date.now() + result.expires_in * 1000 : null;
      const refreshToken = result.refresh_token ?? storedRefresh;
      const values = {
        access_token_sealed: box.seal(result.access_token),
        expires_at: expiresAt === null ? null : new Date(expiresAt),
        refresh_token_sealed: refreshToken ? box.seal(refreshToken) : null,
      };
      await tx
        .insertInto('oauth_tokens')
        .values({ integration, connection, ...values })
        .onConflict((oc) =>
          oc.columns(['integration', 'connection']).doUpdateSet({ ...values, updated_at: sql`now()` }),
        )
        .execute();
      return { token: result.access_token, expiresAt };
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
    const options = loopback ? { [oauth.allowInsecureRequests]: true } : {};
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
          {
            integration: this.target.integration,
            connection: this.target.connection,
            method: 'POST',
            path: url.pathname,
          },
          status !== undefined ? { status } : {},
        ),
      );
    }
  }
}
