/**
 * Applying inbox events to the records store, one entity at a time. Each event is applied in its own
 * transaction together with its status change, under a lock on the entity's row, and only if it is not
 * older than the last applied one (by order key when both have one, else by arrival): duplicates,
 * re-dispatches, replays and late arrivals change nothing, so the store ends at the newest event
 * whatever order they came in.
 */
import { sql } from 'kysely';
import { mapRecord } from '../mapping/map-record.js';
import type { ResourceSpec } from '../spec/schema.js';
import type { Db, DbOrTx } from '../store/db.js';
import { markRecordsDeleted, upsertRecords, type RecordScope } from '../store/records.js';
import { compareOrderValues, OrderKindMismatchError } from '../order/order-key.js';

export interface EntityTarget {
  integration: string;
  connection: string;
  resource: string;
  entityKey: string;
}

export interface PendingRow {
  id: number;
  eventType: string;
  action: string;
  orderKey: string | null;
  payload: unknown;
  /** When the receiver stored it (database clock), for the apply-latency metric. */
  receivedAt?: Date;
}

/**
 * What to do to the entity, decided before the transaction (a refetch reads the API first). A change
 * read from the API carries the database time of its request: if a sync wrote the record after it, the
 * event is superseded and the record kept. (Write times stand in for fetch times: a sync page fetched
 * before the refetch but committed after it also wins, until the next sync or event.)
 */
export type Change =
  | { kind: 'upsert'; record: Record<string, unknown>; fetchedAt?: Date }
  | { kind: 'delete'; fetchedAt?: Date }
  | { kind: 'fail'; reason: string };

export type Outcome = 'applied' | 'superseded' | 'skipped' | 'failed';

/** Events of one entity still to apply, oldest first (order key, then arrival). */
export async function loadPending(
  db: DbOrTx,
  target: EntityTarget,
  ids: readonly number[],
): Promise<PendingRow[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('webhook_events')
    .select(['id', 'event_type', 'action', 'order_key', 'payload', 'received_at'])
    .where('id', 'in', ids)
    .where('integration', '=', target.integration)
    .where('connection', '=', target.connection)
    .where('resource', '=', target.resource)
    .where('entity_key', '=', target.entityKey)
    .where('status', 'in', ['received', 'dispatched'])
    .execute();
  return rows
    .map((r) => ({
      id: r.id,
      eventType: r.event_type,
      action: r.action,
      orderKey: r.order_key,
      payload: r.payload,
      receivedAt: r.received_at,
    }))
    .sort(
      (a, b) =>
        (a.orderKey !== null && b.orderKey !== null ? sortOrder(a.orderKey, b.orderKey) : 0) || a.id - b.id,
    );
}

/** For sorting only: keys of different kinds keep arrival order here; applying them fails each clearly. */
function sortOrder(a: string, b: string): number {
  try {
    return compareOrderValues(a, b);
  } catch (error) {
    if (error instanceof OrderKindMismatchError) return 0;
    throw error;
  }
}

/** The record an upsert event carries, mapped as a sync would map it. */
export function changeFromPayload(resource: ResourceSpec, raw: unknown, fetchedAt?: Date): Change {
  const mapped = mapRecord(resource, raw);
  if (!mapped.ok) return { kind: 'fail', reason: `record does not map: ${mapped.reason}` };
  return fetchedAt
    ? { kind: 'upsert', record: mapped.record, fetchedAt }
    : { kind: 'upsert', record: mapped.record };
}

