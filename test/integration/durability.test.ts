/**
 * Durable-execution correctness (issue 13, section 3): continue-as-new on the server's suggestion, a
 * failed child cancelling its siblings, heartbeats during a slow request, one attempt for configuration
 * failures, and the database's pool settings and indexes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { createActivities } from '../../activities/index.js';
import { defineIntegration } from '../../src/spec/define.js';
import { saveConnection } from '../../src/store/connections.js';
import { createDb, poolOf } from '../../src/store/db.js';
import { pruneLedger, pruneLedgerQuery } from '../../src/ratelimit/ledger.js';
import { listRecords } from '../../src/store/records.js';
import {
  commitPage,
  deletionSweep,
  finishRun,
  listRuns,
  startRun,
  unseenKeys,
} from '../../src/store/runs.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { LEDGER_RETENTION_MS, startWorker, workerPoolSize } from '../../src/temporal/worker.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { startOwnDevServer } from '../helpers/dev-server.js';
import { forgeSpec } from '../helpers/forge-spec.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { pageCommit } from '../helpers/page-commits.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';

/** The highest attempt any activity of the workflow's history reached. */
async function maxActivityAttempt(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  let max = 0;
  for (const e of history.events ?? []) {
    const attempt = e.activityTaskStartedEventAttributes?.attempt;
    if (attempt) max = Math.max(max, attempt);
  }
  return max;
}

