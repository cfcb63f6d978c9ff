/**
 * Real HTTP servers answering as the APIs described by the Airbyte manifests in test/fixtures/airbyte/:
 *   Acme (api-key-offset-parent.yaml): X-Api-Key, /v1/projects with offset/limit (limit capped at 40)
 *     and updated_since, /v1/projects/{id}/tasks (404 for a deleted project), archived projects;
 *   Events (bearer-cursor-body.yaml): bearer token, POST /v2/events/search with the cursor, page size and
 *     a unix updated_from/updated_to range in the JSON body, `paging.next` and `has_more`.
 * Each records the requests it got.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Project {
  id: number;
  name: string;
  status: 'active' | 'archived';
  owner: { name: string };
  updated_at: string;
}
export interface Task {
  id: number;
  project_id: number;
  title: string;
}
export interface Event {
  account_id: string;
  id: string;
  type: string;
  updated_at: number; // unix seconds
}

export interface AirbyteApis {
  readonly url: string;
  readonly projects: Project[];
  readonly tasks: Task[];
  readonly events: Event[];
  /** Project ids whose tasks answer 404 (deleted between listing and reading). */
  readonly goneProjects: Set<number>;
  readonly requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: unknown }[];
  touchProjects(ids: number[]): void;
  touchEvents(ids: string[]): void;
  close(): Promise<void>;
}

