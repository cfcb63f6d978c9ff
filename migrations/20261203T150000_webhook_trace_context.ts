// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The W3C traceparent of the receiver's span when tracing is on: the dispatcher continues that trace.
  await sql`alter table webhook_events add column trace_context text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table webhook_events drop column trace_context`.execute(db);
}
