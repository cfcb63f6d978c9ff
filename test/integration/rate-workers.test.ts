import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startSync } from '../../src/temporal/sync-client.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { saveTrackerConnection } from '../helpers/engine.js';
import { startWorkerProcess } from '../helpers/worker-process.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';
import { TOKEN } from '../helpers/tracker-spec.js';

const RESOURCES = ['issues', 'by_offset', 'by_cursor', 'by_link'] as const;

describe('four worker processes, one connection, a strict 20 requests/second provider', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let workers: ChildProcess[] = [];
  const taskQueue = uniqueId('rate4');

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      rateLimit: { limit: 20, windowMs: 1000 },
      resources: {
        issues: { records: generateRecords(4000), pagination: 'page' },
        by_offset: { records: generateRecords(4000), pagination: 'offset' },
        by_cursor: { records: generateRecords(4000), pagination: 'cursor' },
        by_link: { records: generateRecords(4000), pagination: 'link-header' },
      },
    });
  });
  after(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await sim?.close();
    await env?.close();
  });

  const startWorker = () => startWorkerProcess(env, { taskQueue, simulatorUrl: sim.url, ratePerSecond: 20 });

  it('gets no 429, uses at least 90% of the rate, and keeps the budget when every worker is killed and restarted', async () => {
    const conn = uniqueId('acme');
    await saveTrackerConnection(env.db, conn);
    workers = await Promise.all(Array.from({ length: 4 }, startWorker));
    const logStart = sim.log.length;
    const handles = await Promise.all(
      RESOURCES.map((resource) =>
        startSync(
          env.client,
          {
            integration: 'tracker',
            connection: conn,
            resource,
            kind: 'full',
            pagesPerActivity: 3,
            heartbeatTimeoutMs: 2000,
            retry: { maxAttempts: 30, initialIntervalMs: 200, maxIntervalMs: 1000 },
          },
          { taskQueue },
        ),
      ),
    );
    // Kill every worker mid-sync and start four new ones: the budget lives in Postgres, not in them.
    for (
      const deadline = Date.now() + 60_000;
      sim.log.length - logStart < 80;
      await new Promise((r) => setTimeout(r, 50))
    ) {
      if (Date.now() > deadline) throw new Error('the syncs did not get going');
    }
    for (const w of workers) w.kill('SIGKILL');
    const killedAt = Date.now();
    workers = await Promise.all(Array.from({ length: 4 }, startWorker));
    const results = await Promise.all(handles.map((h) => h.result()));
    assert.ok(
      results.every((r) => r.status === 'completed' && r.inserted === 4000),
      JSON.stringify(results),
    );
    assert.equal(sim.rateLimited(), 0, 'no request was refused for rate, before or after the restart');

    // Utilisation while requests flowed (the restart's dead time excluded: heartbeat timeout and boot).
    const served = sim.log.slice(logStart).map((e) => e.at);
    // Steady state: from the 10th request (all four syncs running) to the kill.
    const before = served.filter((t) => t < killedAt).slice(10);
    const rate = (before.length - 1) / ((before.at(-1)! - before[0]!) / 1000);
    assert.ok(rate >= 18, `used ${rate.toFixed(1)} of 20 requests/second`);
    // Admissions, in database time, never exceed the limit in any sliding second either.
    const admitted = (
      await env.db
        .selectFrom('rate_ledger')
        .select('at')
        .where('connection_key', '=', `tracker:${conn}`)
        .where('kind', '=', 'admitted')
        .orderBy('at')
        .execute()
    ).map((r) => r.at.getTime());
    // A worker killed between admission and sending leaves an admission without a request, never the reverse.
    assert.ok(
      admitted.length >= served.length,
      'every request that reached the provider was admitted by the ledger',
    );
    let maxInSecond = 0;
    for (let i = 0, j = 0; i < admitted.length; i++) {
      while (admitted[i]! - admitted[j]! >= 1000) j++;
      maxInSecond = Math.max(maxInSecond, i - j + 1);
    }
    assert.ok(maxInSecond <= 20, `at most 20 admissions in any second, saw ${maxInSecond}`);
  });
});
