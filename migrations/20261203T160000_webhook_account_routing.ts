// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The provider's id of the account a connection is for (a GitHub App installation id, a Stripe
  // Connect account, a Slack team id): webhooks posted for many tenants to one URL are routed by it.
  await sql`alter table connections add column provider_account text`.execute(db);
  await sql`create unique index connections_provider_account_idx on connections (integration, provider_account)
            where provider_account is not null`.execute(db);
  // Authentic events for an account no connection has yet. They wait here, described as they would be
  // stored, and move to webhook_events when a connection with that account is added.
  await db.schema
    .createTable('webhook_unrouted')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('account', 'text', (c) => c.notNull())
    // '*' when the spec deduplicates across the integration; null: the connection's id, once known.
    .addColumn('dedup_scope', 'text')
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('resource', 'text')
    .addColumn('entity_key', 'text')
    .addColumn('order_key', 'text')
    .addColumn('payload', 'json', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('webhook_unrouted_event_key', ['integration', 'account', 'event_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_unrouted').execute();
  await sql`drop index connections_provider_account_idx`.execute(db);
  await sql`alter table connections drop column provider_account`.execute(db);
}
