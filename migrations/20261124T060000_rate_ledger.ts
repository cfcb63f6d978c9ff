// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // GCRA state: one row per (connection, limit). `tat` is the theoretical arrival time of the next
  // request; `blocked_until` is set by the provider (429 Retry-After, a spent X-RateLimit budget).
  await db.schema
    .createTable('rate_limits')
    .addColumn('connection_key', 'text', (c) => c.notNull())
    .addColumn('limit_name', 'text', (c) => c.notNull())
    .addColumn('tat', 'timestamptz', (c) => c.notNull().defaultTo(sql`'epoch'`))
    .addColumn('blocked_until', 'timestamptz')
    // Consecutive 429s without a Retry-After, for exponential back-off.
    .addColumn('backoff_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('rate_limits_pkey', ['connection_key', 'limit_name'])
    .execute();

  // Append-only: what was admitted, and what the provider said (429s, reset times). Pruned by age.
  // Unlogged: written on every request, it must cost little; the budget itself lives in rate_limits
  // (logged), so a Postgres crash that empties this history loses no state.
  await db.schema
    .createTable('rate_ledger')
    .modifyFront(sql`unlogged`)
    .addColumn('id', 'bigserial')
    .addColumn('connection_key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('cost', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn('details', 'jsonb')
    .execute();
  await db.schema
    .createIndex('rate_ledger_key_at_idx')
    .on('rate_ledger')
    .columns(['connection_key', 'at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_ledger').execute();
  await db.schema.dropTable('rate_limits').execute();
}
