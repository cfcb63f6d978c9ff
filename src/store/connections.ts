/** Connections: one tenant's config and secrets for an integration. Secrets are sealed at rest. */
import { sql } from 'kysely';
import type { DbOrTx } from './db.js';
import { EncryptionKeyError, type SealContext, type SecretBox } from './secret-box.js';

export interface ConnectionInfo {
  integration: string;
  id: string;
  config: Record<string, unknown>;
  /** Listings never carry secret values, only whether there are any. */
  hasSecrets: boolean;
  /** New on every save; OAuth2 tokens of an older generation are stale. */
  generation: string;
  /** The provider's id of the tenant, which routes webhooks posted for many tenants to one URL. */
  account: string | null;
  createdAt: Date;
}

export interface ConnectionWithSecrets extends ConnectionInfo {
  secrets: Record<string, string>;
}

export class ConnectionNotFoundError extends Error {
  override name = 'ConnectionNotFoundError';
}

/**
 * Adds or replaces a connection with no check against its spec (engine internals and tests). Everything
 * a user calls saves through `addConnection` of src/sync/connections.ts, which validates first. Every
 * save takes a new generation.
 */
export async function saveConnection(
  db: DbOrTx,
  box: SecretBox | undefined,
  c: {
    integration: string;
    id: string;
    config: Record<string, unknown>;
    secrets: Record<string, string>;
    /** The provider's account id; omitted or null: none. */
    account?: string | null | undefined;
  },
): Promise<void> {
  const hasSecrets = Object.keys(c.secrets).length > 0;
  if (hasSecrets && !box) throw new Error('secrets given but no encryption key available');
  const sealed = hasSecrets
    ? box!.seal(JSON.stringify(c.secrets), secretsContext(c.integration, c.id))
    : null;
  await db
    .insertInto('connections')
    .values({
      integration: c.integration,
      id: c.id,
      config: c.config,
      secrets_sealed: sealed,
      provider_account: c.account ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['integration', 'id']).doUpdateSet({
        config: c.config,
        secrets_sealed: sealed,
        provider_account: c.account ?? null,
        generation: sql<string>`nextval('connection_generation_seq')`,
        updated_at: sql`now()`,
      }),
    )
    .execute();
}

/** The associated data of a connection's sealed secrets. */
export const secretsContext = (integration: string, connection: string): SealContext => ({
  what: 'connection-secrets',
  integration,
  connection,
});

export async function listConnections(db: DbOrTx, integration?: string): Promise<ConnectionInfo[]> {
  let q = db.selectFrom('connections').selectAll().orderBy('integration').orderBy('id');
  if (integration) q = q.where('integration', '=', integration);
  const rows = await q.execute();
  return rows.map((r) => ({
    integration: r.integration,
    id: r.id,
    config: r.config,
    hasSecrets: r.secrets_sealed !== null,
    generation: String(r.generation),
    account: r.provider_account,
    createdAt: r.created_at,
  }));
}

/** A connection's plain config (no secrets), or undefined when there is no such connection. */
export async function getConnectionConfig(
  db: DbOrTx,
  integration: string,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  const row = await db
    .selectFrom('connections')
    .select('config')
    .where('integration', '=', integration)
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.config;
}

/** The connection with its secrets decrypted, for activities only. */
export async function getConnection(
  db: DbOrTx,
  box: SecretBox | undefined,
  integration: string,
  id: string,
): Promise<ConnectionWithSecrets> {
  const row = await db
    .selectFrom('connections')
    .selectAll()
    .where('integration', '=', integration)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) {
    throw new ConnectionNotFoundError(
      `no connection "${id}" for integration "${integration}": add it with \`syncwright connection add ${integration} --id ${id}\``,
    );
  }
  let secrets: Record<string, string> = {};
  if (row.secrets_sealed) {
    if (!box)
      throw new EncryptionKeyError(
        `connection ${integration}/${id} has secrets but no encryption key is available: set SYNCWRIGHT_ENCRYPTION_KEY`,
      );
    secrets = JSON.parse(box.open(row.secrets_sealed, secretsContext(integration, id))) as Record<
      string,
      string
    >;
  }
  return {
    integration,
    id,
    config: row.config,
    hasSecrets: row.secrets_sealed !== null,
    generation: String(row.generation),
    account: row.provider_account,
    createdAt: row.created_at,
    secrets,
  };
}

/** Deletes the connection row and its OAuth2 tokens; run it in the transaction that removes the rest. */
export async function deleteConnectionRows(db: DbOrTx, integration: string, id: string): Promise<boolean> {
  await db
    .deleteFrom('oauth_tokens')
    .where('integration', '=', integration)
    .where('connection', '=', id)
    .execute();
  const r = await db
    .deleteFrom('connections')
    .where('integration', '=', integration)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The connection whose provider account is `account`, if any. */
export async function connectionForAccount(
  db: DbOrTx,
  integration: string,
  account: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('connections')
    .select('id')
    .where('integration', '=', integration)
    .where('provider_account', '=', account)
    .executeTakeFirst();
  return row?.id;
}
