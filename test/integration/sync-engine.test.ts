import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { listRecords } from '../../src/store/records.js';
import { getRun } from '../../src/store/runs.js';
import { cancelSync, pauseSync, resumeSync, syncProgress } from '../../src/temporal/sync-client.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('sync engine: durable paginated syncs on the real stack', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;

  before(async () => {
    env = await testEnv();
    const small = generateRecords(250);
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: {
        issues: { records: generateRecords(10_000), pagination: 'page' },
        by_offset: { records: small, pagination: 'offset' },
        by_cursor: { records: small, pagination: 'cursor' },
        by_link: { records: small, pagination: 'link-header' },
        by_next: { records: small, pagination: 'next-url' },
      },
    });
    engine = await startEngine(env, [trackerSpec(sim.url)]);
  });

  after(async () => {
    await engine?.close();
    await sim?.close();
    await env?.close();
  });

  async function connection(token = TOKEN): Promise<string> {
    const id = uniqueId('acme');
    await engine.addConnection('tracker', id, { token });
    return id;
  }

  it('lands 10,000 records over 100 pages exactly once; a second full sync writes nothing; deletions are detected', async () => {
    const conn = await connection();
    const input = engine.input('tracker', conn, 'issues');
    const first = await (await engine.run(input)).result();
    assert.equal(first.status, 'completed');
    assert.equal(first.pages, 100);
    assert.deepEqual(
      [first.fetched, first.inserted, first.updated, first.unchanged, first.deleted],
      [10_000, 10_000, 0, 0, 0],
    );
    const stored = await listRecords(env.db, {
      integration: 'tracker',
      connection: conn,
      resource: 'issues',
    });
    assert.equal(stored.length, 10_000);
    assert.deepEqual(new Set(stored.map((r) => r.key)).size, 10_000);
    const sample = stored.find((r) => r.key === '1234')!.data as Record<string, unknown>;
    assert.deepEqual(sample, sim.records('issues')[1233]);

    const second = await (await engine.run(input)).result();
    assert.deepEqual(
      [second.fetched, second.inserted, second.updated, second.unchanged, second.deleted],
      [10_000, 0, 0, 10_000, 0],
    );

    const all = sim.records('issues');
    const removed = new Set(all.filter((_, i) => i % 100 === 7).map((r) => String(r.id)));
    assert.equal(removed.size, 100);
    sim.setRecords(
      'issues',
      all.filter((r) => !removed.has(String(r.id))),
    );
    try {
      const third = await (await engine.run(input)).result();
      assert.equal(third.deleted, 100);
      assert.equal(third.unchanged, 9_900);
      const deleted = await env.db
        .selectFrom('records')
        .select('record_key')
        .where('connection', '=', conn)
        .where('deleted_at', 'is not', null)
        .execute();
      assert.deepEqual(new Set(deleted.map((d) => d.record_key)), removed);
    } finally {
      sim.setRecords('issues', all);
    }
  });

  for (const resource of ['by_offset', 'by_cursor', 'by_link', 'by_next']) {
    it(`syncs every record with ${resource.replace('by_', '')} pagination`, async () => {
      const conn = await connection();
      const result = await (await engine.run(engine.input('tracker', conn, resource))).result();
      assert.equal(result.status, 'completed');
      assert.equal(result.inserted, 250);
      assert.equal(result.pages, 3);
      const stored = await listRecords(env.db, { integration: 'tracker', connection: conn, resource });
      assert.equal(stored.length, 250);
    });
  }

  it('retries injected faults per the policy and still lands every record once', async () => {
    const conn = await connection();
    sim.injectFaults(
      [
        { kind: 'server-error', status: 503 },
        { kind: 'server-error', status: 500 },
        { kind: 'reset' },
        { kind: 'hang' },
        { kind: 'rate-limited', retryAfterSeconds: 1 },
      ],
      '/by_cursor',
    );
    const from = sim.log.length;
    const result = await (await engine.run(engine.input('tracker', conn, 'by_cursor'))).result();
    assert.equal(result.status, 'completed');
    assert.deepEqual([result.fetched, result.inserted], [250, 250]);
    // Every fault was served, in turn, to the first page's request, and each was retried: five faulted
    // requests, then the three pages answered once each.
    const served = sim.log.slice(from).filter((e) => e.path === '/by_cursor');
    assert.deepEqual(
      served.map((e) => [e.fault ?? 'none', e.status]),
      [
        ['server-error', 503],
        ['server-error', 500],
        ['reset', 0],
        ['hang', 0],
        ['rate-limited', 429],
        ['none', 200],
        ['none', 200],
        ['none', 200],
      ],
    );
    assert.equal(
      (await listRecords(env.db, { integration: 'tracker', connection: conn, resource: 'by_cursor' })).length,
      250,
    );
  });

  it('fails fast on 401 with a message that says to fix the credentials, and on malformed JSON', async () => {
    const conn = await connection('wrong-token');
    const before = sim.requests.get('/by_offset') ?? 0;
    const handle = await engine.run(engine.input('tracker', conn, 'by_offset'));
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.equal((error.cause as { type?: string }).type, 'AuthError');
      assert.match(error.cause?.message ?? '', /401/);
      assert.match(error.cause?.message ?? '', /credentials were refused; fix them/);
      assert.doesNotMatch(JSON.stringify(error), /wrong-token|s3cret/);
      return true;
    });
    assert.equal((sim.requests.get('/by_offset') ?? 0) - before, 1, 'a 401 is not retried');
    const run = await getRun(env.db, handle.firstExecutionRunId);
    assert.equal(run?.status, 'failed');
    assert.match(run?.error ?? '', /401/);

    const conn2 = await connection();
    sim.injectFaults([{ kind: 'malformed' }], '/by_link');
    const h2 = await engine.run(engine.input('tracker', conn2, 'by_link'));
    await assert.rejects(h2.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.equal((error.cause as { type?: string }).type, 'DecodeError');
      assert.match(error.cause?.message ?? '', /not JSON \(starts with/);
      return true;
    });
  });

  it('continues as new several times in a long sync, and every execution of the chain replays', async () => {
    const conn = await connection();
    const input = engine.input('tracker', conn, 'by_next', 'full', {
      pagesPerActivity: 1,
      pagesPerExecution: 1,
    });
    sim.setRecords('by_next', generateRecords(1_000));
    try {
      const handle = await engine.run({ ...input });
      const result = await handle.result();
      assert.equal(result.status, 'completed');
      assert.deepEqual([result.pages, result.inserted], [10, 1_000]);
      const histories = [];
      for await (const h of env.client.workflow
        .list({ query: `WorkflowId = '${handle.workflowId}'` })
        .intoHistories()) {
        histories.push(h);
      }
      assert.ok(histories.length >= 5, `expected several executions, got ${histories.length}`);
      for await (const r of Worker.runReplayHistories({ workflowBundle: env.workflowBundle }, histories)) {
        assert.equal(r.error, undefined, `replay of ${r.workflowId}/${r.runId} failed: ${String(r.error)}`);
      }
    } finally {
      sim.setRecords('by_next', generateRecords(250));
    }
  });

  it('pauses, resumes and cancels by signal; cancelled runs keep their committed pages', async () => {
    const conn = await connection();
    sim.setLatency(40);
    try {
      const handle = await engine.run(
        engine.input('tracker', conn, 'issues', 'full', { pagesPerActivity: 1 }),
      );
      await waitFor(async () => (await syncProgress(handle)).pages >= 2);
      await pauseSync(handle);
      await waitFor(async () => (await syncProgress(handle)).status === 'paused');
      const pausedAt = (await syncProgress(handle)).pages;
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(
        (await syncProgress(handle)).pages <= pausedAt + 1,
        'no new pages while paused (beyond the one in flight)',
      );
      await resumeSync(handle);
      await waitFor(async () => (await syncProgress(handle)).pages >= pausedAt + 3);
      await cancelSync(handle, 'operator said so');
      const result = await handle.result();
      assert.equal(result.status, 'cancelled');
      const run = await getRun(env.db, handle.firstExecutionRunId);
      assert.equal(run?.status, 'cancelled');
      assert.equal(run?.error, 'operator said so');
      const stored = await listRecords(env.db, {
        integration: 'tracker',
        connection: conn,
        resource: 'issues',
      });
      assert.equal(stored.length, run?.inserted);
      assert.ok(stored.length >= 500 && stored.length < 10_000);
      assert.equal(run?.deleted, 0, 'a cancelled run detects no deletions');
    } finally {
      sim.setLatency(0);
    }
  });

  it('incremental syncs fetch only what changed since the last completed run (with lookback)', async () => {
    const conn = await connection();
    const input = engine.input('tracker', conn, 'by_offset', 'incremental');
    const first = await (await engine.run(input)).result();
    assert.equal(first.fetched, 250);
    const original = sim.records('by_offset');
    const later = new Date(Date.UTC(2027, 0, 1)).toISOString();
    sim.setRecords(
      'by_offset',
      original.map((r) =>
        Number(r.id) % 50 === 0 ? { ...r, title: `changed ${r.id}`, updated_at: later } : r,
      ),
    );
    try {
      const second = await (await engine.run(input)).result();
      // The 5 changed records, plus the newest unchanged one inside the 60 s lookback window.
      assert.equal(second.updated, 5);
      assert.ok(second.fetched >= 5 && second.fetched <= 6, `fetched ${second.fetched}`);
      const row = (
        await listRecords(env.db, { integration: 'tracker', connection: conn, resource: 'by_offset' })
      ).find((r) => r.key === '100');
      assert.equal((row?.data as { title: string }).title, 'changed 100');
    } finally {
      sim.setRecords('by_offset', original);
    }
  });

  it('quarantines records that fail validation and completes the run', async () => {
    const conn = await connection();
    const original = sim.records('by_offset');
    sim.setRecords(
      'by_offset',
      original.map((r) => (r.id === 3 ? { ...r, title: null } : r.id === 4 ? { ...r, priority: 'high' } : r)),
    );
    try {
      const handle = await engine.run(engine.input('tracker', conn, 'by_offset'));
      const result = await handle.result();
      assert.equal(result.status, 'completed');
      assert.deepEqual([result.fetched, result.inserted, result.quarantined], [250, 248, 2]);
      const q = await env.db
        .selectFrom('quarantine')
        .select(['record_key', 'reason'])
        .where('run_id', '=', handle.firstExecutionRunId)
        .orderBy('record_key')
        .execute();
      assert.deepEqual(q, [
        { record_key: '3', reason: 'title: must not be null' },
        { record_key: '4', reason: 'priority: expected a number, got "high"' },
      ]);
    } finally {
      sim.setRecords('by_offset', original);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
