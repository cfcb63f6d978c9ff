// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per sync run. `pages` doubles as the fencing token of page commits: a page commits only
  // if the run is still at the page it was read at, so a retried or duplicated attempt cannot commit twice.
  await db.schema
    .createTable('sync_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('full', 'incremental')`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('running')
        .check(sql`status in ('running', 'completed', 'failed', 'cancelled')`),
    )
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ended_at', 'timestamptz')
    .addColumn('pages', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('fetched', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('inserted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unchanged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('quarantined', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total', 'integer')
    // Pagination state after the last committed page; null before the first page.
    .addColumn('checkpoint', 'jsonb')
    .addColumn('done', 'boolean', (c) => c.notNull().defaultTo(false))
    // Incremental: the high-water mark this run started from and the highest cursor value it saw.
    .addColumn('since', 'text')
    .addColumn('high_water', 'text')
    .addColumn('error', 'text')
    // Runs of a child resource for one parent record: its key and the path params taken from it.
    .addColumn('parent_key', 'text')
    .addColumn('parent_params', 'jsonb')
    .execute();
  await db.schema
    .createIndex('sync_runs_scope_idx')
    .on('sync_runs')
    .columns(['integration', 'connection', 'resource', 'started_at'])
    .execute();

  // Keys seen by a full run, for deletion detection when it completes. Cleared when the run ends.
  await db.schema
    .createTable('sync_run_seen')
    .addColumn('run_id', 'text', (c) => c.notNull().references('sync_runs.id').onDelete('cascade'))
    .addColumn('record_key', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_run_seen_pkey', ['run_id', 'record_key'])
    .execute();

  // Per resource of a connection: the incremental high-water mark, advanced only by completed runs.
  await db.schema
    .createTable('sync_state')
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('high_water', 'text')
    .addColumn('last_run_id', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('sync_state_pkey', ['integration', 'connection', 'resource'])
    .execute();

  // Records that failed mapping or validation, with the reason; the run goes on without them.
  await db.schema
    .createTable('quarantine')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('page', 'integer', (c) => c.notNull())
    .addColumn('record_key', 'text')
    .addColumn('raw', 'jsonb', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('quarantine_scope_idx')
    .on('quarantine')
    .columns(['integration', 'connection', 'resource', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('quarantine').execute();
  await db.schema.dropTable('sync_state').execute();
  await db.schema.dropTable('sync_run_seen').execute();
  await db.schema.dropTable('sync_runs').execute();
}
