/**
 * A local OAuth2 authorization server for tests, a real HTTP server:
 * - the token endpoint answers client_credentials, refresh_token (refresh tokens rotate: each works
 *   once), authorization_code (PKCE S256 checked, a code works once; its reuse revokes what it gave)
 *   and the RFC 7523 JWT-bearer grant (the assertion's signature checked with a public key given here);
 * - the authorize endpoint approves at once, as if the user clicked "Allow", and redirects to the
 *   redirect_uri with a code and the state.
 * Access tokens are short-lived; `isValid` tells a simulator which ones to accept.
 */
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OAuthServerOptions {
  clientId: string;
  clientSecret: string;
  /** The refresh token valid at start (refresh_token grant). */
  refreshToken?: string;
  /** Lifetime of access tokens in seconds (default 3600). */
  expiresIn?: number;
  /** Accept the client by its client_id alone (no secret) in the code and refresh grants (PKCE). */
  publicClient?: boolean;
  /** More fields of an authorization_code answer, e.g. Salesforce's { instance_url: "https://..." }. */
  tokenResponse?: Record<string, unknown>;
  /** Enables the JWT-bearer grant: assertions must verify with this key and name this issuer. */
  jwtBearer?: { publicKey: KeyObject | string; issuer: string };
}

/** What the authorize endpoint was asked, for tests to check the URL a client built. */
export type AuthorizeRequest = Readonly<Record<string, string>>;

export interface OAuthServer {
  readonly tokenUrl: string;
  readonly authorizeUrl: string;
  /** Token requests answered, successful or not. */
  requests(): number;
  /** Access tokens issued and not revoked. */
  isValid(accessToken: string): boolean;
  revokeAll(): void;
  currentRefreshToken(): string | undefined;
  /** Authorize requests received, oldest first. */
  authorizeRequests(): readonly AuthorizeRequest[];
  /** Why token requests were refused, oldest first, e.g. "code reused", "PKCE verifier mismatch". */
  refusals(): readonly string[];
  close(): Promise<void>;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string | null;
  expiresAt: number;
  used: boolean;
  /** What its exchange issued: revoked if the code comes back. */
  issued: string[];
}

const CODE_LIFETIME_MS = 60_000;
const b64urlSha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** The claims of a compact JWS whose RS256/ES256 signature verifies with `key`, else a reason. */
function verifiedClaims(jwt: string, key: KeyObject): Record<string, unknown> | string {
  const [h, p, sig, ...rest] = jwt.split('.');
  if (h === undefined || p === undefined || sig === undefined || rest.length) return 'assertion is not a JWS';
  let header: { alg?: unknown };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown };
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'assertion is not JSON';
  }
  if (header.alg !== 'RS256' && header.alg !== 'ES256') return `alg ${String(header.alg)} not accepted`;
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, ...(header.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}) },
    Buffer.from(sig, 'base64url'),
  );
  return ok ? claims : 'assertion signature does not verify';
}

