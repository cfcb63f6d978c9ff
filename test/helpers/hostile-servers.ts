/**
 * Two real HTTP servers for the hostile-provider tests: a provider whose answers try to send the
 * client elsewhere (next links, next URLs, redirects), and an attacker that records every request it
 * gets. Both record method, URL and headers, so a test can assert that no secret arrives anywhere it
 * should not and that no request leaves the spec's path template.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RecordingServer {
  readonly url: string;
  readonly origin: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

type Handler = (req: SeenRequest, res: http.ServerResponse, self: { origin: string }) => void;

export async function startRecordingServer(handler: Handler): Promise<RecordingServer> {
  const requests: SeenRequest[] = [];
  const self = { origin: '' };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(seen);
      handler(seen, res, self);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  self.origin = `http://127.0.0.1:${port}`;
  return {
    url: self.origin,
    origin: self.origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** What the attacker answers: a last page, so a sync that (wrongly or allowedly) goes there ends. */
export function startAttacker(): Promise<RecordingServer> {
  return startRecordingServer((_req, res) => json(res, 200, { data: [{ id: 'from-attacker' }], next: null }));
}

/**
 * How the provider's first page points onwards. `{target}` in a Location or link is replaced by the
 * target origin the test gives (the attacker's, or the provider's own for same-origin cases).
 */
export type Trick =
  | 'link-header'
  | 'next-url'
  | 'redirect-302'
  | 'redirect-307'
  | 'redirect-303-post'
  | 'next-url-scheme-relative'
  | 'next-url-userinfo'
  | 'link-outside-base-path'
  | 'redirect-chain';

/**
 * A provider under the base path /api. `GET|POST /api/{trick}/items` answers page 1 (or a redirect) that
 * points at `target`; `/api/page2` is an honest last page; anything else is a 404 (and recorded).
 */
export function startHostileProvider(target: () => string): Promise<RecordingServer> {
  return startRecordingServer((req, res, self) => {
    const u = new URL(req.url, 'http://x');
    const page1 = [{ id: 'p1-a' }, { id: 'p1-b' }];
    const m = /^\/api\/([a-z0-9-]+)\/items$/.exec(u.pathname);
    if (u.pathname === '/api/page2') return json(res, 200, { data: [{ id: 'p2' }], next: null });
    if (u.pathname === '/api/repos')
      return json(res, 200, { data: [{ name: 'ok' }, { name: '..' }, { name: '%2e%2e' }], next: null });
    if (/^\/api\/(projects|repos)\/[^/]+\/items$/.test(u.pathname))
      return json(res, 200, { data: [{ id: decodeURIComponent(u.pathname.split('/')[3]!) }], next: null });
    if (u.pathname === '/api/hop') return json(res, 302, {}, { location: `${target()}/api/hop-final` });
    if (!m) return json(res, 404, { error: 'not found' });
    const trick = m[1] as Trick;
    const away = `${target()}/api/page2?stolen=1`;
    switch (trick) {
      case 'link-header':
        return json(res, 200, { data: page1 }, { link: `<${away}>; rel="next"` });
      case 'next-url':
        return json(res, 200, { data: page1, next: away });
      case 'next-url-scheme-relative':
        return json(res, 200, { data: page1, next: `//${new URL(target()).host}/api/page2` });
      case 'next-url-userinfo':
        return json(res, 200, { data: page1, next: `${self.origin.replace('//', '//user:pw@')}/api/page2` });
      case 'link-outside-base-path':
        return json(res, 200, { data: page1 }, { link: `</admin/../secret/page2>; rel="next"` });
      case 'redirect-302':
        return json(res, 302, {}, { location: away });
      case 'redirect-307':
        return json(res, 307, {}, { location: away });
      case 'redirect-303-post':
        return json(res, 303, {}, { location: away });
      case 'redirect-chain':
        // A same-origin hop first, then away: every hop is checked, not only the first.
        return json(res, 301, {}, { location: `${self.origin}/api/hop` });
      default:
        return json(res, 404, { error: 'unknown trick' });
    }
  });
}
