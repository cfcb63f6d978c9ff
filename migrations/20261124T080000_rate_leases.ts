// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Max-concurrent-requests: one row per (connection, slot). A slot is held until released or until
  // `expires_at`, so a worker that dies mid-request frees its slot when the lease runs out.
  await db.schema
    .createTable('rate_leases')
    .addColumn('connection_key', 'text', (c) => c.notNull())
    .addColumn('slot', 'integer', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_leases_pkey', ['connection_key', 'slot'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_leases').execute();
}
