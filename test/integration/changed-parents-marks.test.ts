/**
 * The marks of a child that visits changed parents only (`parent.changedOnly`), on a real Postgres:
 * which parents each run lists, with transactions in flight while a run takes its mark, failed runs,
 * retried starts, rewrites that change nothing, deletions and revivals.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createSyncActivities } from '../../activities/sync.js';
import { defineIntegration } from '../../src/spec/define.js';
import { markRecordsDeleted, upsertRecords } from '../../src/store/records.js';
import { getRun } from '../../src/store/runs.js';
import type { SyncKind } from '../../src/sync/types.js';
import { testDb, type DbEnv } from '../helpers/db-env.js';

const spec = defineIntegration({
  id: 'boards',
  baseUrl: 'https://boards.example.com',
  resources: {
    projects: { request: { path: '/projects' }, recordsPath: 'data', primaryKey: 'id' },
    tasks: {
      request: { path: '/projects/{parent.project}/tasks' },
      recordsPath: 'data',
      primaryKey: 'id',
      parent: { resource: 'projects', params: { project: 'id' }, changedOnly: true },
    },
    // The same child visiting every parent: its runs take no mark.
    notes: {
      request: { path: '/projects/{parent.project}/notes' },
      recordsPath: 'data',
      primaryKey: 'id',
      parent: { resource: 'projects', params: { project: 'id' } },
    },
  },
});

describe('parent.changedOnly: the parents each run visits', () => {
  let env: DbEnv;
  let acts: ReturnType<typeof createSyncActivities>;
  let connection: string;

  before(async () => {
    env = await testDb();
    acts = createSyncActivities({
      db: env.db,
      specs: new Map([[spec.id, spec]]),
      openPageSource: () => Promise.reject(new Error('no pages in this test')),
    });
    connection = env.uniqueId('team');
  });

  after(async () => {
    await env?.close();
  });

  const projects = () => ({ integration: 'boards', connection, resource: 'projects' });
  const writeProject = (id: string, name: string, db = env.db) =>
    upsertRecords(db, projects(), [{ key: id, data: { id, name } }]);

  /** Starts a coordinating run of `tasks` and lists every parent it visits, batch by batch. */
  async function visit(kind: SyncKind, runId = randomUUID(), resource = 'tasks') {
    const target = { integration: 'boards', connection, resource };
    await acts.startSyncRun({ ...target, runId, workflowId: `wf-${runId}`, kind });
    const keys: string[] = [];
    let after: string | null = null;
    do {
      const batch = await acts.listParents({ ...target, after, limit: 2, runId });
      keys.push(...batch.parents.map((p) => p.key));
      after = batch.nextAfter;
    } while (after !== null);
    return { runId, keys };
  }
  const finish = (runId: string, status: 'completed' | 'failed' = 'completed') =>
    acts.finishSyncRun({ runId, status });

  it('visits every parent first, then only those changed since the last completed run', async () => {
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) await writeProject(id, `project ${id}`);

    const first = await visit('incremental');
    assert.deepEqual(first.keys, ['p1', 'p2', 'p3', 'p4', 'p5'], 'no mark yet: every parent');
    await finish(first.runId);

    const quiet = await visit('incremental');
    assert.deepEqual(quiet.keys, [], 'nothing changed');
    await finish(quiet.runId);

    await writeProject('p2', 'renamed');
    await writeProject('p4', 'project p4'); // the same content: not a change
    const one = await visit('incremental');
    assert.deepEqual(one.keys, ['p2']);
    await finish(one.runId);

    // A full run visits every parent whatever the mark, and marks anew.
    await writeProject('p5', 'renamed');
    const full = await visit('full');
    assert.deepEqual(full.keys, ['p1', 'p2', 'p3', 'p4', 'p5']);
    await finish(full.runId);
    assert.deepEqual((await visit('incremental')).keys, [], "the full run's mark covers p5");
  });

  it('a parent changed by a transaction in flight when the run takes its mark is visited now and again next time', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let began!: () => void;
    const written = new Promise<void>((resolve) => (began = resolve));
    // p3 is rewritten by a transaction that starts (its now(), so its updated_at) before the run's mark
    // and commits after it: a mark by time would call it older than the run and never visit it.
    const inFlight = env.db.transaction().execute(async (tx) => {
      await writeProject('p3', 'rewritten slowly', tx);
      began();
      await gate;
    });
    await written;
    const runId = randomUUID();
    await acts.startSyncRun({
      integration: 'boards',
      connection,
      resource: 'tasks',
      runId,
      workflowId: `wf-${runId}`,
      kind: 'incremental',
    });
    release();
    await inFlight;
    // p1 changes after the mark, before the listing reaches it.
    await writeProject('p1', 'renamed after the mark');
    const during = await visit('incremental', runId);
    assert.deepEqual(during.keys, ['p1', 'p3'], 'both committed before the listing');
    // p2 changes after the listing passed it: this run cannot visit it.
    await writeProject('p2', 'renamed after the listing');
    await finish(runId);

    const p3 = await env.db
      .selectFrom('records')
      .select('updated_at')
      .where('connection', '=', connection)
      .where('resource', '=', 'projects')
      .where('record_key', '=', 'p3')
      .executeTakeFirstOrThrow();
    const run = (await getRun(env.db, runId))!;
    assert.ok(p3.updated_at < run.startedAt, 'p3 carries a time before the run began');

    const next = await visit('incremental');
    assert.deepEqual(next.keys, ['p1', 'p2', 'p3'], 'every change the mark did not see is visited again');
    await finish(next.runId);
    assert.deepEqual((await visit('incremental')).keys, []);
  });

  it('a failed run moves no mark; a retried start keeps the first snapshot', async () => {
    const quiet = await visit('incremental');
    await finish(quiet.runId);
    await writeProject('p4', 'renamed');
    const failed = await visit('incremental');
    assert.deepEqual(failed.keys, ['p4']);
    await finish(failed.runId, 'failed');

    const runId = randomUUID();
    const start = () =>
      acts.startSyncRun({
        integration: 'boards',
        connection,
        resource: 'tasks',
        runId,
        workflowId: `wf-${runId}`,
        kind: 'incremental',
      });
    await start();
    const mark = (await getRun(env.db, runId))!.highWater;
    await writeProject('p5', 'renamed between two attempts');
    await start();
    assert.equal((await getRun(env.db, runId))!.highWater, mark, 'the retry keeps the mark');
    const retried = await visit('incremental', runId);
    assert.deepEqual(retried.keys, ['p4', 'p5'], 'the failed run’s parent is visited again');
    await finish(runId);
    assert.deepEqual((await visit('incremental')).keys, ['p5'], 'p5 changed after the mark');
  });

  it('deleted parents are not visited; a revived one is', async () => {
    const quiet = await visit('incremental');
    await finish(quiet.runId);
    await markRecordsDeleted(env.db, projects()).where('record_key', '=', 'p2').execute();
    const gone = await visit('incremental');
    assert.deepEqual(gone.keys, []);
    await finish(gone.runId);
    await writeProject('p2', 'renamed after the listing'); // the same content as before it was deleted
    assert.deepEqual((await visit('incremental')).keys, ['p2']);
  });

  it('a child without changedOnly visits every parent on every run and takes no mark', async () => {
    const run = await visit('full', randomUUID(), 'notes');
    assert.deepEqual(run.keys, ['p1', 'p2', 'p3', 'p4', 'p5']);
    assert.equal((await getRun(env.db, run.runId))!.highWater, null);
    await finish(run.runId);
  });
});
