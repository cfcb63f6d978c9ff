/**
 * The provider simulator: a real HTTP server that serves datasets the way providers' REST APIs do, with
 * every pagination style, auth checks, a strict rate limit, injectable faults and data that can change
 * while a sync runs. Integration authors and our own tests sync against it instead of the internet.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type SimRecord = Record<string, unknown> & { id: string | number };

export type SimPagination = 'page' | 'offset' | 'cursor' | 'link-header' | 'next-url';

export interface SimResource {
  records: SimRecord[];
  /** Default 'page'. */
  pagination?: SimPagination;
  /** link-header only: answer with the bare array of records (GitHub style) instead of { data }. */
  bareArray?: boolean;
  /** Query parameter of the incremental filter (default updated_since). */
  sinceParam?: string;
}

export type SimAuth =
  | { type: 'bearer'; token: string }
  /** Bearer tokens judged by a function (e.g. tokens issued by an OAuth2 test server). */
  | { type: 'bearer-check'; valid: (token: string) => boolean }
  | { type: 'api-key-header'; header: string; key: string }
  | { type: 'api-key-query'; param: string; key: string }
  | { type: 'basic'; username: string; password: string };

export type SimFault =
  /** Answer with this 5xx status. */
  | { kind: 'server-error'; status?: number }
  /** Never answer (the client's timeout fires). */
  | { kind: 'hang' }
  /** Destroy the socket without answering. */
  | { kind: 'reset' }
  /** 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** 429 with Retry-After in seconds (omit for a bare 429). */
  | { kind: 'rate-limited'; retryAfterSeconds?: number };

export interface SimulatorOptions {
  resources: Record<string, SimRecord[] | SimResource>;
  /** Records per page when the client does not ask (default 100). */
  defaultPageSize?: number;
  auth?: SimAuth;
  /** Strict fixed-window limit: more than `limit` requests in a window get 429 with Retry-After. */
  rateLimit?: { limit: number; windowMs: number };
  /** Delay before every answer, to make syncs last long enough to be interrupted. */
  latencyMs?: number;
}

export interface RequestLogEntry {
  at: number;
  method: string;
  path: string;
  /** 0 when no answer was sent (an injected reset or hang). */
  status: number;
  /** The injected fault this request got, if any. */
  fault?: SimFault['kind'];
}

