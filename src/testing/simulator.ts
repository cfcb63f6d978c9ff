/**
 * The provider simulator: a real HTTP server that serves a dataset the way a provider's REST API would.
 * Integration authors and our own tests sync against it instead of the public internet.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type SimRecord = Record<string, unknown> & { id: string | number };

export interface SimulatorOptions {
  /** Records per resource name, served at /<resource>. */
  resources: Record<string, SimRecord[]>;
  /** Records per page when the client does not ask (default 100). */
  defaultPageSize?: number;
}

export interface ProviderSimulator {
  readonly url: string;
  /** Requests served so far, per path (without query). */
  readonly requests: Map<string, number>;
  /** Replace, add or delete records while syncs run. */
  setRecords(resource: string, records: SimRecord[]): void;
  records(resource: string): SimRecord[];
  close(): Promise<void>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * GET /<resource>?page=N&per_page=M answers `{ data: [...], page, per_page, total, next_page }`
 * (page numbers start at 1; next_page is null on the last page).
 */
export async function startProviderSimulator(options: SimulatorOptions): Promise<ProviderSimulator> {
  const data = new Map<string, SimRecord[]>(Object.entries(options.resources));
  const requests = new Map<string, number>();
  const defaultPageSize = options.defaultPageSize ?? 100;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
    if (req.method !== 'GET') return sendJson(res, 405, { error: `method ${req.method} not allowed` });
    const resource = url.pathname.replace(/^\/+|\/+$/g, '');
    const records = data.get(resource);
    if (!records) return sendJson(res, 404, { error: `no resource "${resource}"` });
    const page = Number(url.searchParams.get('page') ?? '1');
    const perPage = Number(url.searchParams.get('per_page') ?? defaultPageSize);
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 1000) {
      return sendJson(res, 400, {
        error: 'page must be an integer >= 1 and per_page an integer from 1 to 1000',
      });
    }
    const start = (page - 1) * perPage;
    const slice = records.slice(start, start + perPage);
    const nextPage = start + perPage < records.length ? page + 1 : null;
    sendJson(res, 200, { data: slice, page, per_page: perPage, total: records.length, next_page: nextPage });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setRecords: (resource, records) => data.set(resource, records),
    records: (resource) => data.get(resource) ?? [],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** A deterministic dataset: `count` records shaped like a ticketing API's issues. */
export function generateRecords(count: number, seed = 1): SimRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    title: `Issue ${i + 1}`,
    state: (i + seed) % 3 === 0 ? 'closed' : 'open',
    priority: ((i * 7 + seed) % 5) + 1,
    updated_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  }));
}
