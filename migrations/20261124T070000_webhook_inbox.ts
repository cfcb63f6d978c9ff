// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The webhook inbox: every authentic event, once per (integration, event id). A row is committed
  // before the sender gets its 2xx; the dispatcher hands rows to Temporal from here.
  await db.schema
    .createTable('webhook_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('resource', 'text')
    .addColumn('entity_key', 'text')
    .addColumn('order_key', 'text')
    // json, not jsonb: kept as sent and only read back whole, so inserts skip the jsonb conversion.
    .addColumn('payload', 'json', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('received')
        .check(sql`status in ('received', 'dispatched', 'processed', 'failed', 'ignored')`),
    )
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('dispatches', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn('dispatched_at', 'timestamptz')
    .addColumn('processed_at', 'timestamptz')
    .addUniqueConstraint('webhook_events_integration_event_id_key', ['integration', 'event_id'])
    .execute();
  // The dispatcher's queue: only rows still to hand over (or to hand over again).
  await sql`create index webhook_events_pending on webhook_events (id) where status in ('received', 'dispatched')`.execute(
    db,
  );
  // Operators look for failed events; the other statuses are found through the pending index or by id.
  await sql`create index webhook_events_failed on webhook_events (id) where status = 'failed'`.execute(db);

  // Per entity: the order key of the last applied event, so an older event arriving late changes nothing.
  await db.schema
    .createTable('webhook_entities')
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('entity_key', 'text', (c) => c.notNull())
    .addColumn('last_order', 'text')
    .addColumn('last_event', 'bigint')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('webhook_entities_pkey', ['integration', 'connection', 'resource', 'entity_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_entities').execute();
  await db.schema.dropTable('webhook_events').execute();
}