/** Applies one event's change, if it is still pending and not older than what the entity has seen. */
export async function applyChange(
  db: Db,
  target: EntityTarget,
  event: PendingRow,
  change: Change,
): Promise<Outcome> {
  return db.transaction().execute(async (tx) => {
    const row = await tx
      .selectFrom('webhook_events')
      .select(['status'])
      .where('id', '=', event.id)
      .forUpdate()
      .executeTakeFirst();
    if (!row || (row.status !== 'received' && row.status !== 'dispatched')) return 'skipped';

    const finish = (status: 'processed' | 'failed', result: string, error: string | null = null) =>
      tx
        .updateTable('webhook_events')
        .set({ status, result, error, processed_at: sql<Date>`clock_timestamp()` })
        .where('id', '=', event.id)
        .execute();

    if (change.kind === 'fail') {
      await finish('failed', 'failed', change.reason);
      return 'failed';
    }

    const key = {
      integration: target.integration,
      connection: target.connection,
      resource: target.resource,
      entity_key: target.entityKey,
    };
    await tx
      .insertInto('webhook_entities')
      .values(key)
      .onConflict((oc) => oc.doNothing())
      .execute();
    const entity = await tx
      .selectFrom('webhook_entities')
      .select(['last_order', 'last_event'])
      .where('integration', '=', key.integration)
      .where('connection', '=', key.connection)
      .where('resource', '=', key.resource)
      .where('entity_key', '=', key.entity_key)
      .forUpdate()
      .executeTakeFirstOrThrow();
    let older: boolean;
    try {
      older = isOlder(event, entity);
    } catch (error) {
      // A number after a timestamp (or the reverse) has no order: say so instead of guessing.
      if (!(error instanceof OrderKindMismatchError)) throw error;
      await finish('failed', 'failed', `order key: ${error.message}`);
      return 'failed';
    }
    if (older) {
      await finish('processed', 'superseded');
      return 'superseded';
    }

    const scope: RecordScope = {
      integration: target.integration,
      connection: target.connection,
      resource: target.resource,
    };
    if (change.fetchedAt && (await writtenSince(tx, scope, target.entityKey, change.fetchedAt))) {
      // A sync wrote the record after this answer was requested: its data is at least as new.
      await finish('processed', 'superseded');
      return 'superseded';
    }
    if (change.kind === 'upsert') {
      await upsertRecords(tx, scope, [{ key: target.entityKey, data: change.record }]);
    } else {
      await markRecordsDeleted(tx, scope).where('record_key', '=', target.entityKey).execute();
    }
    await tx
      .updateTable('webhook_entities')
      .set({
        last_order: event.orderKey ?? entity.last_order,
        // An event can win on its order key with a lower inbox id than the last one applied: arrival
        // comparisons must still see the highest.
        last_event: sql<number>`greatest(last_event, ${event.id}::bigint)`,
        updated_at: sql<Date>`now()`,
      })
      .where('integration', '=', key.integration)
      .where('connection', '=', key.connection)
      .where('resource', '=', key.resource)
      .where('entity_key', '=', key.entity_key)
      .execute();
    await finish('processed', change.kind === 'upsert' ? 'upserted' : 'deleted');
    return 'applied';
  });
}

/** Whether the stored record was written after `at` (locked until the transaction ends). */
async function writtenSince(tx: DbOrTx, scope: RecordScope, key: string, at: Date): Promise<boolean> {
  const row = await tx
    .selectFrom('records')
    .select(sql<boolean>`updated_at > ${at}`.as('newer'))
    .where('integration', '=', scope.integration)
    .where('connection', '=', scope.connection)
    .where('resource', '=', scope.resource)
    .where('record_key', '=', key)
    .forUpdate()
    .executeTakeFirst();
  return row?.newer === true;
}

/**
 * Whether the event is older than what the entity last applied: by order keys when both have one
 * (numbers as numbers, timestamps as instants; keys of different kinds throw OrderKindMismatchError),
 * otherwise by arrival (inbox id), so a replayed or late-dispatched event never undoes a newer one.
 */
export function isOlder(
  event: Pick<PendingRow, 'id' | 'orderKey'>,
  entity: { last_order: string | null; last_event: number | null },
): boolean {
  if (event.orderKey !== null && entity.last_order !== null)
    return compareOrderValues(event.orderKey, entity.last_order) < 0;
  return entity.last_event !== null && event.id < entity.last_event;
}

/** Marks events failed (their workflow gave up on them); an operator may replay them. */
export async function failEvents(db: DbOrTx, ids: readonly number[], message: string): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db
    .updateTable('webhook_events')
    .set({ status: 'failed', result: 'failed', error: message, processed_at: sql<Date>`clock_timestamp()` })
    .where('id', 'in', ids)
    .where('status', 'in', ['received', 'dispatched'])
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