describe('durable execution: continue-as-new, child failure, heartbeats, typed configuration failures', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;

  const REPOS = ['a-missing', 'beta', 'delta', 'epsilon', 'gamma'];

  before(async () => {
    env = await testEnv();
    const resources: Record<
      string,
      | ReturnType<typeof generateRecords>
      | { records: ReturnType<typeof generateRecords>; pagination: 'next-url' }
    > = {
      repos: REPOS.map((name, i) => ({ id: i + 1, name })),
      by_next: { records: generateRecords(1_000), pagination: 'next-url' },
      issues: generateRecords(150),
    };
    // a-missing has no issues: its child run gets a 404 (a ClientError, not retried) while the others page.
    for (const repo of REPOS.slice(1)) resources[`repos/${repo}/issues`] = generateRecords(3_000);
    sim = await startProviderSimulator({ auth: { type: 'bearer', token: TOKEN }, resources });
    const tracker = trackerSpec(sim.url);
    const forge = forgeSpec(sim.url, {
      issuesPageSize: 50,
      auth: { secrets: { token: 'API token' }, auth: { type: 'bearer', token: 'token' } },
    });
    // A provider that takes 2.5 s per answer, within its 5 s request timeout.
    const slow = defineIntegration({
      id: 'slow',
      baseUrl: sim.url,
      secrets: { token: 'API token' },
      auth: { type: 'bearer', token: 'token' },
      retry: { timeoutMs: 5_000 },
      resources: {
        issues: {
          request: { path: '/issues' },
          recordsPath: 'data',
          primaryKey: 'id',
          pagination: { type: 'page', pageParam: 'page', sizeParam: 'per_page', pageSize: 100 },
        },
      },
    });
    engine = await startEngine(env, [tracker, forge, slow]);
  });

  after(async () => {
    await engine?.close();
    await sim?.close();
    // The environment is shared with the next suite, which closes it.
  });

  it('continues as new when the server suggests it (small history limit) and lands every record', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-can-'));
    // A server of its own: only the suggestion may cut this run (pagesPerExecution is far away).
    const server = await startOwnDevServer({
      dir,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
    });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    const taskQueue = uniqueId('can');
    const worker = await startWorker({
      address: server.address,
      namespace: 'default',
      taskQueue,
      activities: createActivities({
        db: env.db,
        specs: new Map([['tracker', trackerSpec(sim.url)]]),
        secretBox: engine.box,
        env: {},
      }),
      workflowBundle: env.workflowBundle,
    });
    try {
      const conn = uniqueId('acme');
      await engine.addConnection('tracker', conn, { token: TOKEN });
      const input = engine.input('tracker', conn, 'by_next', 'full', {
        pagesPerActivity: 1,
        pagesPerExecution: 10_000,
      });
      const handle = await startSync(client, input, { taskQueue });
      const result = await handle.result();
      assert.equal(result.status, 'completed');
      assert.deepEqual([result.pages, result.fetched, result.inserted], [10, 1_000, 1_000]);
      const stored = await listRecords(env.db, {
        integration: 'tracker',
        connection: conn,
        resource: 'by_next',
      });
      assert.equal(stored.length, 1_000);
      const histories = [];
      for await (const h of client.workflow
        .list({ query: `WorkflowId = '${handle.workflowId}'` })
        .intoHistories())
        histories.push(h);
      assert.ok(
        histories.length > 1,
        `expected the run to continue as new, got ${histories.length} execution(s)`,
      );
      for await (const r of Worker.runReplayHistories({ workflowBundle: env.workflowBundle }, histories))
        assert.equal(r.error, undefined, `replay of ${r.runId} failed: ${String(r.error)}`);
      // One run row for the whole chain.
      const runs = (await listRuns(env.db, { integration: 'tracker' })).filter((r) => r.connection === conn);
      assert.deepEqual(
        runs.map((r) => r.status),
        ['completed'],
      );
    } finally {
      await worker.shutdown();
      await connection.close();
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('cancels (not terminates) the running siblings of a failed child; every run row ends final', async () => {
    const conn = uniqueId('acme');
    await engine.addConnection('forge', conn, { token: TOKEN });
    sim.setLatency(150);
    try {
      const parents = await (await engine.run(engine.input('forge', conn, 'repos'))).result();
      assert.equal(parents.inserted, REPOS.length);
      const handle = await engine.run(engine.input('forge', conn, 'issues', 'full', { pagesPerActivity: 1 }));
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal((error.cause as { type?: string }).type, 'ClientError');
        assert.match(error.cause?.message ?? '', /404/);
        return true;
      });
      const runs = (await listRuns(env.db, { integration: 'forge', limit: 100 })).filter(
        (r) => r.connection === conn && r.resource === 'issues',
      );
      const byParent = new Map(runs.map((r) => [r.parentKey ?? '(coordinator)', r.status]));
      assert.deepEqual(Object.fromEntries(byParent), {
        '(coordinator)': 'failed',
        'a-missing': 'failed',
        beta: 'cancelled',
        delta: 'cancelled',
        epsilon: 'cancelled',
      });
      for (const repo of ['beta', 'delta', 'epsilon']) {
        const d = await env.client.workflow.getHandle(`${handle.workflowId}:${repo}`).describe();
        assert.equal(d.status.name, 'CANCELLED', `child ${repo}`);
      }
      // gamma never started: no fifth child was begun after the failure.
      assert.equal(byParent.has('gamma'), false);
    } finally {
      sim.setLatency(0);
    }
  });

  it('heartbeats while a slow request is in flight: 2.5 s answers, 1 s heartbeat timeout, no retry', async () => {
    const conn = uniqueId('acme');
    await engine.addConnection('slow', conn, { token: TOKEN });
    sim.setLatency(2_500);
    try {
      const before = sim.requests.get('/issues') ?? 0;
      const handle = await engine.run(
        engine.input('slow', conn, 'issues', 'full', { heartbeatTimeoutMs: 1_000 }),
      );
      const result = await handle.result();
      assert.deepEqual([result.status, result.pages, result.inserted], ['completed', 2, 150]);
      assert.equal((sim.requests.get('/issues') ?? 0) - before, 2, 'each page requested once');
      assert.equal(await maxActivityAttempt(handle), 1);
    } finally {
      sim.setLatency(0);
    }
  });

  it('fails a run with a configuration problem after one attempt, with a typed error', async () => {
    // A worker without an encryption key, for a connection that has sealed secrets.
    const taskQueue = uniqueId('nokey');
    const keyless = await startWorker({
      address: env.temporalAddress,
      namespace: env.namespace,
      taskQueue,
      activities: createActivities({
        db: env.db,
        specs: new Map([['tracker', trackerSpec(sim.url)]]),
        secretBox: undefined,
        env: {},
      }),
      workflowBundle: env.workflowBundle,
    });
    try {
      const sealed = uniqueId('acme');
      await engine.addConnection('tracker', sealed, { token: TOKEN });
      const cases: { name: string; run: () => Promise<WorkflowHandle>; type: string; message: RegExp }[] = [
        {
          name: 'no encryption key',
          run: () => startSync(env.client, engine.input('tracker', sealed, 'issues'), { taskQueue }),
          type: 'ConfigurationError',
          message: /no encryption key/,
        },
        {
          name: 'no connection',
          run: () => engine.run(engine.input('tracker', uniqueId('nobody'), 'issues')),
          type: 'ConfigurationError',
          message: /no connection/,
        },
        {
          name: 'unknown resource',
          run: () => engine.run(engine.input('tracker', sealed, 'nothing')),
          type: 'SpecError',
          message: /unknown resource "nothing"/,
        },
        {
          name: 'unknown integration',
          run: () => engine.run(engine.input('nowhere', sealed, 'issues')),
          type: 'SpecError',
          message: /nowhere/,
        },
      ];
      const missingSecret = uniqueId('acme');
      await saveConnection(env.db, engine.box, {
        integration: 'tracker',
        id: missingSecret,
        config: {},
        secrets: {},
      });
      cases.push({
        name: 'missing secret',
        run: () => engine.run(engine.input('tracker', missingSecret, 'issues')),
        type: 'ConfigurationError',
        message: /token/,
      });
      for (const c of cases) {
        const handle = await c.run();
        await assert.rejects(handle.result(), (error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError, c.name);
          assert.equal((error.cause as { type?: string }).type, c.type, c.name);
          assert.match(error.cause?.message ?? '', c.message, c.name);
          assert.doesNotMatch(JSON.stringify(error), new RegExp(TOKEN), c.name);
          return true;
        });
        assert.equal(await maxActivityAttempt(handle), 1, `${c.name}: one attempt`);
      }
    } finally {
      await keyless.shutdown();
    }
  });
});

