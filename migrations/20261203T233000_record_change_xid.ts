// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The transaction that last changed a record (inserted it, changed its content, deleted or revived
  // it): a child that visits only changed parents compares it with the database snapshot its previous
  // run took, which no clock skew or late commit can fool. Rows from before stay null (changed before
  // any such run). No default on the existing rows, so the table is not rewritten.
  await sql`alter table records add column change_xid xid8`.execute(db);
  await sql`alter table records alter column change_xid set default pg_current_xact_id()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table records drop column change_xid`.execute(db);
}
