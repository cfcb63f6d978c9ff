/**
 * An Airbyte manifest whose requests and added fields use small Python expressions (text-expressions.yaml:
 * a list joined, unix milliseconds of a config date, choices between literal texts, a config key written
 * in pieces, a split text, a hash, a config value falling back to the parent's), imported and synced by
 * the real engine against a real HTTP server: each request carries exactly the values Airbyte would send,
 * and each record exactly the fields it would add.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

const TOKEN = 'press-token-1';

const articles = [
  { id: 1, email: 'ada@example.com', published: '2025-01-02T03:04:05Z', key: 'news::world::1' },
  { id: 2, email: 'grace@example.com', published: '2025-01-03T00:00:00Z', key: 'news::tech' },
  { id: 3, email: null, published: '2025-01-04T10:00:00Z', key: 'flat' },
];
const teams = [
  { id: 't1', lead: { uuid: 'u-1', name: 'Ada' } },
  { id: 't2', lead: { uuid: 'u-2', name: 'Grace' } },
];
const leads = (uuid: string) => [{ id: `${uuid}-profile`, uuid }];
const stats = (team: string) => [
  { id: `${team}-a`, team, score: 1 },
  { id: `${team}-b`, team, score: 2 },
];

interface PressApi {
  url: string;
  requests: { path: string; query: Record<string, string> }[];
  close(): Promise<void>;
}

/** The press API: bearer token; /v1/articles, /v1/teams, /v1/teams/{id}/stats, /v1/leads/{uuid} (any). */
async function startPressApi(): Promise<PressApi> {
  const requests: PressApi['requests'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://press.local');
    requests.push({ path: url.pathname, query: Object.fromEntries(url.searchParams) });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: 'unauthorized' });
    if (url.pathname === '/v1/articles') return send(200, { data: articles });
    if (url.pathname === '/v1/teams') return send(200, { data: teams });
    const lead = /^\/v1\/leads\/([^/]+)$/.exec(url.pathname);
    if (lead) return send(200, { data: leads(decodeURIComponent(lead[1]!)) });
    const m = /^\/v1\/teams\/([^/]+)\/stats$/.exec(url.pathname);
    if (m) return send(200, { data: stats(decodeURIComponent(m[1]!)) });
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
const byId = (a: unknown, b: unknown) =>
  String((a as { id: unknown }).id).localeCompare(String((b as { id: unknown }).id));

describe('import airbyte: text expressions sync exactly', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let api: PressApi;
  let dir: string;

  before(async () => {
    env = await testEnv();
    api = await startPressApi();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-text-'));
    const spec = await importFixture(
      dir,
      'text-expressions',
      'press',
      api.url,
      /https:\/\/api\.press\.test/g,
    );
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const sync = async (conn: string, resource: string) => {
    const before = api.requests.length;
    const run = await (await engine.run(engine.input('press', conn, resource, 'full'))).result();
    assert.equal(run.status, 'completed', resource);
    return api.requests.slice(before);
  };
  const stored = async (conn: string, resource: string) =>
    (await listRecords(env.db, { integration: 'press', connection: conn, resource }))
      .map((r) => r.data)
      .sort(byId);

  it('query values: a joined list, unix milliseconds, a folded config key, choices; added fields computed', async () => {
    const conn = uniqueId('press');
    await engine.addConnection(
      'press',
      conn,
      { api_token: TOKEN },
      {
        start_date: '2025-01-02T03:04:05Z',
        query_articles: 'rust lang',
        symbols: ['BTC', 'ETH'],
        sort: 'oldest',
        include_archived: true,
      },
    );
    assert.deepEqual(await sync(conn, 'articles'), [
      {
        path: '/v1/articles',
        query: {
          symbols: 'BTC,ETH',
          created_after: String(Date.UTC(2025, 0, 2, 3, 4, 5)),
          q: 'rust lang',
          order: 'asc',
          archived: 'yes',
        },
      },
    ]);
    assert.deepEqual(await stored(conn, 'articles'), [
      { ...articles[0], email_hash: md5('ada@example.com'), day: '2025-01-02', section: 'world' },
      { ...articles[1], email_hash: md5('grace@example.com'), day: '2025-01-03', section: 'tech' },
      // No second piece of the key, no address to hash: null, as a missing value is.
      { ...articles[2], email_hash: null, day: '2025-01-04', section: null },
    ]);
  });

  it('an empty list leaves its parameter out; the other branch of each choice', async () => {
    const conn = uniqueId('press');
    await engine.addConnection(
      'press',
      conn,
      { api_token: TOKEN },
      { start_date: '2024-12-31', query_articles: 'go', symbols: [], sort: 'newest' },
    );
    assert.deepEqual(await sync(conn, 'articles'), [
      {
        path: '/v1/articles',
        query: { created_after: String(Date.UTC(2024, 11, 31)), q: 'go', order: 'desc', archived: 'no' },
      },
    ]);
  });

  it("a path and a field read inside the parent's value", async () => {
    const conn = uniqueId('press');
    await engine.addConnection(
      'press',
      conn,
      { api_token: TOKEN },
      { start_date: '2025-01-01', query_articles: 'x' },
    );
    await sync(conn, 'teams');
    const reqs = await sync(conn, 'leads');
    assert.deepEqual(reqs.map((r) => r.path).sort(), ['/v1/leads/u-1', '/v1/leads/u-2']);
    assert.deepEqual(await stored(conn, 'leads'), [
      { ...leads('u-1')[0], lead_name: 'Ada' },
      { ...leads('u-2')[0], lead_name: 'Grace' },
    ]);
  });

  it("a path falls back to the parent's value when the config has none, and uses the config's when set", async () => {
    const perParent = uniqueId('press');
    await engine.addConnection(
      'press',
      perParent,
      { api_token: TOKEN },
      { start_date: '2025-01-01', query_articles: 'x' },
    );
    await sync(perParent, 'teams');
    const reqs = await sync(perParent, 'team_stats');
    assert.deepEqual(reqs.map((r) => r.path).sort(), ['/v1/teams/t1/stats', '/v1/teams/t2/stats']);
    assert.deepEqual(await stored(perParent, 'team_stats'), [...stats('t1'), ...stats('t2')].sort(byId));

    const fixed = uniqueId('press');
    await engine.addConnection(
      'press',
      fixed,
      { api_token: TOKEN },
      { start_date: '2025-01-01', query_articles: 'x', team_id: 'core' },
    );
    await sync(fixed, 'teams');
    // As in Airbyte, each parent still makes its request, to the configured team's path.
    const fixedReqs = await sync(fixed, 'team_stats');
    assert.deepEqual(
      fixedReqs.map((r) => r.path),
      ['/v1/teams/core/stats', '/v1/teams/core/stats'],
    );
    // A child is keyed per parent (as every imported child is): each parent's copy is kept.
    const rows = await listRecords(env.db, {
      integration: 'press',
      connection: fixed,
      resource: 'team_stats',
    });
    assert.deepEqual(
      rows.map((r) => [r.key, r.data]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      teams.flatMap((t) => stats('core').map((s) => [JSON.stringify([t.id, s.id]), s])),
    );
  });
});
