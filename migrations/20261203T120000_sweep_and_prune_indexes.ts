// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Building an index over a large records table may outlast the pool's statement timeout; the migrator
  // runs this in a transaction, which the setting ends with.
  await sql`set local statement_timeout = 0`.execute(db);
  // The deletion sweep of a completed full run reads the live records of one parent (child resources)
  // or of the whole resource: without this it scans every record of the resource, all parents together.
  await sql`create index records_live_parent_idx on records (integration, connection, resource, parent_key)
    where deleted_at is null`.execute(db);
  // Ledger pruning deletes by age alone; rate_ledger_key_at_idx leads with the connection and cannot
  // serve it. The ledger is append-only in time order, so a BRIN index finds old rows for a few pages
  // of index and costs the hot insert path next to nothing.
  await sql`create index rate_ledger_at_brin on rate_ledger using brin (at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists rate_ledger_at_brin`.execute(db);
  await sql`drop index if exists records_live_parent_idx`.execute(db);
}
