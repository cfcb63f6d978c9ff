/**
 * Real HTTP servers answering in the documented shapes of four providers, over one shared dataset, for
 * the spec-language tests: Notion (cursor and filter in a POST body), GitHub GraphQL (variables,
 * pageInfo), Stripe (starting_after = last id, has_more, limit as a maximum) and Jira (startAt/total,
 * maxResults capped below what was asked, incremental inside JQL). Each records the requests it got.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface Item {
  id: string;
  title: string;
  updated: number; // ms
}

export interface ShapeServer {
  readonly url: string;
  readonly items: Item[];
  readonly requests: { method: string; url: string; body: unknown }[];
  /** Marks items changed two minutes ago (clear of minute-precision bounds such as JQL's). */
  touch(ids: string[]): void;
  close(): Promise<void>;
}

const DAY = 86_400_000;

export function makeItems(n: number, start = Date.parse('2026-01-01T00:00:00Z')): Item[] {
  // Spread over about 60 days, sorted by id.
  return Array.from({ length: n }, (_, i) => ({
    id: `i${String(i + 1).padStart(4, '0')}`,
    title: `Item ${i + 1}`,
    updated: start + Math.floor((i * 60 * DAY) / n),
  }));
}

function jiraDate(text: string): number {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2})$/.exec(text);
  if (!m) throw new Error(`bad JQL date ${text}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
}

export async function startShapeServer(items: Item[]): Promise<ShapeServer> {
  const requests: ShapeServer['requests'] = [];
  const sorted = () => [...items].sort((a, b) => a.id.localeCompare(b.id));
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      // Notion: POST /v1/databases/{id}/query { start_cursor?, page_size, filter? }
      if (req.method === 'POST' && /^\/v1\/databases\/[^/]+\/query$/.test(u.pathname)) {
        const b = body as {
          start_cursor?: string;
          page_size?: number;
          filter?: { timestamp: string; last_edited_time: { on_or_after: string } };
        };
        if (b.start_cursor === null) return send(400, { object: 'error', code: 'validation_error' });
        const after = b.filter ? Date.parse(b.filter.last_edited_time.on_or_after) : -Infinity;
        const all = sorted().filter((i) => i.updated >= after);
        const from = b.start_cursor ? all.findIndex((i) => i.id === b.start_cursor) : 0;
        const size = Math.min(b.page_size ?? 100, 100);
        const page = all.slice(from, from + size);
        const next = all[from + size];
        return send(200, {
          object: 'list',
          results: page.map((i) => ({
            object: 'page',
            id: i.id,
            last_edited_time: new Date(i.updated).toISOString(),
            properties: { Name: { title: [{ plain_text: i.title }] } },
          })),
          next_cursor: next ? next.id : null,
          has_more: next !== undefined,
        });
      }
      // GitHub GraphQL: POST /graphql { query, variables: { owner, name, first, after, since } }
      if (req.method === 'POST' && u.pathname === '/graphql') {
        const v = (body as { variables?: Record<string, unknown> }).variables ?? {};
        if (typeof v.first !== 'number' || v.first > 100)
          return send(200, { errors: [{ message: '`first` must be between 1 and 100' }] });
        const since = typeof v.since === 'string' ? Date.parse(v.since) : -Infinity;
        const all = sorted().filter((i) => i.updated >= since);
        const from = typeof v.after === 'string' ? Number(Buffer.from(v.after, 'base64').toString()) : 0;
        const page = all.slice(from, from + v.first);
        const end = from + page.length;
        return send(200, {
          data: {
            repository: {
              issues: {
                nodes: page.map((i) => ({
                  id: i.id,
                  title: i.title,
                  updatedAt: new Date(i.updated).toISOString(),
                })),
                pageInfo: {
                  hasNextPage: end < all.length,
                  endCursor: Buffer.from(String(end)).toString('base64'),
                },
              },
            },
          },
        });
      }
      // Stripe: GET /v1/customers?limit&starting_after&created[gte]  (limit is a maximum: serves fewer)
      if (req.method === 'GET' && u.pathname === '/v1/customers') {
        const gte = u.searchParams.get('created[gte]');
        const all = sorted().filter((i) => gte === null || i.updated / 1000 >= Number(gte));
        const after = u.searchParams.get('starting_after');
        const from = after ? all.findIndex((i) => i.id === after) + 1 : 0;
        const limit = Number(u.searchParams.get('limit') ?? 10);
        const page = all.slice(from, from + Math.max(1, limit - 3));
        return send(200, {
          object: 'list',
          data: page.map((i) => ({
            id: i.id,
            object: 'customer',
            name: i.title,
            created: Math.floor(i.updated / 1000),
          })),
          has_more: from + page.length < all.length,
          url: '/v1/customers',
        });
      }
      // Jira: GET /rest/api/3/search?jql&startAt&maxResults (maxResults capped at 50)
      if (req.method === 'GET' && u.pathname === '/rest/api/3/search') {
        const jql = u.searchParams.get('jql') ?? '';
        const m =
          /^project = "((?:[^"\\]|\\.)*)"(?: AND updated >= "([^"]+)")?(?: AND updated < "([^"]+)")?$/.exec(
            jql,
          );
        if (!m) return send(400, { errorMessages: [`Error in the JQL Query: ${jql}`] });
        const lo = m[2] ? jiraDate(m[2]) : -Infinity;
        const hi = m[3] ? jiraDate(m[3]) : Infinity;
        const all = sorted().filter((i) => i.updated >= lo && i.updated < hi);
        const startAt = Number(u.searchParams.get('startAt') ?? 0);
        const max = Math.min(Number(u.searchParams.get('maxResults') ?? 50), 50);
        return send(200, {
          startAt,
          maxResults: max,
          total: all.length,
          issues: all.slice(startAt, startAt + max).map((i) => ({
            id: i.id,
            key: i.id.toUpperCase(),
            fields: { summary: i.title, updated: new Date(i.updated).toISOString() },
          })),
        });
      }
      // HubSpot: POST /crm/v3/objects/contacts/search { filterGroups?, limit, after }; fields under
      // `properties`, every 10th contact archived, paging.next.after until the last page.
      if (req.method === 'POST' && u.pathname === '/crm/v3/objects/contacts/search') {
        const b = body as {
          limit?: number;
          after?: string;
          filterGroups?: { filters: { propertyName: string; operator: string; value: string }[] }[];
        };
        const gte = b.filterGroups?.[0]?.filters.find(
          (f) => f.propertyName === 'lastmodifieddate' && f.operator === 'GTE',
        );
        const all = sorted().filter((i) => !gte || i.updated >= Number(gte.value));
        const from = Number(b.after ?? 0);
        const page = all.slice(from, from + (b.limit ?? 10));
        const end = from + page.length;
        return send(200, {
          total: all.length,
          results: page.map((i) => ({
            id: i.id,
            properties: {
              firstname: i.title,
              lastmodifieddate: new Date(i.updated).toISOString(),
              hs_object_id: i.id,
            },
            createdAt: '2025-01-01T00:00:00Z',
            updatedAt: new Date(i.updated).toISOString(),
            archived: Number(i.id.slice(1)) % 10 === 0,
          })),
          ...(end < all.length ? { paging: { next: { after: String(end) } } } : {}),
        });
      }
      // Exports: the whole dataset as a CSV file, or as gzip-compressed JSON Lines (a file, not a
      // Content-Encoding), as report endpoints serve them.
      if (req.method === 'GET' && u.pathname === '/exports/items.csv') {
        const quoted = (t: string) => `"${t.replace(/"/g, '""')}"`;
        const rows = sorted().map(
          (i) => `${i.id},${quoted(`${i.title}, the "best"`)},${new Date(i.updated).toISOString()}`,
        );
        res.writeHead(200, { 'content-type': 'text/csv' });
        return res.end(`id,title,updated\r\n${rows.join('\r\n')}\r\n`);
      }
      if (req.method === 'GET' && u.pathname === '/exports/items.jsonl.gz') {
        const lines = sorted().map((i) => JSON.stringify({ id: i.id, title: i.title, updated: i.updated }));
        res.writeHead(200, { 'content-type': 'application/gzip' });
        return res.end(zlib.gzipSync(`${lines.join('\n')}\n`));
      }
      send(404, { message: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    items,
    requests,
    touch(ids) {
      const now = Date.now() - 120_000;
      for (const i of items) if (ids.includes(i.id)) i.updated = now;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
