/**
 * "Waiting" is visible: a run held by the rate ledger (a wait slept in the activity, or one handed to a
 * Temporal retry) or paused says so in its current details, and `SyncWaiting` lists it, on the real
 * dev server; when the wait is over both are cleared.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { blockConnection } from '../../src/ratelimit/ledger.js';
import { pauseSync, resumeSync } from '../../src/temporal/sync-client.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';

const details = async (h: WorkflowHandle) =>
  (await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';

describe('waiting is visible', { timeout: 180_000 }, () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;
  const spec = () => trackerSpec(sim.url, 100);

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(300) },
      latencyMs: 200,
    });
    engine = await startEngine(env, [spec()]);
  });
  after(async () => {
    await engine?.close();
    await sim?.close();
    await env?.close();
  });

  /** Workflow ids that the visibility query lists, polled until `want` holds or the time is up. */
  async function listed(
    query: string,
    want: (ids: string[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ids: string[] = [];
      for await (const w of env.client.workflow.list({ query })) ids.push(w.workflowId);
      if (want(ids) || Date.now() > deadline) return ids;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (ok(v) || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a wait slept in the activity: details say why, SyncWaiting = provider lists it, both clear after', async () => {
    const conn = env.uniqueId('slept');
    await engine.addConnection('tracker', conn, { token: TOKEN });
    // As a provider's Retry-After would: every request of the connection waits 4 s (under the 5 s slept in a worker).
    const h = await engine.run(engine.input('tracker', conn, 'issues'));
    // Right after the start (a busy machine may take seconds to send the first request): whichever page
    // comes next waits.
    await blockConnection(env.db, `tracker:${conn}`, spec().rateLimits, {
      until: new Date(Date.now() + 4000),
    });
    const query = `SyncWaiting = "provider" AND SyncConnection = "${conn}"`;
    const waiting = await listed(query, (ids) => ids.length > 0);
    assert.deepEqual(waiting, [h.workflowId]);
    const shown = await until(
      () => details(h),
      (d) => /waiting:/.test(d),
    );
    assert.match(
      shown,
      /waiting: on \*\*the rate budget\*\* for about \ds — tracker\/.*\/issues: the shared rate budget is spent/,
    );
    assert.equal((await h.result()).inserted, 300);
    assert.deepEqual(await listed(query, (ids) => ids.length === 0), []);
    const d = await h.describe();
    assert.deepEqual(d.searchAttributes.SyncWaiting ?? [], []);
    assert.doesNotMatch(await details(h), /waiting:/);
  });

  it('a wait handed to a Temporal retry: shown until the retried page goes on', async () => {
    const conn = env.uniqueId('deferred');
    await engine.addConnection('tracker', conn, { token: TOKEN });
    const h = await engine.run(engine.input('tracker', conn, 'issues'));
    // Right after the start (a busy machine may take seconds to send the first request): whichever page
    // comes next waits.
    await blockConnection(env.db, `tracker:${conn}`, spec().rateLimits, {
      until: new Date(Date.now() + 8000),
    });
    const query = `SyncWaiting = "rate-limit" AND SyncConnection = "${conn}"`;
    assert.deepEqual(await listed(query, (ids) => ids.length > 0), [h.workflowId]);
    assert.match(
      await until(
        () => details(h),
        (d) => /Temporal retries/.test(d),
      ),
      /waiting: on \*\*the rate budget\*\* for about \ds — tracker\/deferred-.*\/issues: the shared rate budget is spent; Temporal retries the page in \ds$/,
    );
    assert.equal((await h.result()).inserted, 300);
    assert.deepEqual(
      await listed(`SyncWaiting = "provider" AND SyncConnection = "${conn}"`, (ids) => ids.length === 0),
      [],
    );
    // A history with waiting notices, for the replay test (test/fixtures/histories).
    if (process.env.SYNCWRIGHT_RECORD_HISTORY)
      writeFileSync(process.env.SYNCWRIGHT_RECORD_HISTORY, historyToJSON(await h.fetchHistory()));
  });

  it('a paused run: SyncWaiting = paused, and the details say how to go on', async () => {
    const conn = env.uniqueId('paused');
    await engine.addConnection('tracker', conn, { token: TOKEN });
    const h = await engine.run(engine.input('tracker', conn, 'issues', 'full', { pagesPerActivity: 1 }));
    await pauseSync(h);
    const query = `SyncWaiting = "paused" AND SyncConnection = "${conn}"`;
    assert.deepEqual(await listed(query, (ids) => ids.length > 0), [h.workflowId]);
    assert.match(
      await until(
        () => details(h),
        (d) => /paused/.test(d),
      ),
      /waiting: \*\*paused\*\* by an operator/,
    );
    await resumeSync(h);
    assert.deepEqual(await listed(query, (ids) => ids.length === 0), []);
    assert.equal((await h.result()).inserted, 300);
  });
});
