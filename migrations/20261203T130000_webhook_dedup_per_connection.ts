// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Deduplication was per (integration, event id): one tenant's event id silenced another tenant's
  // event with the same id. It is now per dedup scope: the connection id, or '*' when the spec widens it
  // to the whole integration (webhooks.dedupe: integration). Connection ids never start with '*'.
  await sql`alter table webhook_events add column dedup_scope text`.execute(db);
  // Rows so far were unique per integration, so they are unique per connection too.
  await sql`update webhook_events set dedup_scope = connection`.execute(db);
  await sql`alter table webhook_events alter column dedup_scope set not null`.execute(db);
  await sql`alter table webhook_events drop constraint webhook_events_integration_event_id_key`.execute(db);
  await sql`alter table webhook_events add constraint webhook_events_dedup_key unique (integration, dedup_scope, event_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table webhook_events drop constraint webhook_events_dedup_key`.execute(db);
  await sql`alter table webhook_events drop column dedup_scope`.execute(db);
  await sql`alter table webhook_events add constraint webhook_events_integration_event_id_key unique (integration, event_id)`.execute(
    db,
  );
}
