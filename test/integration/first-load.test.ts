import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { listRecords, upsertRecords } from '../../src/store/records.js';
import {
  commitPage,
  databaseNow,
  finishRun,
  getRun,
  isRecordKeyConflict,
  startRun,
  type PageCommit,
} from '../../src/store/runs.js';
import { generateRecords, startProviderSimulator } from '../../src/testing/simulator.js';
import { startEngine } from '../helpers/engine.js';
import { pageCommit, recordRange } from '../helpers/page-commits.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';

/** Runs into an empty scope (a first sync): plain inserts, no seen keys, no sweep. */
describe('first loads: a run into an empty scope', () => {
  let env: TestEnv;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.close();
  });

  const recs = recordRange;
  // A run into an empty scope: plain inserts, no seen keys.
  const page = (runId: string, expectedPages: number, records = recs(1, 3), over: Partial<PageCommit> = {}) =>
    pageCommit(runId, expectedPages, records, { trackSeen: false, insertOnly: true, ...over });
  const start = (scope: { integration: string; connection: string; resource: string; parentKey?: string }) =>
    startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });

  it('knows at its start whether its scope held any record, live or deleted, and keeps that on a retried start', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const first = await start(scope);
    assert.equal(first.intoEmpty, true);
    await upsertRecords(env.db, scope, recs(1, 1));
    // The retried start of the same run returns the row as it was created.
    const retried = await startRun(env.db, { ...scope, id: first.id, workflowId: 'w', kind: 'full' });
    assert.equal(retried.intoEmpty, true);
    assert.equal((await start(scope)).intoEmpty, false);
    // A deleted record counts too: it would meet the next page's plain insert.
    const other = { ...scope, connection: uniqueId('c') };
    await upsertRecords(env.db, other, recs(1, 1));
    await env.db
      .updateTable('records')
      .set({ deleted_at: sql`now()` })
      .where('connection', '=', other.connection)
      .execute();
    assert.equal((await start(other)).intoEmpty, false);
    // Another resource, connection or parent is another scope.
    assert.equal((await start({ ...scope, resource: 'other' })).intoEmpty, true);
    const child = { ...scope, resource: 'comments', parentKey: 'p1' };
    await upsertRecords(env.db, child, recs(1, 2));
    assert.equal((await start(child)).intoEmpty, false);
    assert.equal((await start({ ...child, parentKey: 'p2' })).intoEmpty, true);
  });

  it('an insert-only page that meets a stored record writes nothing, and commits as an upsert', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const run = await start(scope);
    assert.ok((await commitPage(env.db, scope, page(run.id, 0, recs(1, 3)))).committed);
    // A webhook writes record 5 after the page was requested.
    const fetchedAt = await databaseNow(env.db);
    await upsertRecords(env.db, scope, [{ key: '5', data: { id: 5, title: 'from a webhook' } }]);
    const second = recs(4, 6, { title: 'from the page' });
    await assert.rejects(commitPage(env.db, scope, page(run.id, 1, second, { fetchedAt })), (error) => {
      assert.ok(isRecordKeyConflict(error), String(error));
      return true;
    });
    const after = await getRun(env.db, run.id);
    assert.deepEqual(
      [after?.pages, after?.inserted, after?.fetched],
      [1, 3, 3],
      'the failed page counted nothing',
    );
    assert.deepEqual((await listRecords(env.db, scope)).map((r) => r.key).sort(), ['1', '2', '3', '5']);

    const upserted = await commitPage(
      env.db,
      scope,
      page(run.id, 1, second, { fetchedAt, insertOnly: false }),
    );
    assert.ok(upserted.committed);
    assert.deepEqual(upserted.counts, { inserted: 2, updated: 0, unchanged: 1, quarantined: 0 });
    const stored = new Map((await listRecords(env.db, scope)).map((r) => [r.key, r.data]));
    assert.deepEqual(stored.get('5'), { id: 5, title: 'from a webhook' }, 'the newer webhook write stays');
    assert.deepEqual(stored.get('4'), { id: 4, title: 'from the page' });
    // Only the primary key's violation is this conflict.
    assert.equal(isRecordKeyConflict({ code: '23505', constraint: 'webhook_inbox_pkey' }), false);
    assert.equal(isRecordKeyConflict(new Error('23505')), false);
  });

  it('two concurrent insert-only attempts at the same page: exactly one commits, the other writes nothing', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const run = await start(scope);
    const results = await Promise.all([
      commitPage(env.db, scope, page(run.id, 0, recs(1, 50))),
      commitPage(env.db, scope, page(run.id, 0, recs(1, 50))),
    ]);
    assert.deepEqual(results.map((r) => r.committed).sort(), [false, true]);
    assert.equal((await getRun(env.db, run.id))?.inserted, 50);
  });

  it('sweeps nothing at its end: a record written beside it is not one it missed', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const run = await start(scope);
    await commitPage(env.db, scope, page(run.id, 0, recs(1, 3), { done: true }));
    // A writer whose transaction began before the run started commits a record the listing never had.
    await upsertRecords(env.db, scope, recs(9, 9));
    await env.db
      .updateTable('records')
      .set({ updated_at: sql`now() - interval '1 minute'` })
      .where('connection', '=', scope.connection)
      .where('record_key', '=', '9')
      .execute();
    const done = await finishRun(env.db, { runId: run.id, status: 'completed' });
    assert.equal(done.deleted, 0);
    assert.equal((await listRecords(env.db, scope)).length, 4);
    // The next full run is not into an empty scope: what it misses is swept.
    const next = await start(scope);
    assert.equal(next.intoEmpty, false);
    await commitPage(
      env.db,
      scope,
      page(next.id, 0, recs(1, 3), { done: true, insertOnly: false, trackSeen: true }),
    );
    assert.equal((await finishRun(env.db, { runId: next.id, status: 'completed' })).deleted, 1);
  });

  it('a first sync whose provider lists a record twice reads that page again and upserts from there on', async () => {
    // 250 records at 100 per page, and record 5 again (changed) as the 150th: on the second page.
    const records = generateRecords(250);
    const again = { ...records[4]!, title: 'listed again' };
    const listed = [...records.slice(0, 149), again, ...records.slice(149)];
    const sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: { records: listed, pagination: 'page' } },
    });
    const engine = await startEngine(env, [trackerSpec(sim.url)]);
    try {
      const conn = uniqueId('acme');
      await engine.addConnection('tracker', conn, { token: TOKEN });
      const input = engine.input('tracker', conn, 'issues');
      const first = await (await engine.run(input)).result();
      assert.equal(first.status, 'completed');
      assert.deepEqual(
        [first.pages, first.fetched, first.inserted, first.updated, first.unchanged, first.deleted],
        [3, 251, 250, 1, 0, 0],
      );
      // Pages 1, 2 and the 3rd read ahead; then page 2 again and page 3 again after it.
      assert.equal(sim.requests.get('/issues'), 5);
      const stored = await listRecords(env.db, {
        integration: 'tracker',
        connection: conn,
        resource: 'issues',
      });
      assert.equal(stored.length, 250);
      assert.equal((stored.find((r) => r.key === '5')!.data as { title: string }).title, 'listed again');

      // The next full run sweeps as always: a record gone from the provider is marked deleted.
      sim.setRecords(
        'issues',
        records.filter((r) => r.id !== 7),
      );
      const second = await (await engine.run(input)).result();
      assert.deepEqual([second.deleted, second.updated, second.unchanged], [1, 1, 248]);
    } finally {
      await engine.close();
      await sim.close();
    }
  });
});
