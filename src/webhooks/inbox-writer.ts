/**
 * The receiver's side of the webhook inbox: the row of an accepted event, and the writer that commits
 * events in batched group commits (one named prepared INSERT per batch) before any 2xx is sent.
 */
import { CompiledQuery, type Selectable } from 'kysely';
import { Coalescer } from '../store/coalescer.js';
import { poolOf, type Db, type DbOrTx } from '../store/db.js';
import type { WebhookEventStatus, WebhookEventsTable } from '../store/tables.js';
import type { DescribedEvent } from './event.js';

/** An inbox row as the insert statement takes it (one JSON object per row). */
export interface InboxRow {
  integration: string;
  connection: string;
  /** What a repeated event id is a duplicate within: the connection id, or '*' for the integration. */
  dedup_scope: string;
  event_id: string;
  event_type: string;
  action: string;
  resource: string | null;
  entity_key: string | null;
  order_key: string | null;
  /** The payload as stored (the JSON body as sent). */
  payload: string;
  status: WebhookEventStatus;
  error: string | null;
  /** The receiver's W3C traceparent, when tracing is on. */
  trace_context?: string;
}

/** The dedup scope of the integration-wide setting: no connection id starts with '*'. */
export const INTEGRATION_SCOPE = '*';

/**
 * The row of an accepted event; `payloadJson` is the body's JSON text, stored as sent. An event id is
 * a duplicate only within its connection, unless the spec widens deduplication to the integration.
 */
export function inboxRow(
  integration: string,
  connection: string,
  e: DescribedEvent,
  payloadJson: string,
  dedupe: 'connection' | 'integration' = 'connection',
): InboxRow {
  return {
    integration,
    connection,
    dedup_scope: dedupe === 'integration' ? INTEGRATION_SCOPE : connection,
    event_id: e.eventId,
    event_type: e.eventType,
    action: e.action,
    resource: e.resource,
    entity_key: e.entityKey,
    order_key: e.orderKey,
    payload: payloadJson,
    status: statusAtReceipt(e),
    error: e.problem,
  };
}

export interface Written {
  /** Inbox row id; null for a duplicate delivery (the first delivery's row is unchanged). */
  id: number | null;
  duplicate: boolean;
}

/** Postgres refused this event's data (alone, not for want of a database): delivering it again cannot help. */
export class UnstorableEventError extends Error {
  override name = 'UnstorableEventError';
}

const MAX_BATCH = 500;

/**
 * Inserts events, resolving each once its row is committed. Requests that arrive while a commit is in
 * flight are gathered into the next INSERT (one at a time: measured faster than several in flight on
 * a small machine), and no 2xx is sent before the commit that holds its event.
 */
export class InboxWriter {
  private readonly coalescer: Coalescer<InboxRow, Written | { unstorable: string }>;

  constructor(db: Db) {
    this.coalescer = new Coalescer((events) => writeBatch(db, events), { maxBatch: MAX_BATCH });
  }

  async write(row: InboxRow): Promise<Written> {
    const w = await this.coalescer.submit(row);
    if ('unstorable' in w) throw new UnstorableEventError(w.unstorable);
    return w;
  }
}

/** Data exceptions (22…) and program limits such as nesting depth (54…): the event, not the database. */
const isDataError = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)/.test(code);
};

async function writeBatch(db: Db, events: InboxRow[]): Promise<(Written | { unstorable: string })[]> {
  let rows;
  try {
    rows = await insertEvents(db, events);
  } catch (error) {
    if (!isDataError(error) || events.length === 1) {
      if (isDataError(error)) return [{ unstorable: (error as Error).message }];
      throw error;
    }
    // One event Postgres cannot take must not fail the others that rode with it: store them one by one.
    const out: (Written | { unstorable: string })[] = [];
    for (const e of events) out.push(...(await writeBatch(db, [e])));
    return out;
  }
  const ids = new Map(rows.map((r) => [`${r.integration}\u0000${r.dedup_scope}\u0000${r.event_id}`, r.id]));
  return events.map((e) => {
    const key = `${e.integration}\u0000${e.dedup_scope}\u0000${e.event_id}`;
    const id = ids.get(key);
    // Two deliveries of one event in the same batch: the first one gets the row.
    if (id !== undefined) ids.delete(key);
    return id === undefined ? { id: null, duplicate: true } : { id, duplicate: false };
  });
}

function statusAtReceipt(e: DescribedEvent): WebhookEventStatus {
  if (e.problem) return 'failed';
  return e.action === 'ignore' ? 'ignored' : 'received';
}

/**
 * One statement for the whole batch, its rows sent as one JSON parameter (serialized natively, parsed
 * by Postgres in C), run as a named prepared statement. The payload rides as text, so what the sender
 * wrote (escapes and all) is what the json column keeps.
 */
const INSERT_EVENTS = `
  insert into webhook_events
    (integration, connection, dedup_scope, event_id, event_type, action, resource, entity_key, order_key, payload,
     status, error, trace_context)
  select integration, connection, dedup_scope, event_id, event_type, action, resource, entity_key, order_key, payload::json,
    status, error, trace_context
  from json_to_recordset($1::json) as r(
    integration text, connection text, dedup_scope text, event_id text, event_type text, action text, resource text,
    entity_key text, order_key text, payload text, status text, error text, trace_context text)
  on conflict (integration, dedup_scope, event_id) do nothing
  returning id, integration, dedup_scope, event_id`;

type InsertedRow = Pick<Selectable<WebhookEventsTable>, 'id' | 'integration' | 'dedup_scope' | 'event_id'>;

export async function insertEvents(db: DbOrTx, events: readonly InboxRow[]): Promise<InsertedRow[]> {
  if (events.length === 0) return [];
  const rows = JSON.stringify(events);
  const pool = poolOf(db);
  return pool
    ? (
        await pool.query<InsertedRow>({
          name: 'syncwright-inbox-insert',
          text: INSERT_EVENTS,
          values: [rows],
        })
      ).rows
    : (await db.executeQuery<InsertedRow>(CompiledQuery.raw(INSERT_EVENTS, [rows]))).rows;
}
