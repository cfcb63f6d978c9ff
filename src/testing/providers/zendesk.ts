/**
 * Zendesk Support incremental exports, as documented. Cursor-based (tickets, users):
 * GET /api/v2/incremental/{tickets,users}/cursor.json?start_time=<unix> on the first call, then
 * ?cursor=<after_cursor> (the `after_url`) until `end_of_stream: true`; `per_page` at most 1000.
 * Time-based (organizations): GET /api/v2/incremental/organizations.json?start_time, `next_page` and
 * `end_time`, `end_of_stream`. start_time must be at least a minute in the past, and items changed in
 * the last minute are left out. Too many requests is
 * a 429 with Retry-After; errors are `{ error, description }`.
 */
import {
  decodeCursor,
  encodeCursor,
  iso,
  startCatalogServer,
  unix,
  type CatalogItem,
  type CatalogReply,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

const exports: Record<string, (i: CatalogItem) => object> = {
  tickets: (i) => ({
    id: i.n,
    subject: i.name,
    status: i.n % 4 === 0 ? 'solved' : 'open',
    priority: i.n % 3 === 0 ? 'high' : null,
    requester_id: 9000 + (i.n % 20),
    tags: [`t${i.n % 5}`],
    created_at: iso(i.created).replace(/\.\d{3}Z$/, 'Z'),
    updated_at: iso(i.updated).replace(/\.\d{3}Z$/, 'Z'),
    generated_timestamp: unix(i.updated),
  }),
  users: (i) => ({
    id: 9000 + i.n,
    name: i.name,
    email: `user${i.n}@example.com`,
    role: i.n % 10 === 0 ? 'agent' : 'end-user',
    created_at: iso(i.created).replace(/\.\d{3}Z$/, 'Z'),
    updated_at: iso(i.updated).replace(/\.\d{3}Z$/, 'Z'),
  }),
  organizations: (i) => ({
    id: 7000 + i.n,
    name: i.name,
    domain_names: [`org${i.n}.example.com`],
    created_at: iso(i.created).replace(/\.\d{3}Z$/, 'Z'),
    updated_at: iso(i.updated).replace(/\.\d{3}Z$/, 'Z'),
  }),
};

const invalid = (description: string): CatalogReply => ({
  status: 422,
  body: { error: 'InvalidValue', description },
});

export const zendeskShape: ProviderShape = {
  route(req, ctx) {
    const m = /^\/api\/v2\/incremental\/(tickets|users|organizations)(\/cursor)?\.json$/.exec(req.path);
    if (req.method !== 'GET' || !m) return undefined;
    const kind = m[1]!;
    const cursorBased = m[2] !== undefined;
    if (cursorBased === (kind === 'organizations')) return undefined;
    const base = `${ctx.url}${req.path}`;
    const perPage = ctx.pageCap(Number(req.query.get('per_page') ?? 1000), 1000, 1000);
    const cursor = req.query.get('cursor');
    const startText = req.query.get('start_time');
    let start: number;
    let from = 0;
    if (cursorBased && cursor) {
      // The cursor carries where the export started and how far it got.
      const [s, o] = Buffer.from(cursor, 'base64url').toString().split('|');
      start = Number(s);
      from = decodeCursor(o);
    } else {
      if (startText === null || !/^\d+$/.test(startText))
        return invalid('start_time is required and must be a number');
      start = Number(startText);
      if (start * 1000 > Date.now() - 60_000)
        return invalid('Too recent start_time. Use a start_time older than 1 minute.');
    }
    // Items changed within the last minute are left out (Zendesk's accuracy rule).
    const rows = ctx.items
      .filter((i) => unix(i.updated) >= start && i.updated <= Date.now() - 60_000)
      .sort((a, b) => a.updated - b.updated || a.n - b.n);
    const page = rows.slice(from, from + perPage);
    const end = from + page.length;
    const done = end >= rows.length;
    const shaped = page.map(exports[kind]!);
    if (cursorBased) {
      const after = Buffer.from(`${start}|${encodeCursor(end)}`).toString('base64url');
      return {
        body: {
          [kind]: shaped,
          after_cursor: after,
          before_cursor: null,
          after_url: `${base}?cursor=${after}&per_page=${perPage}`,
          before_url: null,
          end_of_stream: done,
        },
      };
    }
    // Time-based: the next page starts at the last record's time (records of that second repeat).
    const endTime = page.length ? unix(page.at(-1)!.updated) : start;
    const nextStart = done ? endTime : endTime === start ? endTime + 1 : endTime;
    return {
      body: {
        [kind]: shaped,
        count: shaped.length,
        end_time: endTime,
        next_page: `${base}?start_time=${nextStart}&per_page=${perPage}`,
        end_of_stream: done,
      },
    };
  },
  rateLimited: () => ({
    status: 429,
    headers: { 'retry-after': '1' },
    body: {
      error: 'APIRateLimitExceeded',
      description: 'Number of allowed incremental export API requests per minute exceeded',
    },
  }),
  fatal: () => ({
    status: 403,
    body: {
      error: 'Forbidden',
      description:
        'You do not have access to this page. Please contact the account owner of this help desk for further help.',
    },
  }),
  okHeaders: (ctx) => ({
    'x-rate-limit': '700',
    'x-rate-limit-remaining': String(Math.max(1, 700 - ctx.served)),
  }),
};

export function startZendeskSimulator(options?: CatalogSimulatorOptions): Promise<CatalogSimulator> {
  return startCatalogServer('zendesk', zendeskShape, options);
}
