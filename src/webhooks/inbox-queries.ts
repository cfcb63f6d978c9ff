/** What operators see of the webhook inbox (listing, counts, one event) and replaying a failed event. */
import { sql, type Selectable } from 'kysely';
import type { DbOrTx } from '../store/db.js';
import type { WebhookEventStatus, WebhookEventsTable } from '../store/tables.js';

export interface EventSummary {
  id: number;
  integration: string;
  connection: string;
  eventId: string;
  eventType: string;
  action: string;
  resource: string | null;
  entityKey: string | null;
  orderKey: string | null;
  status: WebhookEventStatus;
  result: string | null;
  error: string | null;
  dispatches: number;
  receivedAt: Date;
  dispatchedAt: Date | null;
  processedAt: Date | null;
}

const SUMMARY_COLUMNS = [
  'id',
  'integration',
  'connection',
  'event_id',
  'event_type',
  'action',
  'resource',
  'entity_key',
  'order_key',
  'status',
  'result',
  'error',
  'dispatches',
  'received_at',
  'dispatched_at',
  'processed_at',
] as const;

type SummaryRow = Pick<Selectable<WebhookEventsTable>, (typeof SUMMARY_COLUMNS)[number]>;

const toSummary = (r: SummaryRow): EventSummary => ({
  id: r.id,
  integration: r.integration,
  connection: r.connection,
  eventId: r.event_id,
  eventType: r.event_type,
  action: r.action,
  resource: r.resource,
  entityKey: r.entity_key,
  orderKey: r.order_key,
  status: r.status,
  result: r.result,
  error: r.error,
  dispatches: r.dispatches,
  receivedAt: r.received_at,
  dispatchedAt: r.dispatched_at,
  processedAt: r.processed_at,
});

export interface EventFilter {
  status?: WebhookEventStatus | undefined;
  integration?: string | undefined;
  connection?: string | undefined;
  limit?: number | undefined;
}

/** Newest first. */
export async function listEvents(db: DbOrTx, filter: EventFilter = {}): Promise<EventSummary[]> {
  let q = db.selectFrom('webhook_events').select(SUMMARY_COLUMNS).orderBy('id', 'desc');
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.integration) q = q.where('integration', '=', filter.integration);
  if (filter.connection) q = q.where('connection', '=', filter.connection);
  const rows = await q.limit(filter.limit ?? 50).execute();
  return rows.map(toSummary);
}

export async function countEvents(db: DbOrTx): Promise<Record<WebhookEventStatus, number>> {
  const rows = await db
    .selectFrom('webhook_events')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .groupBy('status')
    .execute();
  const out = { received: 0, dispatched: 0, processed: 0, failed: 0, ignored: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

export async function getEvent(db: DbOrTx, id: number): Promise<EventSummary | undefined> {
  const row = await db
    .selectFrom('webhook_events')
    .select(SUMMARY_COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toSummary(row) : undefined;
}

export class ReplayError extends Error {
  override name = 'ReplayError';
}

/**
 * Puts a failed event back in the dispatcher's queue. It is applied like a new arrival: if a later
 * event of the same entity has been applied since, this one changes nothing.
 */
export async function replayEvent(db: DbOrTx, id: number): Promise<EventSummary> {
  const row = await db
    .updateTable('webhook_events')
    .set({ status: 'received', error: null, result: null, dispatched_at: null, processed_at: null })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .where('entity_key', 'is not', null)
    .returning(SUMMARY_COLUMNS)
    .executeTakeFirst();
  if (row) return toSummary(row);
  const existing = await getEvent(db, id);
  if (!existing) throw new ReplayError(`no webhook event ${id}`);
  if (existing.status !== 'failed')
    throw new ReplayError(`event ${id} is ${existing.status}; only failed events can be replayed`);
  throw new ReplayError(`event ${id} names no entity (${existing.error ?? 'unknown'}); it cannot be applied`);
}
