/**
 * Notion (API version 2025-09-03), as documented: POST /v1/data_sources/{id}/query with `start_cursor`,
 * `page_size` (at most 100), `filter` and `sorts` in the JSON body; GET /v1/users with `start_cursor` and
 * `page_size` in the query. Answers `{ object: "list", results, next_cursor, has_more }`. Errors are
 * `{ object: "error", status, code, message }`; rate_limited is a 429 with Retry-After.
 */
import {
  decodeCursor,
  encodeCursor,
  iso,
  startCatalogServer,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

export const NOTION_DATA_SOURCE = '2f26ee68-df30-4251-aad4-8ddc420cba3d';
/** Notion ids are UUIDs; item n gets a stable one. */
export const notionPageId = (n: number) => `0f1e2d3c-0000-4000-8000-${String(n).padStart(12, '0')}`;

const error = (status: number, code: string, message: string) => ({
  status,
  body: { object: 'error', status, code, message, request_id: 'b2f4c8a0-0000-4000-8000-000000000000' },
});

function page(
  rows: readonly CatalogItem[],
  cursor: unknown,
  size: number,
  shape: (i: CatalogItem) => object,
) {
  const from = decodeCursor(typeof cursor === 'string' ? cursor : null);
  const slice = rows.slice(from, from + size);
  const end = from + slice.length;
  return {
    body: {
      object: 'list',
      results: slice.map(shape),
      next_cursor: end < rows.length ? encodeCursor(end) : null,
      has_more: end < rows.length,
      type: 'page_or_data_source',
      page_or_data_source: {},
    },
  };
}

export const notionShape: ProviderShape = {
  route(req, ctx) {
    if (req.headers['notion-version'] !== '2025-09-03')
      return error(400, 'missing_version', 'Notion-Version header failed validation: expected 2025-09-03.');
    const q = /^\/v1\/data_sources\/([^/]+)\/query$/.exec(req.path);
    if (req.method === 'POST' && q) {
      if (q[1] !== NOTION_DATA_SOURCE)
        return error(404, 'object_not_found', `Could not find data_source with ID: ${q[1]}.`);
      const b = (req.body ?? {}) as {
        start_cursor?: unknown;
        page_size?: number;
        filter?: { timestamp?: string; last_edited_time?: { on_or_after?: string } };
      };
      if (b.start_cursor === null || b.start_cursor === '')
        return error(
          400,
          'validation_error',
          'body failed validation: body.start_cursor should be a string.',
        );
      const after = b.filter?.last_edited_time?.on_or_after;
      const since = after ? Date.parse(after) : -Infinity;
      const rows = ctx.items
        .filter((i) => i.updated >= since)
        .sort((a, c) => a.updated - c.updated || a.n - c.n);
      return page(rows, b.start_cursor, ctx.pageCap(b.page_size, 100, 100), (i) => ({
        object: 'page',
        id: notionPageId(i.n),
        created_time: iso(i.created),
        last_edited_time: iso(i.updated),
        archived: false,
        in_trash: false,
        url: `https://www.notion.so/${notionPageId(i.n).replace(/-/g, '')}`,
        parent: { type: 'data_source_id', data_source_id: NOTION_DATA_SOURCE },
        properties: {
          Name: { id: 'title', type: 'title', title: [{ type: 'text', plain_text: i.name }] },
          Status: { id: 's', type: 'status', status: { name: i.n % 2 ? 'Done' : 'In progress' } },
        },
      }));
    }
    if (req.method === 'GET' && req.path === '/v1/users') {
      const rows = [...ctx.items].sort((a, c) => a.n - c.n);
      const size = ctx.pageCap(Number(req.query.get('page_size') ?? 100), 100, 100);
      return page(rows, req.query.get('start_cursor'), size, (i) => ({
        object: 'user',
        id: `5a6b7c8d-0000-4000-8000-${String(i.n).padStart(12, '0')}`,
        type: i.n % 10 === 0 ? 'bot' : 'person',
        name: i.name,
        avatar_url: null,
        ...(i.n % 10 === 0 ? { bot: {} } : { person: { email: `person${i.n}@example.com` } }),
      }));
    }
    return undefined;
  },
  rateLimited: () => ({
    ...error(429, 'rate_limited', 'You have been rate limited. Please try again in a few minutes.'),
    headers: { 'retry-after': '1' },
  }),
  fatal: () => error(401, 'unauthorized', 'API token is invalid.'),
};

export function startNotionSimulator(options?: CatalogSimulatorOptions): Promise<CatalogSimulator> {
  return startCatalogServer('notion', notionShape, options);
}
