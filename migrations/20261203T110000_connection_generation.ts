// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Every save of a connection takes a new generation from one sequence (never reused, even after a
  // remove and re-add). OAuth2 tokens record the generation they were obtained under: a token or refresh
  // token of an older generation is stale (the connection's secrets changed) and is never used again.
  await sql`create sequence connection_generation_seq`.execute(db);
  await db.schema
    .alterTable('connections')
    .addColumn('generation', 'bigint', (c) =>
      c.notNull().defaultTo(sql`nextval('connection_generation_seq')`),
    )
    .execute();
  await db.schema
    .alterTable('oauth_tokens')
    .addColumn('generation', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // Tokens stored before this migration belong to the connection as it is now.
  await sql`update oauth_tokens t set generation = c.generation from connections c
            where c.integration = t.integration and c.id = t.connection`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_tokens').dropColumn('generation').execute();
  await db.schema.alterTable('connections').dropColumn('generation').execute();
  await sql`drop sequence connection_generation_seq`.execute(db);
}
