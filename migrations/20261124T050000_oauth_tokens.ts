// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The current OAuth2 tokens of a connection, sealed like its secrets. Shared by every worker, so a
  // token refreshed by one is used by all, and a rotated refresh token is never lost.
  await db.schema
    .createTable('oauth_tokens')
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('access_token_sealed', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz')
    .addColumn('refresh_token_sealed', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('oauth_tokens_pkey', ['integration', 'connection'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oauth_tokens').execute();
}
