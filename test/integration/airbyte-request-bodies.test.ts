/**
 * An imported Airbyte manifest whose requests carry bodies beyond a JSON POST (fixture
 * request-bodies.yaml), synced by the real engine (Temporal dev server, Postgres) against a real HTTP
 * server that answers only when the body is what Airbyte would send: a GET with a JSON body that holds
 * the page, a GET with a form body that holds the page size (paged by next URLs), and a POST form with
 * the cursor; and (api-key-form.yaml) an API key sent as a form field. Every record lands exactly once.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listRecords } from '../../src/store/records.js';
import { importFixture } from '../helpers/airbyte-import.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const KEY = 'bodies-key-1234';

interface Seen {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  body: string;
}

/** The API of the fixture: each endpoint refuses (400) a request whose body is not the expected one. */
async function startBodiesApi() {
  const contacts = Array.from({ length: 60 }, (_, i) => ({ id: `c${i + 1}`, name: `Contact ${i + 1}` }));
  const books = Array.from({ length: 23 }, (_, i) => ({ id: i + 1, title: `Book ${i + 1}` }));
  const companies = Array.from({ length: 45 }, (_, i) => ({ id: `co${i + 1}`, name: `Company ${i + 1}` }));
  const boards = Array.from({ length: 25 }, (_, i) => ({ id: `b${i + 1}`, name: `Board ${i + 1}` }));
  const requests: Seen[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const contentType = req.headers['content-type'];
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.search,
        contentType,
        body: raw,
      });
      const answer = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const refuse = (why: string) => answer(400, { error: why });
      if (url.pathname === '/api/v1/boards/list') {
        if (req.method !== 'POST' || contentType !== 'application/x-www-form-urlencoded')
          return refuse('a POST form');
        if (raw !== `apiKey=${KEY}`) return answer(401, { error: 'the key is the form' });
        const skip = Number(url.searchParams.get('skip'));
        if (url.searchParams.get('limit') !== '10') return refuse('limit=10');
        return answer(200, { boards: boards.slice(skip, skip + 10) });
      }
      if (req.headers['x-api-key'] !== KEY) return answer(401, { error: 'key' });
      if (url.pathname === '/v1/contacts') {
        if (req.method !== 'GET' || contentType !== 'application/json') return refuse('a GET with JSON');
        const body = JSON.parse(raw) as { sort?: unknown; team?: string; page?: number };
        if (JSON.stringify(body.sort) !== '[{"field":"updated","direction":"asc"}]' || body.team !== 'blue')
          return refuse('sort and team');
        if (typeof body.page !== 'number') return refuse('the page is in the body');
        return answer(200, { contacts: contacts.slice((body.page - 1) * 25, body.page * 25) });
      }
      if (url.pathname === '/v1/books') {
        if (req.method !== 'GET' || contentType !== 'application/x-www-form-urlencoded')
          return refuse('a GET with a form');
        const form = new URLSearchParams(raw);
        if ([...form.keys()].join() !== 'page_size' || form.get('page_size') !== '10')
          return refuse('page_size=10 in the form');
        const offset = Number(url.searchParams.get('offset') ?? '0');
        const next =
          offset + 10 < books.length ? `http://${req.headers.host}/v1/books?offset=${offset + 10}` : null;
        return answer(200, { results: books.slice(offset, offset + 10), links: { next } });
      }
      if (url.pathname === '/v1/companies/list') {
        if (req.method !== 'POST' || contentType !== 'application/x-www-form-urlencoded')
          return refuse('a POST form');
        const form = Object.fromEntries(new URLSearchParams(raw));
        const { cursor, ...rest } = form;
        if (JSON.stringify(rest) !== JSON.stringify({ kind: 'company', team: 'blue', page_size: '20' }))
          return refuse(`kind, team and page_size: ${raw}`);
        const from = cursor === undefined ? 0 : companies.findIndex((c) => c.id === cursor) + 1;
        const page = companies.slice(from, from + 20);
        // Each record names the next cursor; the last one has none.
        return answer(
          200,
          page.map((c, i) => ({ ...c, cursor: from + i + 1 < companies.length ? c.id : null })),
        );
      }
      answer(404, { error: 'no' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    contacts,
    books,
    companies,
    boards,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('import airbyte: request bodies (a GET with a body, forms) sync exactly', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let api: Awaited<ReturnType<typeof startBodiesApi>>;
  let dir: string;

  before(async () => {
    env = await testEnv();
    api = await startBodiesApi();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-bodies-'));
    const spec = await importFixture(dir, 'request-bodies', 'bodies', api.url, /https:\/\/api\.bodies\.test/);
    const forms = await importFixture(dir, 'api-key-form', 'forms', api.url, /https:\/\/api\.forms\.test/);
    engine = await startEngine(env, [spec, forms]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const keys = async (resource: string) =>
    (await listRecords(env.db, { integration: 'bodies', connection: conn, resource }))
      .map((r) => r.key)
      .sort();
  let conn = '';

  it('reads every page of each resource, sending each body as Airbyte does', async () => {
    conn = uniqueId('bodies');
    await engine.addConnection('bodies', conn, { api_key: KEY }, { team: 'blue' });

    for (const [resource, expected, requests] of [
      ['contacts', api.contacts.map((c) => c.id), 3],
      ['books', api.books.map((b) => String(b.id)), 3],
      ['companies', api.companies.map((c) => c.id), 3],
    ] as const) {
      const seen = api.requests.length;
      const result = await (await engine.run(engine.input('bodies', conn, resource))).result();
      assert.equal(result.status, 'completed', resource);
      assert.equal(result.inserted, expected.length, `${resource}: every record once`);
      assert.deepEqual(await keys(resource), [...expected].sort(), resource);
      const sent = api.requests.slice(seen);
      assert.equal(sent.length, requests, `${resource}: one request per page, none refused`);
      if (resource === 'contacts')
        assert.deepEqual(
          sent.map((r) => (JSON.parse(r.body) as { page: number }).page),
          [1, 2, 3],
          'the page travels in the GET body',
        );
      if (resource === 'books')
        assert.deepEqual(
          sent.map((r) => `${r.query} ${r.body}`),
          [' page_size=10', '?offset=10 page_size=10', '?offset=20 page_size=10'],
          'the next URLs are followed, each with the form body',
        );
      if (resource === 'companies')
        assert.deepEqual(
          sent.map((r) => new URLSearchParams(r.body).get('cursor')),
          [null, 'co20', 'co40'],
          'the cursor travels in the form; none on the first page',
        );
    }
  });

  it('an API key as a form field: a form of the key alone on each POST, offsets in the query', async () => {
    const c = uniqueId('forms');
    await engine.addConnection('forms', c, { api_key: KEY });
    const seen = api.requests.length;
    const result = await (await engine.run(engine.input('forms', c, 'boards'))).result();
    assert.equal(result.status, 'completed');
    assert.equal(result.inserted, api.boards.length, 'every board once');
    const stored = await listRecords(env.db, { integration: 'forms', connection: c, resource: 'boards' });
    assert.deepEqual(stored.map((r) => r.key).sort(), api.boards.map((b) => b.id).sort());
    const sent = api.requests.slice(seen);
    assert.deepEqual(
      sent.map((r) => `${r.method} ${r.query} ${r.body}`),
      [0, 10, 20].map((skip) => `POST ?skip=${skip}&limit=10 apiKey=${KEY}`),
    );
  });
});
