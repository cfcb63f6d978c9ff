// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Sequence numbers seen on a connection's deliveries (webhooks.sequence), per scope: the highest,
  // and the holes below it that may still arrive out of order until their due time.
  await db.schema
    .createTable('webhook_sequences')
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('high', 'numeric')
    .addColumn('holes', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    // The earliest due time of a hole (null: none), so the sweep finds what is due by an index.
    .addColumn('due_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('webhook_sequences_pkey', ['integration', 'connection', 'scope'])
    .execute();
  await sql`create index webhook_sequences_due_idx on webhook_sequences (due_at) where due_at is not null`.execute(
    db,
  );
  // Numbers that never arrived: lost events, each range reconciled by the reconcile syncs.
  await db.schema
    .createTable('webhook_sequence_gaps')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('from_seq', 'numeric', (c) => c.notNull())
    .addColumn('to_seq', 'numeric', (c) => c.notNull())
    .addColumn('detected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Null until the reconciliation was handed to Temporal (a crash in between does not forget it).
    .addColumn('reconciled_at', 'timestamptz')
    .execute();
  await sql`create index webhook_sequence_gaps_pending_idx on webhook_sequence_gaps (id) where reconciled_at is null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_sequence_gaps').execute();
  await db.schema.dropTable('webhook_sequences').execute();
}
