/**
 * A local OAuth2 token endpoint for tests: client_credentials and refresh_token grants, short-lived
 * access tokens, and refresh tokens that rotate (each works once). A real HTTP server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OAuthServerOptions {
  clientId: string;
  clientSecret: string;
  /** The refresh token valid at start (refresh_token grant). */
  refreshToken?: string;
  /** Lifetime of access tokens in seconds (default 3600). */
  expiresIn?: number;
}

export interface OAuthServer {
  readonly tokenUrl: string;
  /** Token requests answered, successful or not. */
  requests(): number;
  /** Access tokens issued and not revoked. */
  isValid(accessToken: string): boolean;
  revokeAll(): void;
  currentRefreshToken(): string | undefined;
  close(): Promise<void>;
}

export async function startOAuthServer(options: OAuthServerOptions): Promise<OAuthServer> {
  let requests = 0;
  let counter = 0;
  let refresh = options.refreshToken;
  const valid = new Set<string>();

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      requests++;
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(payload));
      };
      const form = new URLSearchParams(body);
      let id = form.get('client_id');
      let secret = form.get('client_secret');
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      if (basic) {
        const [u, p] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
        id = decodeURIComponent(u ?? '');
        secret = decodeURIComponent(p ?? '');
      }
      if (id !== options.clientId || secret !== options.clientSecret)
        return send(401, { error: 'invalid_client' });
      const grant = form.get('grant_type');
      if (grant === 'refresh_token') {
        if (!refresh || form.get('refresh_token') !== refresh) return send(400, { error: 'invalid_grant' });
        refresh = `rt-${++counter}`;
      } else if (grant !== 'client_credentials') {
        return send(400, { error: 'unsupported_grant_type' });
      }
      const access = `at-${++counter}`;
      valid.add(access);
      send(200, {
        access_token: access,
        token_type: 'Bearer',
        expires_in: options.expiresIn ?? 3600,
        ...(grant === 'refresh_token' ? { refresh_token: refresh } : {}),
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    tokenUrl: `http://127.0.0.1:${port}/oauth/token`,
    requests: () => requests,
    isValid: (t) => valid.has(t),
    revokeAll: () => valid.clear(),
    currentRefreshToken: () => refresh,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
