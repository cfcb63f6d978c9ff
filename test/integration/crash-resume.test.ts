import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { listRecords } from '../../src/store/records.js';
import { getRun } from '../../src/store/runs.js';
import { startSync, syncProgress } from '../../src/temporal/sync-client.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { saveTrackerConnection } from '../helpers/engine.js';
import { startWorkerProcess } from '../helpers/worker-process.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';
import { TOKEN } from '../helpers/tracker-spec.js';

describe('crash resume: a worker killed with SIGKILL mid-sync, again and again', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let child: ChildProcess | undefined;
  const taskQueue = uniqueId('crash');

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      latencyMs: 15,
      resources: { by_cursor: { records: generateRecords(3_000), pagination: 'cursor' } },
    });
  });
  after(async () => {
    child?.kill('SIGKILL');
    await sim?.close();
    await env?.close();
  });

  const startWorker = () => startWorkerProcess(env, { taskQueue, simulatorUrl: sim.url });

  it("completes with exactly the provider's records: no gap, no duplicate effect, counts right", async () => {
    const conn = uniqueId('acme');
    await saveTrackerConnection(env.db, conn);
    child = await startWorker();
    // by_cursor pages by 100: 30 pages, 2 per activity call; a dead worker is noticed within 2 s.
    const handle = await startSync(
      env.client,
      {
        integration: 'tracker',
        connection: conn,
        resource: 'by_cursor',
        kind: 'full',
        pagesPerActivity: 2,
        heartbeatTimeoutMs: 2000,
        retry: { maxAttempts: 20, initialIntervalMs: 200, maxIntervalMs: 1000 },
      },
      { taskQueue },
    );
    let kills = 0;
    let lastPages = -1;
    const deadline = Date.now() + 120_000;
    while (kills < 3 && Date.now() < deadline) {
      const p = await syncProgress(handle).catch(() => undefined);
      if (p && p.pages > lastPages + 3 && p.status === 'running') {
        lastPages = p.pages;
        child.kill('SIGKILL');
        kills++;
        await new Promise((r) => setTimeout(r, 300));
        child = await startWorker();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const result = await handle.result();
    assert.equal(kills, 3);
    assert.equal(result.status, 'completed');
    assert.deepEqual(
      [result.pages, result.fetched, result.inserted, result.updated, result.unchanged],
      [30, 3000, 3000, 0, 0],
    );
    const stored = await listRecords(env.db, {
      integration: 'tracker',
      connection: conn,
      resource: 'by_cursor',
    });
    assert.equal(stored.length, 3000);
    assert.deepEqual(
      stored.map((r) => Number(r.key)).sort((a, b) => a - b),
      sim.records('by_cursor').map((r) => Number(r.id)),
    );
    const run = await getRun(env.db, handle.firstExecutionRunId);
    assert.equal(run?.fetched, 3000, 'no page counted twice');
  });
});
