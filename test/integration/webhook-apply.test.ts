import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyChange, isOlder, loadPending, type EntityTarget } from '../../src/webhooks/apply.js';
import { inboxRow, insertEvents } from '../../src/webhooks/inbox-writer.js';
import { listRecords, upsertRecords } from '../../src/store/records.js';
import { databaseNow } from '../../src/store/runs.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

/** Applying stored events to records against the real Postgres, without Temporal in between. */
describe('webhook apply: newer events win, by order key or else by arrival', () => {
  let env: TestEnv;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.close();
  });

  const target = (): EntityTarget => ({
    integration: 'tracker',
    connection: uniqueId('c'),
    resource: 'issues',
    entityKey: '7',
  });

  /** Stores events for the entity in this order (inbox ids rise with it); returns their ids. */
  async function store(t: EntityTarget, events: { title: string; order?: string }[]): Promise<number[]> {
    const rows = await insertEvents(
      env.db,
      events.map((e) =>
        inboxRow(
          t.integration,
          t.connection,
          {
            eventId: uniqueId('evt'),
            eventType: 'issue.updated',
            action: 'upsert',
            resource: t.resource,
            entityKey: t.entityKey,
            orderKey: e.order ?? null,
            payload: null,
            problem: null,
          },
          JSON.stringify({ title: e.title }),
        ),
      ),
    );
    assert.equal(rows.length, events.length);
    return rows.map((r) => r.id);
  }

  async function apply(t: EntityTarget, id: number, title: string) {
    const [row] = await loadPending(env.db, t, [id]);
    assert.ok(row, `event ${id} is pending`);
    return applyChange(env.db, t, row, { kind: 'upsert', record: { id: 7, title } });
  }

  const title = async (t: EntityTarget) => {
    const [r] = await listRecords(env.db, t);
    return (r?.data as { title?: string } | undefined)?.title;
  };

  it('without order keys, an earlier arrival applied after a later one (a replay, a late dispatch) is superseded', async () => {
    const t = target();
    const [older, newer] = await store(t, [{ title: 'older' }, { title: 'newer' }]);
    assert.equal(await apply(t, newer!, 'newer'), 'applied');
    assert.equal(await apply(t, older!, 'older'), 'superseded');
    assert.equal(await title(t), 'newer');
  });

  it('with order keys, the order key decides, whatever the arrival', async () => {
    const t = target();
    // The provider's sequence 5 arrives before its sequence 3.
    const [five, three, nine] = await store(t, [
      { title: 'five', order: '5' },
      { title: 'three', order: '3' },
      { title: 'nine', order: '9' },
    ]);
    assert.equal(await apply(t, three!, 'three'), 'applied');
    assert.equal(await apply(t, nine!, 'nine'), 'applied');
    assert.equal(await apply(t, five!, 'five'), 'superseded', 'sequence 5 is older than 9');
    assert.equal(await title(t), 'nine');
  });

  it('an event that wins on its order key with a lower inbox id does not lower the arrival mark', async () => {
    const t = target();
    // W (order 8) arrives first, then B (order 9), A and C (no order keys).
    const [w, b, a, c] = await store(t, [
      { title: 'W', order: '8' },
      { title: 'B', order: '9' },
      { title: 'A' },
      { title: 'C' },
    ]);
    assert.equal(await apply(t, w!, 'W'), 'applied');
    assert.equal(await apply(t, c!, 'C'), 'applied');
    assert.equal(await apply(t, b!, 'B'), 'applied', 'order 9 is newer than order 8');
    // A arrived before C, which is applied: whatever B did to the mark, A is older.
    assert.equal(await apply(t, a!, 'A'), 'superseded');
    assert.equal(await title(t), 'B');
  });

  it('timestamp order keys compare as instants: a fractional second and mixed UTC offsets', async () => {
    const t = target();
    // As text, "…:01Z" sorts after "…:01.5Z" and "…12:30:00+02:00" after "…11:00:00Z": the older would win.
    const [half, whole] = await store(t, [
      { title: 'at 01.5', order: '2026-01-01T00:00:01.5Z' },
      { title: 'at 01', order: '2026-01-01T00:00:01Z' },
    ]);
    assert.equal(await apply(t, half!, 'at 01.5'), 'applied');
    assert.equal(await apply(t, whole!, 'at 01'), 'superseded', '…:01Z is half a second older');
    assert.equal(await title(t), 'at 01.5');

    const u = target();
    const [utc, plusTwo] = await store(u, [
      { title: '11:00 UTC', order: '2026-01-01T11:00:00Z' },
      { title: '10:30 UTC', order: '2026-01-01T12:30:00+02:00' },
    ]);
    assert.equal(await apply(u, utc!, '11:00 UTC'), 'applied');
    assert.equal(await apply(u, plusTwo!, '10:30 UTC'), 'superseded');
    assert.equal(await title(u), '11:00 UTC');
  });

  it('an order key of another kind than the last applied one fails that event, saying why', async () => {
    const t = target();
    const [stamp, seq] = await store(t, [
      { title: 'stamped', order: '2026-01-01T00:00:00Z' },
      { title: 'sequenced', order: '42' },
    ]);
    assert.equal(await apply(t, stamp!, 'stamped'), 'applied');
    assert.equal(await apply(t, seq!, 'sequenced'), 'failed');
    assert.equal(await title(t), 'stamped');
    const row = await env.db
      .selectFrom('webhook_events')
      .select(['status', 'error'])
      .where('id', '=', seq!)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'failed');
    assert.equal(
      row.error,
      'order key: cannot order "42" (number) against "2026-01-01T00:00:00Z" (timestamp): ' +
        'order values must all be numbers, all timestamps, or all other text',
    );
  });

  it('with an order key on one side only, arrival decides', () => {
    assert.equal(isOlder({ id: 4, orderKey: '10' }, { last_order: null, last_event: 5 }), true);
    assert.equal(isOlder({ id: 6, orderKey: null }, { last_order: '10', last_event: 5 }), false);
    assert.equal(isOlder({ id: 4, orderKey: null }, { last_order: '10', last_event: 5 }), true);
    assert.equal(isOlder({ id: 1, orderKey: null }, { last_order: null, last_event: null }), false);
    assert.equal(isOlder({ id: 1, orderKey: '2' }, { last_order: '10', last_event: 5 }), true);
    assert.equal(isOlder({ id: 9, orderKey: '10' }, { last_order: '10', last_event: 5 }), false);
  });

  it('a refetched answer does not overwrite or delete a record a sync wrote after the request', async () => {
    const t = target();
    const scope = { integration: t.integration, connection: t.connection, resource: t.resource };
    await upsertRecords(env.db, scope, [{ key: '7', data: { id: 7, title: 'first' } }]);
    const [update, remove] = await store(t, [{ title: 'refetch' }, { title: 'refetch 404' }]);
    // The refetch is requested, then a sync that fetched later writes the record.
    const fetchedAt = await databaseNow(env.db);
    await upsertRecords(env.db, scope, [{ key: '7', data: { id: 7, title: 'from a later sync' } }]);
    const [u] = await loadPending(env.db, t, [update!]);
    assert.equal(
      await applyChange(env.db, t, u!, { kind: 'upsert', record: { id: 7, title: 'stale' }, fetchedAt }),
      'superseded',
    );
    const [d] = await loadPending(env.db, t, [remove!]);
    assert.equal(await applyChange(env.db, t, d!, { kind: 'delete', fetchedAt }), 'superseded');
    const [r] = await listRecords(env.db, scope, { includeDeleted: true });
    assert.deepEqual(r?.data, { id: 7, title: 'from a later sync' });
    assert.equal(r?.deletedAt, null);

    // Requested after the sync's write, the same answers do apply.
    const [again, gone] = await store(t, [{ title: 'refetch' }, { title: 'refetch 404' }]);
    const later = await databaseNow(env.db);
    const [a] = await loadPending(env.db, t, [again!]);
    await applyChange(env.db, t, a!, { kind: 'upsert', record: { id: 7, title: 'fresh' }, fetchedAt: later });
    assert.equal(await title(t), 'fresh');
    const [g] = await loadPending(env.db, t, [gone!]);
    await applyChange(env.db, t, g!, { kind: 'delete', fetchedAt: await databaseNow(env.db) });
    assert.ok((await listRecords(env.db, scope, { includeDeleted: true }))[0]?.deletedAt);
  });
});
