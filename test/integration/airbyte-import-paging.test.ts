/**
 * The Airbyte manifest test/fixtures/airbyte/paging-stops.yaml, imported, loaded back as `validate` does
 * and synced by the real engine (Temporal dev server, Postgres) against a real HTTP server: each stream's
 * pages end where the manifest's stop condition says, so every record lands once and no page past the end
 * is stored.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listRecords } from '../../src/store/records.js';
import { importFixture } from '../helpers/airbyte-import.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { PAGING_KEY, PAGING_STREAMS, startPagingApi, type PagingApi } from '../helpers/paging-apis.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('import airbyte: stop conditions, computed cursors, offsets without a page size', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let api: PagingApi;
  let dir: string;

  before(async () => {
    env = await testEnv();
    api = await startPagingApi(23);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-paging-'));
    const spec = await importFixture(dir, 'paging-stops', 'paging', api.url, /https:\/\/api\.paging\.test/g);
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('every stream syncs every record exactly once and stops where the manifest says', async () => {
    const conn = uniqueId('paging');
    await engine.addConnection('paging', conn, { api_key: PAGING_KEY });
    for (const stream of PAGING_STREAMS) {
      const seen = api.requests.length;
      const result = await (await engine.run(engine.input('paging', conn, stream))).result();
      assert.equal(result.status, 'completed', stream);
      const keys = (await listRecords(env.db, { integration: 'paging', connection: conn, resource: stream }))
        .map((r) => r.key)
        .sort();
      assert.deepEqual(
        keys,
        api.records[stream].map((r) => r.id),
        `${stream}: every record once, no ghost`,
      );
      const sent = api.requests.slice(seen);
      assert.ok(
        sent.every((r) => r.path === `/v1/${stream}`),
        `${stream}: only its own path on this host`,
      );
      const expectedPages: Record<string, number> = {
        tickets: 5,
        items: 5,
        entries: 5,
        responses: 5, // 7, 7, 7, 2 and an empty page
        accounts: 4,
        files: 5,
        sessions: 5,
        activities: 6,
        calendars: 3,
        errors: 5,
        notes: 3,
      };
      assert.equal(sent.length, expectedPages[stream], `${stream}: pages asked for`);
    }
  });

  it('sends the computed cursors: a captured page number, the page plus one, the offset by records read', () => {
    const queries = (stream: string, name: string) =>
      api.requests.filter((r) => r.path === `/v1/${stream}`).map((r) => r.query.get(name));
    assert.deepEqual(queries('items', 'page'), [null, '2', '3', '4', '5']);
    assert.deepEqual(queries('entries', 'page'), [null, '2', '3', '4', '5']);
    assert.deepEqual(queries('responses', 'skip'), ['0', '7', '14', '21', '23']);
    assert.deepEqual(queries('activities', 'next'), [
      null,
      'activities-004',
      'activities-008',
      'activities-012',
      'activities-016',
      'activities-020',
    ]);
  });
});
