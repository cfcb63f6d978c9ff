// Frozen in time: never edit after landing, never import app code. Add a new file instead.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The instance URL a token response named (Salesforce's instance_url): the connection's API host
  // while that token is used. Not a secret; checked against the spec's hosts each time it is used.
  await db.schema.alterTable('oauth_tokens').addColumn('instance_url', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_tokens').dropColumn('instance_url').execute();
}
