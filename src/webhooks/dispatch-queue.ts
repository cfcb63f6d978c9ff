/**
 * The dispatcher's side of the webhook inbox: the events to hand to Temporal, and marking them
 * dispatched.
 */
import { sql } from 'kysely';
import type { DbOrTx } from '../store/db.js';

export interface PendingEvent {
  id: number;
  integration: string;
  connection: string;
  resource: string;
  entityKey: string;
  /** When the receiver stored it (database clock): dispatch lag is measured from here. */
  receivedAt: Date;
  /** The receiver's traceparent, when it traced the POST. */
  traceContext: string | null;
}

/**
 * Rows to hand to Temporal: every received one, and dispatched ones not processed after a while (their
 * workflow may be gone, e.g. a dev server restarted without its state). Re-dispatch is harmless: the
 * apply step skips events that are no longer pending.
 */
export async function pendingEvents(
  db: DbOrTx,
  limit: number,
  redispatchAfterMs: number,
): Promise<PendingEvent[]> {
  const rows = await db
    .selectFrom('webhook_events')
    .select(['id', 'integration', 'connection', 'resource', 'entity_key', 'received_at', 'trace_context'])
    .where((eb) =>
      eb.or([
        eb('status', '=', 'received'),
        eb.and([
          eb('status', '=', 'dispatched'),
          eb(
            'dispatched_at',
            '<',
            sql<Date>`clock_timestamp() - make_interval(secs => ${redispatchAfterMs / 1000})`,
          ),
        ]),
      ]),
    )
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    integration: r.integration,
    connection: r.connection,
    resource: r.resource!,
    entityKey: r.entity_key!,
    receivedAt: r.received_at,
    traceContext: r.trace_context,
  }));
}

export async function markDispatched(db: DbOrTx, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('webhook_events')
    .set({
      status: 'dispatched',
      dispatched_at: sql<Date>`clock_timestamp()`,
      dispatches: sql<number>`dispatches + 1`,
    })
    .where('id', 'in', ids)
    .where('status', 'in', ['received', 'dispatched'])
    .execute();
}
