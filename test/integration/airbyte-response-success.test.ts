/**
 * test/fixtures/airbyte/response-success.yaml imported and synced by the real engine (Temporal dev
 * server, Postgres) against a reports provider: its error handlers read a 400 (a plan without reports)
 * and a 500 as a success. Such an answer gives the outcomes its body holds (none for the 400 and for a
 * text body) and ends that app's pages; the other apps' outcomes are read page by page and stored
 * exactly; an answer no rule reads as a success (403) still fails the run.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { listRecords } from '../../src/store/records.js';
import { importFixture } from '../helpers/airbyte-import.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { REPORTS_KEY, startReportsApi, type AppAnswer, type ReportsApi } from '../helpers/reports-api.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('import airbyte: response filters whose action is SUCCESS', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let api: ReportsApi;
  let dir: string;

  before(async () => {
    env = await testEnv();
    api = await startReportsApi(
      new Map<string, AppAnswer>([
        [
          'a1',
          {
            outcomes: [
              { id: 'o1', value: 1 },
              { id: 'o2', value: 2 },
              { id: 'o3', value: 3 },
            ],
          },
        ],
        ['a2', { status: 400 }],
        ['a3', { status: 500, text: 'Internal Server Error' }],
        ['a4', { status: 500, outcomes: [{ id: 'o9', value: 9 }] }],
      ]),
    );
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-response-success-'));
    const spec = await importFixture(
      dir,
      'response-success',
      'reports',
      api.url,
      /https:\/\/api\.reports\.test/,
    );
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads the matching error answers as last pages and fails on one no rule matches', async () => {
    const conn = uniqueId('reports');
    await engine.addConnection('reports', conn, { api_key: REPORTS_KEY });
    const parents = await (await engine.run(engine.input('reports', conn, 'apps'))).result();
    assert.equal(parents.status, 'completed');
    api.requests.length = 0;
    const full = await (await engine.run(engine.input('reports', conn, 'outcomes'))).result();
    assert.equal(full.status, 'completed');
    const rows = await listRecords(env.db, {
      integration: 'reports',
      connection: conn,
      resource: 'outcomes',
    });
    assert.deepEqual(
      rows.map((r) => [(r.data as { id: string }).id, (r.data as { value: number }).value]).sort(),
      [
        ['o1', 1],
        ['o2', 2],
        ['o3', 3],
        ['o9', 9],
      ],
    );
    // a1 is paged to its short page; each error answer is one request (no retry, no next page).
    // (Airbyte leaves offset out of the first request; offset=0 asks the same.)
    assert.deepEqual([...api.requests].sort(), [
      'GET /v1/apps/a1/outcomes?offset=0&limit=2',
      'GET /v1/apps/a1/outcomes?offset=2&limit=2',
      'GET /v1/apps/a2/outcomes?offset=0&limit=2',
      'GET /v1/apps/a3/outcomes?offset=0&limit=2',
      'GET /v1/apps/a4/outcomes?offset=0&limit=2',
    ]);

    api.apps.set('a5', { status: 403 });
    const other = uniqueId('reports');
    await engine.addConnection('reports', other, { api_key: REPORTS_KEY });
    await (await engine.run(engine.input('reports', other, 'apps'))).result();
    const failing = await engine.run(engine.input('reports', other, 'outcomes'));
    await assert.rejects(failing.result(), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      assert.match(JSON.stringify(e.cause) + String(e.cause?.message), /403/);
      return true;
    });
  });
});
