/**
 * A real HTTP server answering in the shapes the connector constructs of issue 20 exist for, over one
 * dataset (the shape-providers items), recording every request:
 *   /oauth/{account}/token             client-credentials token endpoint of a tenant (token URL templates)
 *   /api/{account}/events/{day}        a day-by-day export: the day in the path, start/end as unix query
 *                                      values (the window), a bearer token of that tenant
 *   /feed, /all                        no filter at all: newest first, or by id (client-side incremental)
 *   /projects, /projects/{id}/tasks    parents and children (parent and computed fields)
 *   /logs                              entries without an id (append-only, keyed by content)
 *   /jsonapi/items                     JSON:API: records under data.*.attributes (wildcard paths)
 *   /session/login, /session/items     a login that yields a session token for a header
 *   /tickets                           deleted records kept with status "deleted" (deletion from content)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Item } from './shape-providers.js';

export interface LogEntry {
  at: string;
  level: string;
  message: string;
}

export interface ConstructServer {
  readonly url: string;
  readonly port: number;
  readonly items: Item[];
  readonly logs: LogEntry[];
  readonly requests: {
    method: string;
    path: string;
    query: URLSearchParams;
    headers: http.IncomingHttpHeaders;
    body: unknown;
  }[];
  readonly stats: { tokenRequests: number; logins: number };
  /** Ids of tickets the provider now reports as deleted. */
  readonly deletedTickets: Set<string>;
  /** Marks items changed two minutes ago. */
  touch(ids: string[]): void;
  /** Every session token issued so far stops working (the provider expired them). */
  expireSessions(): void;
  close(): Promise<void>;
}

export const PROJECTS = ['p1', 'p2', 'p3', 'p4', 'p5'];
const TOKEN_PREFIX = 'tok-';

export function projectOf(item: Item): string {
  return PROJECTS[(Number(item.id.slice(1)) - 1) % PROJECTS.length]!;
}

export async function startConstructServer(items: Item[]): Promise<ConstructServer> {
  const requests: ConstructServer['requests'] = [];
  const stats = { tokenRequests: 0, logins: 0 };
  const logs: LogEntry[] = [];
  const deletedTickets = new Set<string>();
  let sessionEpoch = 0;
  let sessionSerial = 0;
  const sessions = new Map<string, number>();
  const byId = () => [...items].sort((a, b) => a.id.localeCompare(b.id));
  const iso = (ms: number) => new Date(ms).toISOString();

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const type = req.headers['content-type'] ?? '';
      const body: unknown = !raw
        ? undefined
        : type.includes('json')
          ? JSON.parse(raw)
          : Object.fromEntries(new URLSearchParams(raw));
      requests.push({
        method: req.method ?? '',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
      });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      const page = <T>(all: T[]) => {
        const n = Number(u.searchParams.get('page') ?? 1);
        const size = Number(u.searchParams.get('per_page') ?? 50);
        return all.slice((n - 1) * size, n * size);
      };
      let m: RegExpExecArray | null;

      // Client credentials of one tenant: basic auth cid:csecret.
      if (req.method === 'POST' && (m = /^\/oauth\/([a-z0-9-]+)\/token$/.exec(u.pathname))) {
        stats.tokenRequests++;
        const basic = Buffer.from(`cid:csecret`).toString('base64');
        if (req.headers.authorization !== `Basic ${basic}`) return send(401, { error: 'invalid_client' });
        return send(200, { access_token: `${TOKEN_PREFIX}${m[1]}`, token_type: 'bearer', expires_in: 3600 });
      }
      // A day-by-day export: the path's day must be the window's first day.
      if (
        req.method === 'GET' &&
        (m = /^\/api\/([a-z0-9-]+)\/events\/(\d{4}-\d{2}-\d{2})$/.exec(u.pathname))
      ) {
        if (req.headers.authorization !== `Bearer ${TOKEN_PREFIX}${m[1]}`)
          return send(401, { error: 'unauthorized' });
        const start = Number(u.searchParams.get('start')) * 1000;
        const end = Number(u.searchParams.get('end')) * 1000;
        if (!Number.isFinite(start) || !Number.isFinite(end) || iso(start).slice(0, 10) !== m[2])
          return send(400, { error: `the day ${m[2]} is not the start of the range` });
        if (!/^\d{4}-\d{2}-\d{2}$/.test(String(req.headers['x-requested-on'])))
          return send(400, { error: 'x-requested-on must be a date' });
        return send(200, {
          events: byId()
            .filter((i) => i.updated >= start && i.updated < end)
            .map((i) => ({ id: i.id, title: i.title, updated: iso(i.updated) })),
        });
      }
      // No filter: newest first, or by id; ?page&per_page.
      if (req.method === 'GET' && (u.pathname === '/feed' || u.pathname === '/all')) {
        const all =
          u.pathname === '/feed'
            ? [...items].sort((a, b) => b.updated - a.updated || a.id.localeCompare(b.id))
            : byId();
        return send(
          200,
          page(all).map((i) => ({ id: i.id, title: i.title, updated: iso(i.updated) })),
        );
      }
      if (req.method === 'GET' && u.pathname === '/projects') {
        return send(200, {
          projects: PROJECTS.map((id, n) => ({
            id,
            name: `Project ${n + 1}`,
            owner: { first: 'Ada', last: `L${n}` },
          })),
        });
      }
      if (req.method === 'GET' && (m = /^\/projects\/([^/]+)\/tasks$/.exec(u.pathname))) {
        const since = u.searchParams.get('updated_since');
        const all = byId().filter(
          (i) => projectOf(i) === m![1] && (since === null || i.updated >= Date.parse(since)),
        );
        return send(200, {
          tasks: page(all).map((i) => ({
            id: i.id,
            title: i.title,
            updated: iso(i.updated),
            tags: [{ name: 'x' }, { name: i.id.slice(-1) }],
          })),
        });
      }
      if (req.method === 'GET' && u.pathname === '/logs') return send(200, { entries: logs });
      if (req.method === 'GET' && u.pathname === '/jsonapi/items') {
        return send(200, {
          data: page(byId()).map((i) => ({
            type: 'item',
            id: i.id,
            attributes: {
              uid: i.id,
              title: i.title,
              updated: iso(i.updated),
              labels: [{ name: 'a' }, { name: 'b' }],
            },
          })),
          meta: { total: items.length },
        });
      }
      if (req.method === 'POST' && u.pathname === '/session/login') {
        stats.logins++;
        const b = (body ?? {}) as { username?: string; password?: string };
        if (b.username !== 'ada' || b.password !== 'pw-secret')
          return send(401, { error: 'bad credentials' });
        const token = `s${++sessionSerial}`;
        sessions.set(token, sessionEpoch);
        return send(200, { session: { token, expires_in: 3600 } });
      }
      if (req.method === 'GET' && u.pathname === '/session/items') {
        const t = String(req.headers['x-session-token'] ?? '');
        if (sessions.get(t) !== sessionEpoch) return send(401, { error: 'session expired' });
        return send(
          200,
          page(byId()).map((i) => ({ id: i.id, title: i.title })),
        );
      }
      if (req.method === 'GET' && u.pathname === '/tickets') {
        return send(
          200,
          page(byId()).map((i) => ({
            id: i.id,
            subject: i.title,
            status: deletedTickets.has(i.id) ? 'deleted' : 'open',
          })),
        );
      }
      send(404, { message: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    items,
    logs,
    requests,
    stats,
    deletedTickets,
    touch(ids) {
      const now = Date.now() - 120_000;
      for (const i of items) if (ids.includes(i.id)) i.updated = now;
    },
    expireSessions() {
      sessionEpoch++;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
