// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The provider's webhook subscription of a connection, kept by its subscription workflow.
  await db.schema
    .createTable('webhook_subscriptions')
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz')
    // A signing secret the provider returned, SecretBox-sealed.
    .addColumn('secret_sealed', 'text')
    .addColumn('renewals', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('webhook_subscriptions_pkey', ['integration', 'connection'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_subscriptions').execute();
}
