/**
 * Worker crashes during a bulk export (integrations/salesforce-bulk.yaml against the kit's simulator),
 * the worker in its own process killed with SIGKILL: during the polls, a new worker goes on with the same
 * job (nothing is submitted again); mid-download, it resumes after the last committed chunk, and every
 * record is committed exactly once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startSalesforceBulkSimulator, type SalesforceBulkSimulator } from '../../src/testing/index.js';
import { SALESFORCE_BULK_TOKEN } from '../../src/testing/providers/index.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startSync } from '../../src/temporal/sync-client.js';
import type { SyncWorkflowInput } from '../../src/sync/types.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';
import { startWorkerProcess } from '../helpers/worker-process.js';

const RECORDS = 40_000;
const CHUNK = 500;
const PAGE = 10_000;

describe('bulk export: a worker killed mid-job', { timeout: 300_000 }, () => {
  let env: TestEnv;
  let sim: SalesforceBulkSimulator;
  const procs: ChildProcess[] = [];

  before(async () => {
    env = await testEnv();
    sim = await startSalesforceBulkSimulator({ records: RECORDS });
  });
  after(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await sim?.close();
    await env?.close();
  });

  const worker = async (taskQueue: string) => {
    const p = await startWorkerProcess(env, {
      taskQueue,
      simulatorUrl: sim.url,
      env: { BULK_SPEC: 'salesforce', CHUNK_RECORDS: String(CHUNK), PAGE_RECORDS: String(PAGE) },
    });
    procs.push(p);
    return p;
  };
  const kill = async (p: ChildProcess) => {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  const start = async (taskQueue: string) => {
    const connection = uniqueId('c');
    await saveConnection(env.db, SecretBox.fromKey(TEST_KEY), {
      integration: 'salesforce-bulk',
      id: connection,
      config: {},
      secrets: { token: SALESFORCE_BULK_TOKEN },
    });
    const input: SyncWorkflowInput = {
      integration: 'salesforce-bulk',
      connection,
      resource: 'accounts',
      kind: 'full',
      pagesPerActivity: 10,
      heartbeatTimeoutMs: 2000,
      retry: { maxAttempts: 6, initialIntervalMs: 200, maxIntervalMs: 1000 },
    };
    return { connection, handle: await startSync(env.client, input, { taskQueue }) };
  };
  const runRow = (connection: string) =>
    env.db.selectFrom('sync_runs').selectAll().where('connection', '=', connection).executeTakeFirst();
  const until = async (what: string, ok: () => Promise<boolean> | boolean) => {
    for (let i = 0; i < 600; i++) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`timed out waiting for ${what}`);
  };
  const stored = async (connection: string) =>
    Number(
      (
        await env.db
          .selectFrom('records')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('connection', '=', connection)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('killed while polling: the new worker polls the same job, which is submitted once', async () => {
    const taskQueue = uniqueId('crash-poll');
    sim.faults({ slowPolls: 5 });
    const first = await worker(taskQueue);
    const jobsBefore = sim.jobs.size;
    const { connection, handle } = await start(taskQueue);
    await until('two polls', () => {
      const job = [...sim.jobs.values()].at(-1);
      return sim.jobs.size > jobsBefore && (job?.polls ?? 0) >= 2;
    });
    await kill(first);
    await worker(taskQueue);
    const r = await handle.result();
    assert.equal(r.status, 'completed');
    assert.equal(sim.jobs.size - jobsBefore, 1, 'one job, submitted once');
    assert.equal(r.inserted, RECORDS);
    assert.equal(await stored(connection), RECORDS);
  });

  it('killed mid-download: resumed after the last committed chunk, each record committed once', async () => {
    const taskQueue = uniqueId('crash-download');
    // Slow enough a download to be killed in the middle of a result page.
    sim.faults({ slowPolls: 1, sliceDelayMs: 150 });
    const first = await worker(taskQueue);
    const jobsBefore = sim.jobs.size;
    const resultsBefore = sim.requests.filter((q) => q.path.endsWith('/results')).length;
    const { connection, handle } = await start(taskQueue);
    // Into the second result page (20 chunks of 500 make a page of 10,000), between its chunks.
    await until('25 committed chunks', async () => ((await runRow(connection))?.pages ?? 0) >= 25);
    await kill(first);
    const atKill = (await runRow(connection))!;
    assert.ok(atKill.pages < RECORDS / CHUNK, 'killed before the end');
    await worker(taskQueue);
    const r = await handle.result();
    assert.equal(r.status, 'completed');
    // fetched counts committed records only: a chunk committed twice would show here and in updated.
    assert.equal(r.fetched, RECORDS);
    assert.equal(r.inserted, RECORDS);
    assert.equal(r.updated + r.unchanged, 0);
    assert.equal(await stored(connection), RECORDS);
    assert.equal(sim.jobs.size - jobsBefore, 1, 'the job was not submitted again');
    const results = sim.requests.filter((q) => q.path.endsWith('/results')).slice(resultsBefore);
    const locators = results.map((q) => q.query.get('locator') ?? 'first');
    assert.equal(results.length, RECORDS / PAGE + 1, `one result page read again (${locators.join(', ')})`);
    assert.equal(new Set(locators).size, RECORDS / PAGE);
  });
});