describe('database: the worker pool and the indexes of the sweep and the pruning', () => {
  let env: TestEnv;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.close();
  });

  it('opens connections with statement and idle-transaction timeouts, and bounds the wait for one', async () => {
    const db = createDb(env.databaseUrl, { max: workerPoolSize(2), connectionTimeoutMs: 300 });
    try {
      const { rows } = await sql<{ s: string; i: string }>`select current_setting('statement_timeout') as s,
        current_setting('idle_in_transaction_session_timeout') as i`.execute(db);
      assert.deepEqual(rows, [{ s: '1min', i: '1min' }]);
      // Every connection taken: the next query fails after the connection timeout rather than waiting forever.
      const held = Array.from({ length: workerPoolSize(2) }, () => sql`select pg_sleep(1.5)`.execute(db));
      await assert.rejects(sql`select 1`.execute(db), /timeout/i);
      await Promise.all(held);
      const short = createDb(env.databaseUrl, { max: 1, statementTimeoutMs: 200 });
      try {
        await assert.rejects(sql`select pg_sleep(1)`.execute(short), /statement timeout/);
      } finally {
        await short.destroy();
      }
    } finally {
      await db.destroy();
    }
  });

  /** The plan of a statement, by default with sequential scans priced out (for the tiny test tables). */
  async function plan(
    query: string,
    parameters: readonly unknown[] = [],
    { seqscan = false, hashJoin = false } = {},
  ): Promise<string> {
    const client = await poolOf(env.db)!.connect();
    try {
      if (!seqscan) await client.query('set enable_seqscan = off');
      // As finishRun runs unseenKeys.
      if (hashJoin) await client.query('set enable_nestloop = off; set enable_mergejoin = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain ${query}`, [...parameters]);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('reset enable_seqscan; reset enable_nestloop; reset enable_mergejoin');
      client.release();
    }
  }

  it('prunes the rate ledger by age through rate_ledger_at_brin (200,000 rows over 25 hours)', async () => {
    // A day's ledger of a busy deployment, in time order as it is written; 4% of it is older than a day.
    await sql`insert into rate_ledger (connection_key, kind, at)
      select 'bulk-' || (g % 50), 'admit', now() - interval '25 hours' + g * interval '25 hours' / 200000
      from generate_series(1, 200000) g`.execute(env.db);
    await sql`analyze rate_ledger`.execute(env.db);
    const q = pruneLedgerQuery(env.db, LEDGER_RETENTION_MS).compile();
    const p = await plan(q.sql, q.parameters, { seqscan: true });
    assert.match(p, /Bitmap Index Scan on rate_ledger_at_brin/, p);
    // Rows 1..7,999 were older than a day at insert; the cutoff has moved on since by a row per 0.45 s.
    const pruned = await pruneLedger(env.db, LEDGER_RETENTION_MS);
    assert.ok(pruned >= 7_999 && pruned <= 8_020, `pruned ${pruned}`);
  });

  it('sweeps the live records of one parent through records_live_child_idx, of a whole resource through the primary key', async () => {
    // A resource of 200 parents with 100 records each, a quarter of them deleted, and statistics: on an
    // empty table the planner's choice between two indexes is a coin toss.
    await sql`insert into records (integration, connection, resource, record_key, data, content_hash, parent_key, deleted_at)
      select 'forge', 'c', 'issues', 'k' || g, '{}'::jsonb, 'h', 'p' || (g % 200),
             case when g % 4 = 0 then now() end
      from generate_series(1, 20000) g`.execute(env.db);
    await sql`analyze records`.execute(env.db);
    for (const parentKey of ['p7', null]) {
      const scope = { runId: 'r', integration: 'forge', connection: 'c', resource: 'issues', parentKey };
      // The live keys of one parent are read through the partial index of child records, a top-level
      // scope's through the primary key, whose prefix it is…
      const q = unseenKeys(scope).compile(env.db);
      const p = await plan(q.sql, q.parameters, { hashJoin: true });
      // One hash of the keys on one side, probed by the other: linear, whatever the estimates.
      assert.match(p, /Hash (Right )?Anti Join/, p);
      assert.doesNotMatch(p, /Nested Loop|Merge/, p);
      // A plain or a bitmap index scan, as the server version and its statistics choose.
      assert.match(
        p,
        parentKey === null
          ? /(Index Scan using|Bitmap Index Scan on) records_pkey/
          : /(Index Scan using|Bitmap Index Scan on) records_live_child_idx/,
        p,
      );
      // The scope (and the parent) are the index condition, not a filter over every resource's or
      // parent's records.
      assert.match(
        p,
        parentKey === null
          ? /Index Cond: \(\(integration = .*connection = .*resource = /
          : /Index Cond: .*parent_key = /,
        p,
      );
      // …and the unseen ones are marked by key (an index condition, or a filter of the same scan), never
      // through a join.
      const u = deletionSweep(env.db, scope, ['k1', 'k2', 'k3']).compile();
      const up = await plan(u.sql, u.parameters);
      assert.doesNotMatch(up, /Nested Loop|Join/, up);
    }
  });

  it('a full run over a freshly loaded, never analysed table sweeps in linear time', async () => {
    // Planner estimates of an unanalysed table once made the sweep a nested loop: minutes for this.
    const scope = { integration: 'sweep', connection: uniqueId('c'), resource: 'r' };
    const keys = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({ key: String(from + i), data: { i: from + i } }));
    const runs = [];
    for (const id of [uniqueId('r1'), uniqueId('r2')]) {
      await startRun(env.db, { ...scope, id, workflowId: 'w', kind: 'full' });
      for (let n = 0; n < 200; n++) {
        // The second run misses every fourth page of 200 records: 10,000 deletions of 40,000 records.
        const records = runs.length === 0 || n % 4 !== 0 ? keys(n * 200, (n + 1) * 200) : [];
        await commitPage(env.db, scope, pageCommit(id, n, records, { checkpoint: null, done: n === 199 }));
      }
      runs.push(id);
      const started = performance.now();
      const done = await finishRun(env.db, { runId: id, status: 'completed' });
      assert.equal(done.deleted, runs.length === 1 ? 0 : 10_000);
      assert.ok(performance.now() - started < 10_000, `sweep took ${performance.now() - started} ms`);
    }
  });

  it('a worker with maintenance prunes ledger rows older than a day, and keeps newer ones', async () => {
    const key = uniqueId('ledger');
    await sql`insert into rate_ledger (connection_key, kind, at) values
      (${key}, 'admit', now() - interval '2 days'), (${key}, 'admit', now() - interval '1 hour')`.execute(
      env.db,
    );
    const worker = await startWorker({
      address: env.temporalAddress,
      namespace: env.namespace,
      taskQueue: uniqueId('prune'),
      activities: createActivities({ db: env.db, specs: new Map(), secretBox: undefined, env: {} }),
      workflowBundle: env.workflowBundle,
      maintenance: { db: env.db },
    });
    try {
      const count = async () =>
        (
          await sql<{
            n: number;
          }>`select count(*)::int as n from rate_ledger where connection_key = ${key}`.execute(env.db)
        ).rows[0]?.n;
      for (let i = 0; i < 50 && (await count()) !== 1; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await count(), 1);
    } finally {
      await worker.shutdown();
    }
  });
});
