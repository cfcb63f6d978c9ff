/**
 * A resource with its own auth (fixture resource-auth.yaml, imported): the real engine (Temporal dev
 * server, Postgres) syncs an account-token resource and a project-token resource of one connection
 * against a real HTTP server that answers only when a request carries exactly its resource's token.
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

const ACCOUNT = 'acct-token-7f3a';
const PROJECT = 'proj-token-91bc';

async function startTrackerApi() {
  const projects = Array.from({ length: 4 }, (_, i) => ({ id: i + 1, name: `Project ${i + 1}` }));
  const items = Array.from({ length: 25 }, (_, i) => ({ id: `i${i + 1}`, title: `Item ${i + 1}` }));
  const seen: { path: string; token: string | string[] | undefined }[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = req.headers['x-tracker-token'];
    seen.push({ path: `${url.pathname}${url.search}`, token });
    const answer = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const want = url.pathname === '/api/1/items' ? PROJECT : ACCOUNT;
    // Exactly one credential, the resource's: no other token header, no credential in the query.
    if (token !== want || url.searchParams.size > (url.pathname === '/api/1/items' ? 1 : 0))
      return answer(401, { err: 1, message: 'wrong token for this endpoint' });
    if (url.pathname === '/api/1/projects') return answer(200, { err: 0, result: projects });
    if (url.pathname === '/api/1/items') {
      const page = Number(url.searchParams.get('page') ?? '1');
      return answer(200, { err: 0, result: { items: items.slice((page - 1) * 10, page * 10) } });
    }
    answer(404, { err: 1 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    projects,
    items,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('resource auth: two resources of one connection, each with its own token', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let api: Awaited<ReturnType<typeof startTrackerApi>>;
  let dir: string;

  before(async () => {
    env = await testEnv();
    api = await startTrackerApi();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-rauth-'));
    const spec = await importFixture(
      dir,
      'resource-auth',
      'tracker',
      api.url,
      /https:\/\/api\.tracker\.test/g,
    );
    assert.equal(spec.resources.items!.auth?.type, 'api-key');
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('each request carries exactly its resource’s credential; every record lands once', async () => {
    const conn = uniqueId('tracker');
    await engine.addConnection('tracker', conn, { account_token: ACCOUNT, project_token: PROJECT });
    for (const [resource, expected, requests] of [
      ['projects', api.projects.map((p) => String(p.id)), [['/api/1/projects', ACCOUNT]]],
      [
        'items',
        api.items.map((i) => i.id),
        [
          ['/api/1/items?page=1', PROJECT],
          ['/api/1/items?page=2', PROJECT],
          ['/api/1/items?page=3', PROJECT],
        ],
      ],
    ] as const) {
      const from = api.seen.length;
      const result = await (await engine.run(engine.input('tracker', conn, resource))).result();
      assert.equal(result.status, 'completed', resource);
      assert.equal(result.inserted, expected.length, resource);
      const stored = await listRecords(env.db, { integration: 'tracker', connection: conn, resource });
      assert.deepEqual(stored.map((r) => r.key).sort(), [...expected].sort(), resource);
      assert.deepEqual(
        api.seen.slice(from).map((s) => [s.path, s.token]),
        requests.map(([p, t]) => [p, t]),
        `${resource}: one request per page, each with its own token`,
      );
    }
  });
});