export interface ProviderSimulator {
  readonly url: string;
  /** Requests served so far, per path (without query). */
  readonly requests: Map<string, number>;
  /** Every request with its time and answer. */
  readonly log: RequestLogEntry[];
  /** 429s the simulator's own rate limit sent. */
  rateLimited(): number;
  /** Most requests it has had in flight at once. */
  maxInFlight(): number;
  /** Queues faults: each of the next requests (to `path` when given) gets the next fault. */
  injectFaults(faults: SimFault[], path?: string): void;
  /** Replace a resource's records (add, change, delete while syncs run). */
  setRecords(resource: string, records: SimRecord[]): void;
  records(resource: string): SimRecord[];
  setLatency(ms: number): void;
  close(): Promise<void>;
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function authorized(auth: SimAuth | undefined, req: http.IncomingMessage, url: URL): boolean {
  if (!auth) return true;
  switch (auth.type) {
    case 'bearer':
      return req.headers.authorization === `Bearer ${auth.token}`;
    case 'bearer-check': {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      return m !== null && auth.valid(m[1]!);
    }
    case 'api-key-header':
      return req.headers[auth.header.toLowerCase()] === auth.key;
    case 'api-key-query':
      return url.searchParams.get(auth.param) === auth.key;
    case 'basic':
      return (
        req.headers.authorization ===
        `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      );
  }
}

const encodeCursor = (index: number) => Buffer.from(`idx:${index}`).toString('base64url');
const decodeCursor = (cursor: string): number | undefined => {
  const m = /^idx:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
};

/**
 * GET /<resource> with the resource's pagination style:
 * - page:        ?page=N&per_page=M   → { data, page, per_page, total, next_page }
 * - offset:      ?offset=N&limit=M    → { data, offset, limit, total }
 * - cursor:      ?cursor=C&limit=M    → { data, next_cursor, has_more }
 * - link-header: ?page=N&per_page=M   → { data } and `Link: <…>; rel="next"`
 * - next-url:    ?after=C&limit=M     → { data, next } (an absolute URL, or null)
 * Every style accepts `updated_since` (ISO time; `sinceParam` renames it) to return only records with
 * updated_at >= it.
 * GET /<resource>/<id> answers one record, or 404.
 */
export async function startProviderSimulator(options: SimulatorOptions): Promise<ProviderSimulator> {
  const data = new Map<string, SimResource>();
  for (const [name, r] of Object.entries(options.resources)) {
    data.set(name, Array.isArray(r) ? { records: r } : { ...r });
  }
  const requests = new Map<string, number>();
  const log: RequestLogEntry[] = [];
  const faults: { fault: SimFault; path?: string }[] = [];
  const defaultPageSize = options.defaultPageSize ?? 100;
  let latencyMs = options.latencyMs ?? 0;
  let windowStart = 0;
  let windowCount = 0;
  let limited = 0;
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let maxInFlight = 0;

  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const url = new URL(req.url ?? '/', 'http://simulator');
    const path = url.pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const entry: RequestLogEntry = { at: Date.now(), method: req.method ?? 'GET', path, status: 0 };
    log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));

    if (options.rateLimit) {
      const now = Date.now();
      if (now - windowStart >= options.rateLimit.windowMs) {
        windowStart = now;
        windowCount = 0;
      }
      windowCount++;
      if (windowCount > options.rateLimit.limit) {
        limited++;
        const retry = Math.max(1, Math.ceil((windowStart + options.rateLimit.windowMs - now) / 1000));
        return sendJson(res, 429, { error: 'rate limit exceeded' }, { 'retry-after': String(retry) });
      }
    }

    const faultIndex = faults.findIndex((f) => f.path === undefined || f.path === path);
    if (faultIndex >= 0) {
      const [{ fault }] = faults.splice(faultIndex, 1) as [{ fault: SimFault }];
      entry.fault = fault.kind;
      switch (fault.kind) {
        case 'server-error':
          return sendJson(res, fault.status ?? 503, { error: 'injected server error' });
        case 'hang':
          return;
        case 'reset':
          return req.socket.destroy();
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end('{"data": [ {"id": 1, "title": "trunc');
        case 'rate-limited':
          return sendJson(
            res,
            429,
            { error: 'injected rate limit' },
            fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
          );
      }
    }

    const answer = () => serve(req, res, url);
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });

  function serve(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    if (!authorized(options.auth, req, url))
      return sendJson(res, 401, { error: 'bad or missing credentials' });
    if (req.method !== 'GET') return sendJson(res, 405, { error: `method ${req.method} not allowed` });
    const name = url.pathname.replace(/^\/+|\/+$/g, '');
    // GET /<resource>/<id>: one record (what a webhook refetch reads).
    const slash = name.lastIndexOf('/');
    if (!data.has(name) && slash > 0 && data.has(name.slice(0, slash))) {
      const one = data.get(name.slice(0, slash));
      const id = decodeURIComponent(name.slice(slash + 1));
      const record = one?.records.find((r) => String(r.id) === id);
      return record
        ? sendJson(res, 200, record)
        : sendJson(res, 404, { error: `no record "${id}" in "${name.slice(0, slash)}"` });
    }
    const resource = data.get(name);
    if (!resource) return sendJson(res, 404, { error: `no resource "${name}"` });
    let records = resource.records;
    const sinceParam = resource.sinceParam ?? 'updated_since';
    const since = url.searchParams.get(sinceParam);
    if (since !== null) {
      const sinceMs = Date.parse(since);
      if (Number.isNaN(sinceMs))
        return sendJson(res, 400, { error: `${sinceParam} "${since}" is not a date` });
      records = records.filter((r) => Date.parse(String(r.updated_at)) >= sinceMs);
    }
    const int = (param: string, fallback: number, min: number) => {
      const raw = url.searchParams.get(param);
      const n = raw === null ? fallback : Number(raw);
      return Number.isInteger(n) && n >= min ? n : undefined;
    };
    const size = int(url.searchParams.has('limit') ? 'limit' : 'per_page', defaultPageSize, 1);
    if (size === undefined || size > 1000)
      return sendJson(res, 400, { error: 'page size must be 1 to 1000' });
    const base = `http://${req.headers.host}${url.pathname}`;

    switch (resource.pagination ?? 'page') {
      case 'page':
      case 'link-header': {
        const page = int('page', 1, 1);
        if (page === undefined) return sendJson(res, 400, { error: 'page must be an integer >= 1' });
        const start = (page - 1) * size;
        const slice = records.slice(start, start + size);
        const hasNext = start + size < records.length;
        if (resource.pagination === 'link-header') {
          const next = new URL(url.toString().replace('http://simulator', base.replace(url.pathname, '')));
          next.searchParams.set('page', String(page + 1));
          const links = [`<${next.toString()}>; rel="next"`];
          return sendJson(
            res,
            200,
            resource.bareArray ? slice : { data: slice },
            hasNext ? { link: links.join(', ') } : {},
          );
        }
        return sendJson(res, 200, {
          data: slice,
          page,
          per_page: size,
          total: records.length,
          next_page: hasNext ? page + 1 : null,
        });
      }
      case 'offset': {
        const offset = int('offset', 0, 0);
        if (offset === undefined) return sendJson(res, 400, { error: 'offset must be an integer >= 0' });
        return sendJson(res, 200, {
          data: records.slice(offset, offset + size),
          offset,
          limit: size,
          total: records.length,
        });
      }
      case 'cursor':
      case 'next-url': {
        const param = resource.pagination === 'cursor' ? 'cursor' : 'after';
        const raw = url.searchParams.get(param);
        const start = raw === null ? 0 : decodeCursor(raw);
        if (start === undefined) return sendJson(res, 400, { error: `invalid ${param} "${raw}"` });
        const slice = records.slice(start, start + size);
        const more = start + size < records.length;
        if (resource.pagination === 'cursor') {
          return sendJson(res, 200, {
            data: slice,
            next_cursor: more ? encodeCursor(start + size) : null,
            has_more: more,
          });
        }
        const next = new URL(base);
        for (const [k, v] of url.searchParams) if (k !== 'after') next.searchParams.set(k, v);
        next.searchParams.set('after', encodeCursor(start + size));
        return sendJson(res, 200, { data: slice, next: more ? next.toString() : null });
      }
    }
  }

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    log,
    rateLimited: () => limited,
    maxInFlight: () => maxInFlight,
    injectFaults: (list, path) => faults.push(...list.map((fault) => (path ? { fault, path } : { fault }))),
    setRecords: (name, records) => data.set(name, { ...(data.get(name) ?? {}), records }),
    records: (name) => data.get(name)?.records ?? [],
    setLatency: (ms) => void (latencyMs = ms),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** A deterministic dataset: `count` records shaped like a ticketing API's issues, ordered by id. */
export function generateRecords(count: number, seed = 1): SimRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    title: `Issue ${i + 1}`,
    state: (i + seed) % 3 === 0 ? 'closed' : 'open',
    priority: ((i * 7 + seed) % 5) + 1,
    updated_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  }));
}