export const ACME_KEY = 'acme-key-123';
export const EVENTS_TOKEN = 'evt-token-456';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function startAirbyteApis(opts: {
  projects: number;
  tasksPerProject: number;
  events: number;
}): Promise<AirbyteApis> {
  const start = Date.parse('2025-03-01T00:00:00Z');
  const projects: Project[] = Array.from({ length: opts.projects }, (_, i) => ({
    id: i + 1,
    name: `Project ${i + 1}`,
    status: i % 7 === 3 ? 'archived' : 'active',
    owner: { name: `owner-${i % 5}` },
    updated_at: iso(start + i * 3_600_000),
  }));
  const tasks: Task[] = projects.flatMap((p) =>
    Array.from({ length: opts.tasksPerProject }, (_, j) => ({
      id: j + 1,
      project_id: p.id,
      title: `Task ${p.id}.${j + 1}`,
    })),
  );
  const eventStart = Date.parse('2025-06-02T00:00:00Z') / 1000;
  const events: Event[] = Array.from({ length: opts.events }, (_, i) => ({
    account_id: i % 2 === 0 ? 'acct1' : 'acct2',
    id: `e${String(i + 1).padStart(4, '0')}`,
    type: 'click',
    // Spread over about 40 days (several 7-day windows), in whole seconds.
    updated_at: eventStart + Math.floor((i * 40 * 86_400) / opts.events),
  }));
  const goneProjects = new Set<number>();
  const requests: AirbyteApis['requests'] = [];

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (u.pathname.startsWith('/v1/')) {
        if (req.headers['x-api-key'] !== ACME_KEY) return send(401, { error: 'unauthorized' });
        const offset = Number(u.searchParams.get('offset') ?? 0);
        const limit = Math.min(Number(u.searchParams.get('limit') ?? 20), 40);
        if (u.pathname === '/v1/projects') {
          const since = u.searchParams.get('updated_since');
          if (since !== null && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(since))
            return send(400, {
              error: 'bad_request',
              message: `updated_since must be yyyy-mm-ddThh:mm:ssZ, got ${since}`,
            });
          const all = projects
            .filter((p) => since === null || Date.parse(p.updated_at) >= Date.parse(since))
            .sort((a, b) => a.id - b.id);
          return send(200, { data: all.slice(offset, offset + limit), total: all.length });
        }
        const m = /^\/v1\/projects\/(\d+)\/tasks$/.exec(u.pathname);
        if (m) {
          const id = Number(m[1]);
          if (goneProjects.has(id) || !projects.some((p) => p.id === id))
            return send(404, { error: 'not_found' });
          const all = tasks.filter((t) => t.project_id === id);
          return send(200, { items: all.slice(offset, offset + limit) });
        }
        return send(404, { error: 'not_found' });
      }
      if (req.method === 'POST' && u.pathname === '/v2/events/search') {
        if (req.headers.authorization !== `Bearer ${EVENTS_TOKEN}`)
          return send(401, { error: 'unauthorized' });
        const b = body as {
          limit?: number;
          starting_after?: string;
          updated_from?: number;
          updated_to?: number;
          account?: string;
        };
        if (typeof b.limit !== 'number') return send(400, { error: 'limit must be a number' });
        const from = b.updated_from ?? -Infinity;
        const to = b.updated_to ?? Infinity;
        const all = events
          .filter((e) => e.updated_at >= from && e.updated_at < to)
          .sort((a, c) => a.id.localeCompare(c.id));
        const at = b.starting_after ? all.findIndex((e) => e.id === b.starting_after) + 1 : 0;
        const page = all.slice(at, at + Math.min(b.limit, 50));
        const more = at + page.length < all.length;
        return send(200, { results: page, paging: { next: more ? page.at(-1)!.id : null }, has_more: more });
      }
      send(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    projects,
    tasks,
    events,
    goneProjects,
    requests,
    touchProjects(ids) {
      for (const p of projects) if (ids.includes(p.id)) p.updated_at = iso(Date.now() - 120_000);
    },
    touchEvents(ids) {
      for (const e of events) if (ids.includes(e.id)) e.updated_at = Math.floor(Date.now() / 1000) - 120;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/**
 * Notes (session-feed.yaml): POST /session with a JSON username and password answers
 * `{ session: { token } }`; every other request needs the token in X-Session (401 otherwise, and after
 * `expireSessions()`). /v3/notes lists JSON:API resources (`data[].attributes`) by id, with no time
 * filter, `page`/`size` pages; /v3/audit lists keyless entries (`entries`), duplicates included.
 */
export interface Note {
  id: number;
  title: string;
  author: { name: string };
  updated_at: string;
}
export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
}

export interface NotesApi {
  readonly url: string;
  readonly notes: Note[];
  readonly audit: AuditEntry[];
  readonly requests: { method: string; url: string }[];
  /** How many logins succeeded. */
  readonly logins: () => number;
  /** Every issued token stops working (the provider's sessions expired). */
  expireSessions(): void;
  touchNotes(ids: number[]): void;
  close(): Promise<void>;
}

export const NOTES_USER = 'ana';
export const NOTES_PASSWORD = 'pw-789';

export async function startNotesApi(opts: { notes: number; audit: number }): Promise<NotesApi> {
  const start = Date.parse('2024-12-30T00:00:00Z');
  // The first few fall before the manifest's start_datetime (2025-01-01): a first run skips them.
  const notes: Note[] = Array.from({ length: opts.notes }, (_, i) => ({
    id: i + 1,
    title: `Note ${i + 1}`,
    author: { name: `author-${i % 4}` },
    updated_at: iso(start + i * 5 * 3_600_000), // never exactly on the start date
  }));
  const audit: AuditEntry[] = Array.from({ length: opts.audit }, (_, i) => ({
    at: iso(start + i * 60_000),
    actor: `user-${i % 3}`,
    action: i % 2 === 0 ? 'edit' : 'view',
  }));
  // One entry twice, as logs do: the same content is one record.
  audit.splice(5, 0, { ...audit[4]! });
  const tokens = new Set<string>();
  let logins = 0;
  const requests: NotesApi['requests'] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? '', url: req.url ?? '' });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (u.pathname === '/session' && req.method === 'POST') {
        const b = (raw ? JSON.parse(raw) : {}) as { username?: string; password?: string };
        if (b.username !== NOTES_USER || b.password !== NOTES_PASSWORD)
          return send(401, { error: 'bad credentials' });
        logins++;
        const token = `tok-${logins}-${Math.random().toString(36).slice(2)}`;
        tokens.add(token);
        return send(200, { session: { token } });
      }
      if (!tokens.has(String(req.headers['x-session'] ?? ''))) return send(401, { error: 'session expired' });
      const page = Number(u.searchParams.get('page') ?? 1);
      const size = Number(u.searchParams.get('size') ?? 10);
      const slice = <T>(all: T[]) => all.slice((page - 1) * size, page * size);
      if (u.pathname === '/v3/notes')
        return send(200, {
          data: slice([...notes].sort((a, b) => a.id - b.id)).map((n) => ({
            type: 'note',
            id: String(n.id),
            attributes: n,
          })),
        });
      if (u.pathname === '/v3/audit') return send(200, { entries: slice(audit) });
      if (u.pathname === '/v3/me') return send(200, { user: { id: 'u1', name: NOTES_USER, plan: 'team' } });
      send(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    notes,
    audit,
    requests,
    logins: () => logins,
    expireSessions: () => tokens.clear(),
    touchNotes(ids) {
      for (const n of notes) if (ids.includes(n.id)) n.updated_at = iso(Date.now() - 120_000);
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/**
 * Logs (relative-windows.yaml): X-Logs-Key. /api/logs answers the logs with `filter[from] <= timestamp <
 * filter[to]` (both required, `yyyy-mm-ddThh:mm:ssZ`); /api/monitors every monitor (no filter);
 * /api/contacts the contacts modified on or after the day of `modified_since` (the API filters by day
 * only, so a client-side floor is what keeps the earlier ones of that day out), one dated ahead of now.
 */
export interface LogEntry {
  id: string;
  timestamp: string;
  message: string;
}
export interface Monitor {
  id: number;
  name: string;
  created: string;
}
export interface Contact {
  id: number;
  email: string;
  modified: string;
}

export interface LogsApi {
  readonly url: string;
  readonly logs: LogEntry[];
  readonly monitors: Monitor[];
  readonly contacts: Contact[];
  readonly requests: { url: string }[];
  close(): Promise<void>;
}

export const LOGS_KEY = 'logs-key-321';

const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** `nowMs` anchors the data: logs every 10 hours back from 7 minutes before it, over 40 days. */
export async function startLogsApi(nowMs: number): Promise<LogsApi> {
  const logs: LogEntry[] = Array.from({ length: 96 }, (_, k) => ({
    id: `log-${k}`,
    // Never within minutes of a day boundary relative to now (30 days back, 1 day back).
    timestamp: iso(nowMs - k * 10 * 3_600_000 - 7 * 60_000),
    message: `line ${k}`,
  }));
  const monitors: Monitor[] = Array.from({ length: 12 }, (_, i) => ({
    id: i + 1,
    name: `monitor ${i + 1}`,
    created: iso(Date.parse('2024-01-01T00:00:00Z') + i * 86_400_000),
  }));
  // Three or four a day from 2019-12-30 on: the first ones fall before the start (2020-01-01).
  const contacts: Contact[] = Array.from({ length: 40 }, (_, i) => ({
    id: i + 1,
    email: `c${i + 1}@example.com`,
    modified: iso(Date.parse('2019-12-30T01:00:00Z') + i * 7 * 3_600_000),
  }));
  // Scheduled ahead: after the end of every run (now), so never synced.
  contacts.push({ id: 41, email: 'later@example.com', modified: iso(nowMs + 86_400_000) });
  const requests: LogsApi['requests'] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      requests.push({ url: req.url ?? '' });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers['x-logs-key'] !== LOGS_KEY) return send(401, { error: 'unauthorized' });
      if (u.pathname === '/api/logs') {
        const from = u.searchParams.get('filter[from]') ?? '';
        const to = u.searchParams.get('filter[to]') ?? '';
        if (!ISO_SECONDS.test(from) || !ISO_SECONDS.test(to))
          return send(400, { error: 'filter[from] and filter[to] must be yyyy-mm-ddThh:mm:ssZ' });
        const inRange = logs.filter((l) => l.timestamp >= from && l.timestamp < to);
        return send(200, { data: inRange });
      }
      if (u.pathname === '/api/monitors') return send(200, { data: monitors });
      if (u.pathname === '/api/contacts') {
        const since = u.searchParams.get('modified_since') ?? '';
        if (!ISO_SECONDS.test(since))
          return send(400, { error: 'modified_since must be yyyy-mm-ddThh:mm:ssZ' });
        return send(200, { data: contacts.filter((c) => c.modified.slice(0, 10) >= since.slice(0, 10)) });
      }
      send(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    logs,
    monitors,
    contacts,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/**
 * Desk (basic-remove-config-url.yaml): a self-hosted help desk, so each connection names its URL.
 * /api/v2/tickets with `page`/`per_page` needs HTTP basic with the API key as the user name and an
 * empty password (401 otherwise); tickets carry `meta.created_at`, an HTML and a text body, and
 * comments with their authors' emails. /api/v2/agents pages by its own size (10), offset by `start`,
 * and refuses any other parameter. /api/v2/reports/{daily|weekly}?region=… answers two rows per
 * period and region. Any number can run at once (one per "instance").
 */
export interface DeskTicket {
  id: number;
  subject: string;
  meta: { created_at: string; source: string };
  body: { html: string; text: string };
  comments: { id: number; author_email: string; text: string }[];
}

export interface DeskApi {
  readonly url: string;
  readonly tickets: DeskTicket[];
  readonly agents: { id: number; name: string }[];
  readonly requests: { url: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

export const DESK_KEY = 'desk-key-321';

/** A report's rows for one period and region: two, with ids unique across reports. */
export function reportRows(period: string, region: string): { id: string; period: string; value: number }[] {
  return [1, 2].map((i) => ({ id: `${period}-${region}-${i}`, period, value: i * region.length }));
}

/** The agents endpoint's own page size (it takes no size parameter). */
const AGENT_PAGE = 10;

export async function startDeskApi(opts: {
  tickets: number;
  prefix: string;
  agents?: number;
}): Promise<DeskApi> {
  const start = Date.parse('2025-02-01T00:00:00Z');
  const tickets: DeskTicket[] = Array.from({ length: opts.tickets }, (_, i) => ({
    id: i + 1,
    subject: `${opts.prefix} ticket ${i + 1}`,
    meta: { created_at: iso(start + i * 60_000), source: i % 2 === 0 ? 'email' : 'web' },
    body: { html: `<p>Ticket ${i + 1}</p>`, text: `Ticket ${i + 1}` },
    comments: Array.from({ length: i % 3 }, (_, j) => ({
      id: j + 1,
      author_email: `agent${j}@example.org`,
      text: `reply ${j + 1}`,
    })),
  }));
  const agents = Array.from({ length: opts.agents ?? 23 }, (_, i) => ({ id: i + 1, name: `agent ${i + 1}` }));
  const requests: DeskApi['requests'] = [];
  const expected = `Basic ${Buffer.from(`${DESK_KEY}:`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== expected) return send(401, { error: 'unauthorized' });
    if (u.pathname === '/api/v2/agents') {
      // Pages of its own fixed size: any other parameter than `start` is refused.
      const other = [...u.searchParams.keys()].filter((k) => k !== 'start');
      if (other.length) return send(400, { error: `unknown parameter ${other[0]}` });
      const at = Number(u.searchParams.get('start') ?? 0);
      return send(200, { agents: agents.slice(at, at + AGENT_PAGE) });
    }
    const report = /^\/api\/v2\/reports\/(daily|weekly)$/.exec(u.pathname);
    if (report) {
      const region = u.searchParams.get('region');
      if (region === null) return send(400, { error: 'region is required' });
      return send(200, { rows: reportRows(report[1]!, region) });
    }
    if (u.pathname !== '/api/v2/tickets') return send(404, { error: 'not_found' });
    const page = Number(u.searchParams.get('page') ?? 1);
    const size = Math.min(Number(u.searchParams.get('per_page') ?? 10), 25);
    send(200, { tickets: tickets.slice((page - 1) * size, page * size) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tickets,
    agents,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** A production and a sandbox host of one API (chosen-host.yaml): the same port, two loopback addresses. */
export interface CoinsApis {
  production: string;
  sandbox: string;
  /** Every request either host got: which host, the path, the key sent. */
  requests: { host: 'production' | 'sandbox'; url: string; key: string | undefined }[];
  close(): Promise<void>;
}

export const COINS_KEY = 'coins-key-555';

/** Records tagged with the host that served them, so a sync shows where it read from. */
export function coinRows(
  host: 'production' | 'sandbox',
  kind: 'assets' | 'quotes',
): { id: string; host: string }[] {
  return Array.from({ length: kind === 'assets' ? 4 : 3 }, (_, i) => ({ id: `${kind}-${i + 1}`, host }));
}

export async function startCoinsApis(): Promise<CoinsApis> {
  const requests: CoinsApis['requests'] = [];
  const serve = (host: 'production' | 'sandbox') =>
    http.createServer((req, res) => {
      const key = req.headers['x-coins-key'];
      requests.push({ host, url: req.url ?? '', key: typeof key === 'string' ? key : undefined });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (key !== COINS_KEY) return send(401, { error: 'unauthorized' });
      const m = /^\/v1\/(assets|quotes)$/.exec(req.url ?? '');
      if (!m) return send(404, { error: 'not_found' });
      send(200, { data: coinRows(host, m[1] as 'assets' | 'quotes') });
    });
  const listen = (server: http.Server, port: number, address: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => resolve());
    });
  const close = (server: http.Server) =>
    new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  // Both hosts on one port, as the manifest's two URLs differ only in the host; retry a taken port.
  for (let attempt = 0; ; attempt++) {
    const production = serve('production');
    await listen(production, 0, '127.0.0.1');
    const { port } = production.address() as AddressInfo;
    const sandbox = serve('sandbox');
    try {
      await listen(sandbox, port, '127.0.0.2');
    } catch (error) {
      await close(production);
      if (attempt < 5) continue;
      throw error;
    }
    return {
      production: `http://127.0.0.1:${port}`,
      sandbox: `http://127.0.0.2:${port}`,
      requests,
      close: async () => {
        await close(production);
        await close(sandbox);
      },
    };
  }
}

/**
 * Shortly (grandchildren.yaml): bearer token; /v1/groups; /v1/groups/{guid}/links (link ids count from 1
 * in each group, so only the group tells two links apart); /v1/groups/{guid}/links/{id}/clicks, one row
 * per day (days repeat across links). Unknown groups and links are 404.
 */
export interface ShortLink {
  id: number;
  group_guid: string;
  url: string;
}
export interface ShortlyApi {
  readonly url: string;
  readonly groups: { guid: string; name: string }[];
  /** Mutable: a test may add or remove links between runs. */
  readonly links: ShortLink[];
  readonly requests: string[];
  close(): Promise<void>;
}

export const SHORTLY_TOKEN = 'shortly-token-654';

/** A link's click rows: one to three days, the counts telling links apart. */
export function clickRows(group: string, link: number): { day: string; count: number }[] {
  return Array.from({ length: (link % 3) + 1 }, (_, i) => ({
    day: `2025-03-0${i + 1}`,
    count: link * 10 + i + group.length,
  }));
}

export async function startShortlyApi(): Promise<ShortlyApi> {
  const groups = ['g-alpha', 'g-beta', 'g-gamma', 'g-empty'].map((guid) => ({ guid, name: guid.slice(2) }));
  const links: ShortLink[] = groups.flatMap((g, gi) =>
    Array.from({ length: gi === 3 ? 0 : gi + 2 }, (_, i) => ({
      id: i + 1,
      group_guid: g.guid,
      url: `https://sho.rt/${g.guid}/${i + 1}`,
    })),
  );
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(req.url ?? '');
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${SHORTLY_TOKEN}`) return send(401, { error: 'unauthorized' });
    if (u.pathname === '/v1/groups') return send(200, { data: groups });
    const m = /^\/v1\/groups\/([^/]+)\/links(?:\/(\d+)\/clicks)?$/.exec(u.pathname);
    const group = m && groups.find((g) => g.guid === decodeURIComponent(m[1]!));
    if (!m || !group) return send(404, { error: 'not_found' });
    const mine = links.filter((l) => l.group_guid === group.guid);
    if (m[2] === undefined) return send(200, { data: mine });
    if (!mine.some((l) => l.id === Number(m[2]))) return send(404, { error: 'not_found' });
    send(200, { data: clickRows(group.guid, Number(m[2])) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    groups,
    links,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
