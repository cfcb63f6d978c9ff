/**
 * Small real HTTP servers for the auth tests: each records every request it gets (method, path, query,
 * headers, raw body) and answers through a handler, so a test can say which credentials reached which
 * origin. Two servers on 127.0.0.1 with different ports are different origins.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Answer = (status: number, payload: unknown) => void;

export interface RecordingServer {
  readonly url: string;
  readonly requests: Recorded[];
  /** Everything the server received, as one text: to look for a secret anywhere in it. */
  seen(): string;
  close(): Promise<void>;
}

export async function startRecordingServer(
  handle: (req: Recorded, answer: Answer) => void,
): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const r: Recorded = {
        method: req.method ?? '',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
      };
      requests.push(r);
      handle(r, (status, payload) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    seen: () =>
      requests
        .map((r) => `${r.method} ${r.path}?${r.query.toString()} ${JSON.stringify(r.headers)} ${r.body}`)
        .join('\n'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `n` records `{ id, amount }` and the page of them a `page`/`per_page` request asks for. */
export function pagedRecords(n: number, prefix: string) {
  const all = Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${String(i + 1).padStart(3, '0')}`,
    amount: i + 1,
  }));
  return {
    all,
    page(query: URLSearchParams) {
      const p = Number(query.get('page') ?? 1);
      const size = Number(query.get('per_page') ?? 10);
      return all.slice((p - 1) * size, p * size);
    },
  };
}
