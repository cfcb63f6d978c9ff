import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { contentHash } from '../../src/store/content-hash.js';
import { listRecords, upsertRecords } from '../../src/store/records.js';
import { commitPage, databaseNow, finishRun, getRun, startRun } from '../../src/store/runs.js';
import { pageCommit, recordRange } from '../helpers/page-commits.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('runs store: fenced page commits, deletion detection, high-water mark', () => {
  let env: TestEnv;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.close();
  });

  const recs = recordRange;
  const page = pageCommit;

  it('commits a page once: a replayed commit of the same page changes nothing', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const run = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    const first = await commitPage(env.db, scope, page(run.id, 0));
    assert.equal(first.committed, true);
    const again = await commitPage(env.db, scope, page(run.id, 0));
    assert.deepEqual(again, { committed: false, reason: 'already-committed' });
    const stored = await getRun(env.db, run.id);
    assert.equal(stored?.pages, 1);
    assert.equal(stored?.fetched, 3);
    assert.equal(stored?.inserted, 3);
    assert.deepEqual(stored?.checkpoint, { next: 1 });
  });

  it('a page commit stores the content hash contentHash gives, so an unchanged record written elsewhere stays unchanged', async () => {
    // Postgres hashes each record's canonical text on commit; the webhook path hashes in JavaScript.
    // Both must agree byte for byte, or every re-sync would rewrite what a webhook wrote and vice versa.
    const tricky: Record<string, unknown>[] = [
      { id: 1, z: 'last', a: 'first', '10': 'index keys come first', '2': 'then this' },
      {
        id: 2,
        text: 'naïve café – 日本語 😀',
        quote: 'a "quoted" \\ back\\slash',
        ctl: 'tab\tnew\nline\u0001',
        sep: '\u2028\u2029',
      },
      {
        id: 3,
        nested: { b: [3, { y: 1, x: 2 }], a: null },
        empty: {},
        list: [],
        n: -0.000123,
        big: 1e21,
        t: true,
        f: false,
      },
      { id: 4, date: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)), skipped: undefined, nan: Number.NaN },
    ];
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const run = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    const records = tricky.map((data, i) => ({ key: String(i + 1), data }));
    assert.equal((await commitPage(env.db, scope, page(run.id, 0, records))).committed, true);
    const stored = await env.db
      .selectFrom('records')
      .select(['record_key', 'content_hash'])
      .where('connection', '=', scope.connection)
      .orderBy('record_key')
      .execute();
    assert.deepEqual(
      stored.map((r) => r.content_hash),
      records.map((r) => contentHash(r.data)),
    );
    // The same records written again by the JavaScript-hashing path: nothing changed.
    assert.deepEqual(await upsertRecords(env.db, scope, records), { inserted: 0, updated: 0, unchanged: 4 });
  });

  it('a record jsonb cannot hold (NUL, unpaired surrogate) is quarantined alone; the page commits', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const run = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    const records = [
      { key: '1', data: { id: 1, title: 'fine', note: 'a \\u0000 typed out, and 😀 whole' } },
      { key: '2', data: { id: 2, title: 'nul\u0000inside' } },
      { key: '3', data: { id: 3, title: 'cut emoji \ud83d' } },
      // A key no text column can hold.
      { key: 'k\u0000', data: { id: 5 } },
    ];
    // A record quarantined by mapping whose raw holds a NUL: stored in the quarantine all the same.
    const quarantined = [{ key: '4', raw: { id: 4, bad: 'x\u0000' }, reason: 'title: expected text' }];
    const committed = await commitPage(env.db, scope, page(run.id, 0, records, { quarantined }));
    assert.ok(committed.committed);
    assert.deepEqual(committed.counts, { inserted: 1, updated: 0, unchanged: 0, quarantined: 4 });
    const stored = await listRecords(env.db, scope);
    assert.deepEqual(
      stored.map((r) => r.data),
      [{ id: 1, title: 'fine', note: 'a \\u0000 typed out, and 😀 whole' }],
    );
    const rows = await env.db
      .selectFrom('quarantine')
      .select(['record_key', 'raw', 'reason'])
      .where('run_id', '=', run.id)
      .orderBy('record_key')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.record_key, r.raw, r.reason]),
      [
        [
          '2',
          { id: 2, title: 'nul\ufffdinside' },
          'contains a NUL character or an unpaired surrogate, which Postgres cannot store',
        ],
        [
          '3',
          { id: 3, title: 'cut emoji \ufffd' },
          'contains a NUL character or an unpaired surrogate, which Postgres cannot store',
        ],
        ['4', { id: 4, bad: 'x\ufffd' }, 'title: expected text'],
        [
          'k\ufffd',
          { id: 5 },
          'contains a NUL character or an unpaired surrogate, which Postgres cannot store',
        ],
      ],
    );
    assert.equal((await getRun(env.db, run.id))?.quarantined, 4);
  });

  it('a record quarantined in a full run keeps its stored copy: listed, so not swept as deleted', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const r1 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r1.id, 0, recs(1, 4), { done: true }));
    await finishRun(env.db, { runId: r1.id, status: 'completed' });

    const r2 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    // 3 now fails validation, 4 is gone from the listing, and one record has no key at all.
    const quarantined = [
      { key: '3', raw: { id: 3, due: 'soon' }, reason: 'due: expected a timestamp' },
      { key: null, raw: { title: 'no id' }, reason: 'primary key id is missing' },
    ];
    await commitPage(env.db, scope, page(r2.id, 0, recs(1, 2), { done: true, quarantined }));
    const done = await finishRun(env.db, { runId: r2.id, status: 'completed' });
    assert.equal(done.deleted, 1, 'only 4, which the provider no longer lists');
    assert.equal(done.quarantined, 2);
    const stored = new Map(
      (await listRecords(env.db, scope, { includeDeleted: true })).map((r) => [r.key, r]),
    );
    assert.equal(stored.get('3')?.deletedAt, null, 'the last valid copy of 3 stays live');
    assert.deepEqual(stored.get('3')?.data, { id: 3 });
    assert.ok(stored.get('4')?.deletedAt);
  });

  it('two concurrent attempts at the same page: exactly one commits', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const run = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    const results = await Promise.all([
      commitPage(env.db, scope, page(run.id, 0, recs(1, 50))),
      commitPage(env.db, scope, page(run.id, 0, recs(1, 50))),
    ]);
    assert.equal(results.filter((r) => r.committed).length, 1);
    const stored = await getRun(env.db, run.id);
    assert.equal(stored?.inserted, 50);
    assert.equal(stored?.fetched, 50);
  });

  it('a completed full run marks exactly the records it did not see as deleted', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const r1 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r1.id, 0, recs(1, 10)));
    await commitPage(env.db, scope, page(r1.id, 1, recs(11, 20), { done: true }));
    assert.equal((await finishRun(env.db, { runId: r1.id, status: 'completed' })).deleted, 0);

    const r2 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r2.id, 0, recs(1, 5)));
    await commitPage(env.db, scope, page(r2.id, 1, recs(8, 20), { done: true }));
    const done = await finishRun(env.db, { runId: r2.id, status: 'completed' });
    assert.equal(done.deleted, 2);
    assert.equal(done.unchanged, 18);
    const live = await listRecords(env.db, scope);
    assert.equal(live.length, 18);
    assert.ok(!live.some((r) => r.key === '6' || r.key === '7'));
    // finishing again is a no-op that returns the stored outcome
    assert.equal((await finishRun(env.db, { runId: r2.id, status: 'failed' })).status, 'completed');
  });

  it("closing a run inside a caller's transaction leaves its planner settings as they were", async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const r1 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r1.id, 0, recs(1, 10), { done: true }));
    await finishRun(env.db, { runId: r1.id, status: 'completed' });
    const r2 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r2.id, 0, recs(1, 8), { done: true }));
    const settings = await env.db.transaction().execute(async (tx) => {
      // The sweep turns nested loops and merge joins off for its anti-join; a caller's own setting stays.
      await sql`set local enable_mergejoin = off`.execute(tx);
      const done = await finishRun(tx, { runId: r2.id, status: 'completed' });
      assert.equal(done.deleted, 2);
      // Closing it again changes nothing, settings included.
      assert.equal((await finishRun(tx, { runId: r2.id, status: 'failed' })).status, 'completed');
      return (
        await sql<{ n: string; m: string }>`
          select current_setting('enable_nestloop') as n, current_setting('enable_mergejoin') as m`.execute(
          tx,
        )
      ).rows[0];
    });
    assert.deepEqual(settings, { n: 'on', m: 'off' });
    // The run's seen keys are gone with it.
    const seen = await sql<{ n: number }>`
      select (select count(*) from sync_run_seen_pages where run_id = ${r2.id})::int
        + (select count(*) from sync_run_seen where run_id = ${r2.id})::int as n`.execute(env.db);
    assert.equal(seen.rows[0]!.n, 0);
  });

  it('a re-sync page leaves unchanged records untouched (not even locked) and writes the rest', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const r1 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r1.id, 0, recs(1, 4), { done: true }));
    await finishRun(env.db, { runId: r1.id, status: 'completed' });
    // 4 is deleted (by a webhook, say) with the same content the next page lists.
    await env.db
      .updateTable('records')
      .set({ deleted_at: sql`now()` })
      .where('connection', '=', scope.connection)
      .where('record_key', '=', '4')
      .execute();
    const versions = async () =>
      new Map(
        (
          await sql<{ record_key: string; xmin: string; xmax: string }>`
            select record_key, xmin::text, xmax::text from records
            where connection = ${scope.connection}`.execute(env.db)
        ).rows.map((r) => [r.record_key, `${r.xmin}/${r.xmax}`]),
      );
    const before = await versions();

    const r2 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    // 1 and 3 unchanged, 2 changed, 4 listed again (revived), 5 new.
    const listed = [...recs(1, 1), { key: '2', data: { id: 2, changed: true } }, ...recs(3, 5)];
    const committed = await commitPage(env.db, scope, page(r2.id, 0, listed, { done: true }));
    assert.ok(committed.committed);
    assert.deepEqual(committed.counts, { inserted: 1, updated: 2, unchanged: 2, quarantined: 0 });
    const after = await versions();
    // An untouched row keeps its version: no new tuple, and no lock (a lock would set xmax).
    assert.equal(after.get('1'), before.get('1'));
    assert.equal(after.get('3'), before.get('3'));
    assert.notEqual(after.get('2'), before.get('2'));
    assert.notEqual(after.get('4'), before.get('4'));
    const stored = new Map((await listRecords(env.db, scope)).map((r) => [r.key, r]));
    assert.deepEqual(stored.get('2')?.data, { id: 2, changed: true });
    assert.equal(stored.get('4')?.deletedAt, null, 'listed again: live again');
    assert.deepEqual(stored.get('5')?.data, { id: 5 });
    const done = await finishRun(env.db, { runId: r2.id, status: 'completed' });
    assert.deepEqual([done.inserted, done.updated, done.unchanged, done.deleted], [1, 2, 2, 0]);
  });

  it('what a webhook writes while a full run lists is newer than its pages: kept, and not swept', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const r1 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r1.id, 0, recs(1, 6), { done: true }));
    await finishRun(env.db, { runId: r1.id, status: 'completed' });

    const r2 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    // The page is requested from the provider…
    const fetchedAt = await databaseNow(env.db);
    // …and before it is committed, webhooks update 3, delete 4 and create 9.
    await upsertRecords(env.db, scope, [
      { key: '3', data: { id: 3, title: 'from a webhook' } },
      { key: '9', data: { id: 9 } },
    ]);
    await env.db
      .updateTable('records')
      .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
      .where('connection', '=', scope.connection)
      .where('record_key', '=', '4')
      .execute();
    // The page still has the old 3 and the deleted 4 (and not 6, which the provider deleted before).
    const committed = await commitPage(
      env.db,
      scope,
      page(r2.id, 0, [...recs(1, 4, { title: 'from the page' }), ...recs(5, 5)], { done: true, fetchedAt }),
    );
    assert.ok(committed.committed && committed.counts.updated === 2, JSON.stringify(committed));
    const done = await finishRun(env.db, { runId: r2.id, status: 'completed' });
    assert.equal(done.deleted, 1, 'only 6 is swept: 9 was written after the listing began');
    const stored = new Map(
      (await listRecords(env.db, scope, { includeDeleted: true })).map((r) => [r.key, r]),
    );
    assert.deepEqual(stored.get('1')?.data, { id: 1, title: 'from the page' }, 'older records take the page');
    assert.deepEqual(
      stored.get('3')?.data,
      { id: 3, title: 'from a webhook' },
      'the newer webhook write stays',
    );
    assert.ok(stored.get('4')?.deletedAt, 'a webhook delete is not undone by an older page');
    assert.ok(stored.get('6')?.deletedAt, 'missing from the listing and untouched since: deleted');
    assert.equal(stored.get('9')?.deletedAt, null, 'created by a webhook during the listing: kept');
  });

  it('a failed or cancelled full run deletes nothing, and refuses later page commits', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const r1 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r1.id, 0, recs(1, 10), { done: true }));
    await finishRun(env.db, { runId: r1.id, status: 'completed' });
    const r2 = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(env.db, scope, page(r2.id, 0, recs(1, 2)));
    const cancelled = await finishRun(env.db, { runId: r2.id, status: 'cancelled', error: 'by operator' });
    assert.equal(cancelled.deleted, 0);
    assert.equal((await listRecords(env.db, scope)).length, 10);
    assert.deepEqual(await commitPage(env.db, scope, page(r2.id, 1)), {
      committed: false,
      reason: 'run-not-running',
    });
  });

  it('quarantines invalid records with the reason and counts them', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const run = await startRun(env.db, { ...scope, id: uniqueId('run'), workflowId: 'w', kind: 'full' });
    await commitPage(
      env.db,
      scope,
      page(run.id, 0, recs(1, 2), {
        fetched: 3,
        quarantined: [{ key: '3', raw: { id: 3 }, reason: 'title: required' }],
      }),
    );
    const rows = await env.db.selectFrom('quarantine').selectAll().where('run_id', '=', run.id).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.reason, 'title: required');
    assert.equal((await getRun(env.db, run.id))?.quarantined, 1);
  });

  it('an incremental run starts from the stored high-water mark and advances it only on completion', async () => {
    const scope = { integration: 'i', connection: uniqueId('c'), resource: 'r' };
    const r1 = await startRun(env.db, {
      ...scope,
      id: uniqueId('run'),
      workflowId: 'w',
      kind: 'incremental',
    });
    assert.equal(r1.since, null);
    await commitPage(
      env.db,
      scope,
      page(r1.id, 0, recs(1, 2), { highWater: '2026-01-05T00:00:00.000Z', done: true }),
    );
    const failed = await startRun(env.db, {
      ...scope,
      id: uniqueId('run'),
      workflowId: 'w',
      kind: 'incremental',
    });
    assert.equal(failed.since, null, 'r1 has not completed yet');
    await finishRun(env.db, { runId: failed.id, status: 'failed' });
    await finishRun(env.db, { runId: r1.id, status: 'completed' });
    const r2 = await startRun(env.db, {
      ...scope,
      id: uniqueId('run'),
      workflowId: 'w',
      kind: 'incremental',
    });
    assert.equal(r2.since, '2026-01-05T00:00:00.000Z');
    assert.equal((await finishRun(env.db, { runId: r2.id, status: 'completed' })).deleted, 0);
  });
});
