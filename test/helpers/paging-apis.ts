/**
 * A real HTTP server answering as the APIs of test/fixtures/airbyte/paging-stops.yaml: each stream ends
 * its pages in its own way (a body value, a header, a page count, an empty page). Asked for a page past
 * the end, it answers with a "ghost" record, so a sync that missed a stop condition stores one too many.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const PAGING_KEY = 'paging-key-42';
export const PAGING_STREAMS = [
  'tickets',
  'items',
  'entries',
  'responses',
  'accounts',
  'files',
  'sessions',
  'activities',
  'calendars',
  'errors',
  'notes',
] as const;
export type PagingStream = (typeof PAGING_STREAMS)[number];

export interface PagingApi {
  url: string;
  /** The records of each stream, in order. */
  records: Record<PagingStream, { id: string }[]>;
  requests: { path: string; query: URLSearchParams }[];
  close(): Promise<void>;
}

const ghost = (stream: string) => ({ id: `${stream}-ghost` });

export async function startPagingApi(count: number): Promise<PagingApi> {
  const records = Object.fromEntries(
    PAGING_STREAMS.map((s) => [
      s,
      Array.from({ length: count }, (_, i) => ({ id: `${s}-${String(i + 1).padStart(3, '0')}` })),
    ]),
  ) as PagingApi['records'];
  const requests: PagingApi['requests'] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const q = u.searchParams;
    requests.push({ path: u.pathname, query: q });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    if (req.headers['x-api-key'] !== PAGING_KEY) return send(401, { error: 'bad key' });
    const stream = u.pathname.split('/')[2] as PagingStream;
    const all = records[stream];
    if (!all) return send(404, { error: 'no such path' });
    /** The page after the record with id `after` (all when absent); a past-the-end page is a ghost. */
    const after = (id: string | null, size: number) => {
      const start = id === null ? 0 : all.findIndex((r) => r.id === id) + 1;
      if (id !== null && start === 0) return { page: [ghost(stream)], more: false };
      if (start >= all.length) return { page: [ghost(stream)], more: false };
      const page = all.slice(start, start + size);
      return { page, more: start + size < all.length };
    };
    const size = (name: string) => Number(q.get(name) ?? 0) || 10;
    switch (stream) {
      case 'tickets': {
        const { page, more } = after(q.get('starting_after'), size('limit'));
        return send(200, {
          data: page,
          links: { next: more ? `/v1/tickets?starting_after=${page.at(-1)!.id}` : null },
        });
      }
      case 'items': {
        const n = Number(q.get('page') ?? 1);
        const per = size('per_page');
        const pages = Math.ceil(all.length / per);
        const page = n > pages ? [ghost(stream)] : all.slice((n - 1) * per, n * per);
        // Another host in the next URL: only its page number is used.
        return send(200, {
          data: page,
          next: n < pages ? `https://elsewhere.test/v1/items?page=${n + 1}&per_page=${per}` : null,
        });
      }
      case 'entries': {
        const n = Number(q.get('page') ?? 1);
        const per = size('items_per_page');
        const pages = Math.ceil(all.length / per);
        const page = n > pages ? [ghost(stream)] : all.slice((n - 1) * per, n * per);
        return send(200, { data: page, paging: { current_page: String(n), count_pages: String(pages) } });
      }
      case 'responses': {
        // The provider's own page size of 7, not told to the client.
        const skip = Number(q.get('skip') ?? 0);
        return send(200, { data: all.slice(skip, skip + 7) });
      }
      case 'accounts': {
        const { page, more } = after(q.get('after'), 6);
        const next = more ? `${base}/v1/accounts?after=${page.at(-1)!.id}` : null;
        return send(200, { data: page.map((r) => ({ ...r, next })) });
      }
      case 'files': {
        const { page, more } = after(q.get('after'), size('limit'));
        const next = more ? `${base}/v1/files?after=${page.at(-1)!.id}&limit=${size('limit')}` : 'null';
        return send(200, { data: { data: page, next_url: next } });
      }
      case 'sessions': {
        const { page, more } = after(q.get('after'), size('limit'));
        const link = more
          ? `<${base}/v1/sessions?after=${page.at(-1)!.id}>; rel="next"`
          : `<${base}/v1/sessions>; rel="first"`;
        return send(200, { data: page }, { link });
      }
      case 'activities': {
        const token = q.get('next');
        const { page, more } = token === 'inf' ? { page: [ghost(stream)], more: false } : after(token, 4);
        return send(200, { data: page, next: more ? page.at(-1)!.id : 'inf' });
      }
      case 'errors': {
        // The last page links back to the first only: following the first link there would loop.
        const { page, more } = after(q.get('after'), size('per_page'));
        const link = more
          ? `<${base}/v1/errors?after=${page.at(-1)!.id}&per_page=${size('per_page')}>; rel="next", <${base}/v1/errors>; rel="first"`
          : `<${base}/v1/errors>; rel="first"`;
        return send(200, page, { link });
      }
      case 'notes': {
        const { page, more } = after(q.get('after'), 8);
        const headers: Record<string, string> = more
          ? { 'x-next-page': `/v1/notes?after=${page.at(-1)!.id}` }
          : {};
        return send(200, { data: page }, headers);
      }
      case 'calendars': {
        const { page, more } = after(q.get('pageToken'), 9);
        return send(200, { data: page, ...(more ? { nextPageToken: page.at(-1)!.id } : {}) });
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    records,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
