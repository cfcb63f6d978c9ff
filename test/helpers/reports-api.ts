/**
 * A reports provider for test/fixtures/airbyte/response-success.yaml: apps, and each app's outcome
 * reports paged by offset/limit (limit 2). An app on a plan without reports answers 400, an app whose
 * report could not be computed answers 500 (a text body, or a JSON body that still holds some
 * outcomes), and an app the key may not read answers 403. It records the requests it got.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const REPORTS_KEY = 'reports-key-7731';

export type AppAnswer =
  | { outcomes: { id: string; value: number }[] }
  | { status: 400 | 403 }
  | { status: 500; text: string }
  | { status: 500; outcomes: { id: string; value: number }[] };

export interface ReportsApi {
  url: string;
  apps: Map<string, AppAnswer>;
  requests: string[];
  close(): Promise<void>;
}

export async function startReportsApi(apps: Map<string, AppAnswer>): Promise<ReportsApi> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${u.pathname}${u.search}`);
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.method !== 'GET') return send(405, { errors: ['method not allowed'] });
      if (req.headers['x-api-key'] !== REPORTS_KEY) return send(401, { errors: ['bad key'] });
      if (u.pathname === '/v1/apps' && u.search === '')
        return send(200, { apps: [...apps.keys()].map((id) => ({ id })) });
      const m = /^\/v1\/apps\/([^/]+)\/outcomes$/.exec(u.pathname);
      const answer = m ? apps.get(decodeURIComponent(m[1]!)) : undefined;
      const params = [...u.searchParams.keys()].sort().join(',');
      const offset = u.searchParams.get('offset') ?? '0';
      if (!answer || u.searchParams.get('limit') !== '2' || !['limit', 'limit,offset'].includes(params))
        return send(404, { errors: ['not found'] });
      if (!/^\d+$/.test(offset)) return send(400, { errors: ['bad offset'] });
      if ('status' in answer) {
        if (answer.status === 500 && 'text' in answer) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          return res.end(answer.text);
        }
        if ('outcomes' in answer)
          return send(500, { outcomes: answer.outcomes, errors: ['partly computed'] });
        return send(answer.status, {
          errors: [answer.status === 400 ? 'Your plan does not include outcomes' : 'Forbidden'],
        });
      }
      const from = Number(offset);
      send(200, { outcomes: answer.outcomes.slice(from, from + 2) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apps,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