export async function startOAuthServer(options: OAuthServerOptions): Promise<OAuthServer> {
  let requests = 0;
  let counter = 0;
  let refresh = options.refreshToken;
  const valid = new Set<string>();
  const refreshTokens = new Set<string>(refresh ? [refresh] : []);
  const codes = new Map<string, IssuedCode>();
  const authorizeLog: AuthorizeRequest[] = [];
  const refusals: string[] = [];
  const given = options.jwtBearer?.publicKey;
  const jwtKey = typeof given === 'string' ? createPublicKey(given) : given;
  let base = '';
  // Tokens of two servers in one test never collide (a simulator may accept either's).
  const tag = randomBytes(3).toString('hex');

  const authorize = (url: URL, res: http.ServerResponse) => {
    const q = Object.fromEntries(url.searchParams);
    authorizeLog.push(q);
    const fail = (why: string) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(why);
    };
    // No redirect for a bad client or redirect_uri (RFC 6749 §4.1.2.1): the error is shown here.
    if (q.client_id !== options.clientId) return fail('unknown client_id');
    let redirect: URL;
    try {
      redirect = new URL(q.redirect_uri ?? '');
    } catch {
      return fail('redirect_uri is not a URL');
    }
    const back = (params: Record<string, string>) => {
      for (const [k, v] of Object.entries(params)) redirect.searchParams.set(k, v);
      if (q.state !== undefined) redirect.searchParams.set('state', q.state);
      res.writeHead(302, { location: redirect.toString() });
      res.end();
    };
    if (q.response_type !== 'code') return back({ error: 'unsupported_response_type' });
    if (q.code_challenge_method !== 'S256' || !q.code_challenge)
      return back({ error: 'invalid_request', error_description: 'PKCE with S256 is required' });
    const code = `code-${++counter}-${tag}`;
    codes.set(code, {
      clientId: q.client_id,
      redirectUri: q.redirect_uri!,
      challenge: q.code_challenge,
      scope: q.scope ?? null,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      used: false,
      issued: [],
    });
    back({ code });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/oauth/authorize') return authorize(url, res);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      requests++;
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(payload));
      };
      const refuse = (status: number, error: string, why: string) => {
        refusals.push(why);
        send(status, { error });
      };
      const form = new URLSearchParams(body);
      const grant = form.get('grant_type');
      const issue = (extra: Record<string, unknown> = {}, withRefresh = false) => {
        const access = `at-${++counter}-${tag}`;
        valid.add(access);
        const rt = withRefresh ? `rt-${++counter}-${tag}` : undefined;
        if (rt) {
          refreshTokens.add(rt);
          refresh = rt;
        }
        send(200, {
          access_token: access,
          token_type: 'Bearer',
          expires_in: options.expiresIn ?? 3600,
          ...(rt ? { refresh_token: rt } : {}),
          ...extra,
        });
        return [access, ...(rt ? [rt] : [])];
      };

      if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        if (!jwtKey) return refuse(400, 'unsupported_grant_type', 'jwt-bearer not enabled');
        const claims = verifiedClaims(form.get('assertion') ?? '', jwtKey);
        if (typeof claims === 'string') return refuse(400, 'invalid_grant', claims);
        const now = Date.now() / 1000;
        if (claims.iss !== options.jwtBearer!.issuer) return refuse(400, 'invalid_grant', 'wrong issuer');
        if (claims.aud !== `${base}/oauth/token`) return refuse(400, 'invalid_grant', 'wrong audience');
        if (typeof claims.exp !== 'number' || claims.exp < now)
          return refuse(400, 'invalid_grant', 'expired');
        if (typeof claims.iat !== 'number' || claims.iat > now + 60 || claims.exp - claims.iat > 3600)
          return refuse(400, 'invalid_grant', 'bad iat or lifetime');
        issue(typeof claims.scope === 'string' ? { scope: claims.scope } : {});
        return;
      }

      let id = form.get('client_id');
      let secret = form.get('client_secret');
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      if (basic) {
        const [u, p] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
        id = decodeURIComponent(u ?? '');
        secret = decodeURIComponent(p ?? '');
      }
      const publicOk = options.publicClient && secret === null && grant !== 'client_credentials';
      if (id !== options.clientId || (secret !== options.clientSecret && !publicOk))
        return refuse(401, 'invalid_client', 'client authentication failed');

      if (grant === 'authorization_code') {
        const code = codes.get(form.get('code') ?? '');
        if (!code) return refuse(400, 'invalid_grant', 'unknown code');
        if (code.used) {
          // RFC 6749 §4.1.2: a code used twice revokes the tokens it gave.
          for (const t of code.issued) {
            valid.delete(t);
            refreshTokens.delete(t);
          }
          return refuse(400, 'invalid_grant', 'code reused');
        }
        code.used = true;
        if (code.expiresAt < Date.now()) return refuse(400, 'invalid_grant', 'code expired');
        if (code.clientId !== id) return refuse(400, 'invalid_grant', 'code of another client');
        if (form.get('redirect_uri') !== code.redirectUri)
          return refuse(400, 'invalid_grant', 'redirect_uri mismatch');
        if (b64urlSha256(form.get('code_verifier') ?? '') !== code.challenge)
          return refuse(400, 'invalid_grant', 'PKCE verifier mismatch');
        code.issued = issue({ ...options.tokenResponse, ...(code.scope ? { scope: code.scope } : {}) }, true);
        return;
      }
      if (grant === 'refresh_token') {
        const given = form.get('refresh_token') ?? '';
        if (!refreshTokens.has(given)) return refuse(400, 'invalid_grant', 'unknown or used refresh token');
        refreshTokens.delete(given);
        issue({}, true);
        return;
      }
      if (grant !== 'client_credentials') return refuse(400, 'unsupported_grant_type', `grant ${grant}`);
      issue();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    tokenUrl: `${base}/oauth/token`,
    authorizeUrl: `${base}/oauth/authorize`,
    requests: () => requests,
    isValid: (t) => valid.has(t),
    revokeAll: () => valid.clear(),
    currentRefreshToken: () => refresh,
    authorizeRequests: () => authorizeLog,
    refusals: () => refusals,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
