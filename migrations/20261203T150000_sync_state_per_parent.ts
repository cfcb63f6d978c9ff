// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Child resources keep one high-water mark per parent record (each child run reads its parent's
  // children since that parent's last completed run). '' is the resource itself: record keys are never
  // empty, so no parent key collides with it.
  await sql`alter table sync_state add column parent_key text not null default ''`.execute(db);
  await sql`alter table sync_state drop constraint sync_state_pkey`.execute(db);
  await sql`alter table sync_state add constraint sync_state_pkey primary key (integration, connection, resource, parent_key)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from sync_state where parent_key <> ''`.execute(db);
  await sql`alter table sync_state drop constraint sync_state_pkey`.execute(db);
  await sql`alter table sync_state drop column parent_key`.execute(db);
  await sql`alter table sync_state add constraint sync_state_pkey primary key (integration, connection, resource)`.execute(
    db,
  );
}
