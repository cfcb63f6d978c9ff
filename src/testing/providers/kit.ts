/**
 * The catalog simulators' shared part: one real HTTP server per provider, over a small generated
 * dataset, that logs every request and can be told to answer the provider's documented rate-limit or
 * fatal error. Each provider module (stripe.ts, slack.ts, …) only says how its routes shape the data.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One generated object; each provider shapes it as its own records (customers, issues, tickets…). */
export interface CatalogItem {
  /** 1-based, stable: the provider derives its ids from it. */
  n: number;
  name: string;
  /** Milliseconds since the epoch. */
  created: number;
  updated: number;
}

export interface CatalogRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface CatalogReply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** What a provider module supplies. */
export interface ProviderShape {
  /** Answers a request over the items, or undefined for "no such route" (a 404). */
  route(req: CatalogRequest, ctx: ShapeContext): CatalogReply | undefined;
  /** The documented rate-limited answer (with its Retry-After or rate headers). */
  rateLimited(ctx: ShapeContext): CatalogReply;
  /** A documented fatal answer (bad credentials, unknown object, bad query…) and its message. */
  fatal(ctx: ShapeContext): CatalogReply;
  /** Headers every successful answer carries (rate-limit headers, request ids). */
  okHeaders?(ctx: ShapeContext): Record<string, string>;
  /** Requests that injected faults skip (an OAuth token endpoint); default: none. */
  faultless?(req: CatalogRequest): boolean;
}

export interface ShapeContext {
  readonly url: string;
  readonly items: readonly CatalogItem[];
  /** The most a page holds, whatever was asked (providers document their own maximum). */
  pageCap(asked: number | undefined, documentedMax: number, documentedDefault: number): number;
  /** How many requests this server has answered so far (rate-limit headers count down with it). */
  readonly served: number;
}

export interface CatalogSimulatorOptions {
  /** How many items to generate (default 150). */
  count?: number;
  /**
   * Serve at most this many records per page, below the provider's documented maximum — providers
   * may answer fewer than asked, and small test datasets still need several pages.
   */
  maxPageSize?: number;
}

export interface CatalogSimulator {
  readonly provider: string;
  readonly url: string;
  readonly items: CatalogItem[];
  readonly requests: {
    method: string;
    url: string;
    body: unknown;
    headers: http.IncomingHttpHeaders;
    /** When it arrived (ms since the epoch). */
    at: number;
  }[];
  /** Marks items as changed two minutes ago (clear of minute-precision filters such as JQL's). */
  touch(ns: number[]): void;
  /** Creates `count` new items, created and updated two minutes ago; returns their numbers. */
  add(count: number): number[];
  /**
   * The next `times` requests get the provider's documented rate-limited answer (then it serves
   * again), or its fatal error.
   */
  fail(kind: 'rate-limit' | 'fatal', times?: number): void;
  close(): Promise<void>;
}

const DAY = 86_400_000;
export const DATASET_START = Date.parse('2026-01-01T00:00:00Z');

/** `count` items spread over 60 days from 2026-01-01, created in order, each updated when created. */
export function catalogItems(count: number): CatalogItem[] {
  return Array.from({ length: count }, (_, i) => {
    const t = DATASET_START + Math.floor((i * 60 * DAY) / count);
    return { n: i + 1, name: `Item ${i + 1}`, created: t, updated: t };
  });
}

export const pad = (n: number, width = 4) => String(n).padStart(width, '0');
export const iso = (ms: number) => new Date(ms).toISOString();
export const unix = (ms: number) => Math.floor(ms / 1000);
/** An opaque cursor for an offset, as providers' cursors are opaque. */
export const encodeCursor = (offset: number) => Buffer.from(`o:${offset}`).toString('base64url');
export function decodeCursor(cursor: string | null | undefined): number {
  if (!cursor) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new Error(`bad cursor ${cursor}`);
  return Number(m[1]);
}

export async function startCatalogServer(
  provider: string,
  shape: ProviderShape,
  options: CatalogSimulatorOptions = {},
): Promise<CatalogSimulator> {
  const items = catalogItems(options.count ?? 150);
  const requests: CatalogSimulator['requests'] = [];
  const faults: ('rate-limit' | 'fatal')[] = [];
  let served = 0;
  let url = '';
  const ctx: ShapeContext = {
    get url() {
      return url;
    },
    items,
    get served() {
      return served;
    },
    pageCap(asked, max, dflt) {
      const n = Math.min(asked && asked > 0 ? asked : dflt, max);
      return options.maxPageSize ? Math.min(n, options.maxPageSize) : n;
    },
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      served++;
      const u = new URL(req.url ?? '/', 'http://x');
      let body: unknown = raw;
      if (raw && /json/.test(req.headers['content-type'] ?? '')) body = JSON.parse(raw) as unknown;
      else if (raw && /form/.test(req.headers['content-type'] ?? ''))
        body = Object.fromEntries(new URLSearchParams(raw));
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body,
        headers: req.headers,
        at: Date.now(),
      });
      const request: CatalogRequest = {
        method: req.method ?? 'GET',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
      };
      const fault = shape.faultless?.(request) ? undefined : faults.shift();
      let reply: CatalogReply | undefined;
      try {
        reply =
          fault === 'rate-limit'
            ? shape.rateLimited(ctx)
            : fault === 'fatal'
              ? shape.fatal(ctx)
              : shape.route(request, ctx);
      } catch (error) {
        reply = { status: 400, body: { message: (error as Error).message } };
      }
      reply ??= { status: 404, body: { message: `no route ${req.method} ${u.pathname}` } };
      const status = reply.status ?? 200;
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        ...(status < 300 ? shape.okHeaders?.(ctx) : {}),
        ...reply.headers,
      });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    provider,
    url,
    items,
    requests,
    touch(ns) {
      const now = Date.now() - 120_000;
      for (const i of items) if (ns.includes(i.n)) i.updated = now;
    },
    add(count) {
      const now = Date.now() - 120_000;
      const added = Array.from({ length: count }, (_, k) => items.length + k + 1);
      for (const n of added) items.push({ n, name: `Item ${n}`, created: now, updated: now });
      return added;
    },
    fail(kind, times = 1) {
      for (let i = 0; i < times; i++) faults.push(kind);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Items ordered by `updated` (then n), from `since` (inclusive) — how most incremental filters read. */
export function changedSince(items: readonly CatalogItem[], sinceMs: number): CatalogItem[] {
  return items.filter((i) => i.updated >= sinceMs).sort((a, b) => a.updated - b.updated || a.n - b.n);
}
