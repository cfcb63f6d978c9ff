// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Keys seen by a full run, one row per committed page holding the page's keys: one small write per
  // page instead of an index entry per record, which made deletion tracking most of a re-sync's cost.
  // sync_run_seen stays for the runs in flight when this lands; the deletion sweep reads both.
  await db.schema
    .createTable('sync_run_seen_pages')
    .addColumn('run_id', 'text', (c) => c.notNull().references('sync_runs.id').onDelete('cascade'))
    .addColumn('page', 'integer', (c) => c.notNull())
    .addColumn('keys', sql`text[]`, (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_run_seen_pages_pkey', ['run_id', 'page'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sync_run_seen_pages').execute();
}
