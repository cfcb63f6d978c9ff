// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The webhook receiver's liveness mark: a gap since the last one means events were lost.
  await db.schema
    .createTable('webhook_receiver_liveness')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('seen_at', 'timestamptz', (c) => c.notNull())
    // A gap found at start whose reconciliation has not been started yet (survives a crash).
    .addColumn('gap_from', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_receiver_liveness').execute();
}
