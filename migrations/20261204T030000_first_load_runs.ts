// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  // Whether the run's scope held no record when it started (a first sync): its pages are plain inserts and
  // it has no earlier records to sweep. A constant default: the table is not rewritten.
  await sql`alter table sync_runs add column into_empty boolean not null default false`.execute(db);
  // Only child records need an index by parent; a top-level scope is a prefix of the primary key. One
  // index less to maintain per record written.
  await sql`drop index if exists records_live_parent_idx`.execute(db);
  await sql`create index records_live_child_idx on records (integration, connection, resource, parent_key)
    where deleted_at is null and parent_key is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists records_live_child_idx`.execute(db);
  await sql`create index if not exists records_live_parent_idx on records (integration, connection, resource, parent_key)
    where deleted_at is null`.execute(db);
  await sql`alter table sync_runs drop column into_empty`.execute(db);
}
