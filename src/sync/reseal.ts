/**
 * Key rotation: re-seals every sealed value (connection secrets, OAuth2 access and refresh tokens,
 * webhook subscription secrets) under
 * the box's current key, opening each with whichever accepted key sealed it. Old-format (v1) values are
 * re-sealed too, gaining their row binding and key id. Safe to run while workers run and to run again:
 * each row is updated only if it still holds the value that was read, and values already sealed with
 * the current key are left alone.
 */
import { sql } from 'kysely';
import { secretsContext } from '../store/connections.js';
import type { Db } from '../store/db.js';
import type { SealContext, SecretBox } from '../store/secret-box.js';
import { subscriptionSealContext } from '../webhooks/subscriptions.js';

export interface ResealReport {
  /** Values now sealed with the current key that were not before. */
  resealed: number;
  /** Values that already were. */
  current: number;
  /** Values changed by someone else between read and write (they were written anew meanwhile). */
  changedMeanwhile: number;
  /** Values no accepted key opens: `integration/connection (what): reason`. Never a secret. */
  failed: string[];
}

const BATCH = 500;

export async function resealSecrets(db: Db, box: SecretBox): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, current: 0, changedMeanwhile: 0, failed: [] };
  const reseal = (sealed: string, context: SealContext): string | undefined => {
    if (box.isCurrent(sealed)) {
      report.current++;
      return undefined;
    }
    try {
      return box.seal(box.open(sealed, context), context);
    } catch (error) {
      report.failed.push(
        `${context.integration}/${context.connection} (${context.what}): ${error instanceof Error ? error.message : String(error)}`,
      );
      return undefined;
    }
  };
  const count = (updated: bigint | undefined) => {
    if (Number(updated ?? 0) > 0) report.resealed++;
    else report.changedMeanwhile++;
  };

  const connections = keyset(
    (after) =>
      db
        .selectFrom('connections')
        .select(['integration', 'id', 'secrets_sealed'])
        .where('secrets_sealed', 'is not', null)
        .where(sql<boolean>`(integration, id) > (${after[0]}, ${after[1]})`)
        .orderBy('integration')
        .orderBy('id')
        .limit(BATCH)
        .execute(),
    (r) => [r.integration, r.id],
  );
  for await (const r of connections) {
    const next = reseal(r.secrets_sealed!, secretsContext(r.integration, r.id));
    if (next === undefined) continue;
    const u = await db
      .updateTable('connections')
      .set({ secrets_sealed: next })
      .where('integration', '=', r.integration)
      .where('id', '=', r.id)
      .where('secrets_sealed', '=', r.secrets_sealed)
      .executeTakeFirst();
    count(u.numUpdatedRows);
  }

  const tokens = keyset(
    (after) =>
      db
        .selectFrom('oauth_tokens')
        .select(['integration', 'connection', 'access_token_sealed', 'refresh_token_sealed'])
        .where(sql<boolean>`(integration, connection) > (${after[0]}, ${after[1]})`)
        .orderBy('integration')
        .orderBy('connection')
        .limit(BATCH)
        .execute(),
    (r) => [r.integration, r.connection],
  );
  for await (const r of tokens) {
    const at = { integration: r.integration, connection: r.connection };
    const access = reseal(r.access_token_sealed, { what: 'oauth-access-token', ...at });
    const refresh = r.refresh_token_sealed
      ? reseal(r.refresh_token_sealed, { what: 'oauth-refresh-token', ...at })
      : undefined;
    if (access === undefined && refresh === undefined) continue;
    let q = db
      .updateTable('oauth_tokens')
      .set({
        ...(access !== undefined ? { access_token_sealed: access } : {}),
        ...(refresh !== undefined ? { refresh_token_sealed: refresh } : {}),
      })
      .where('integration', '=', r.integration)
      .where('connection', '=', r.connection)
      .where('access_token_sealed', '=', r.access_token_sealed);
    q = r.refresh_token_sealed
      ? q.where('refresh_token_sealed', '=', r.refresh_token_sealed)
      : q.where('refresh_token_sealed', 'is', null);
    const u = await q.executeTakeFirst();
    const n = (access !== undefined ? 1 : 0) + (refresh !== undefined ? 1 : 0);
    for (let i = 0; i < n; i++) count(u.numUpdatedRows);
  }

  const subscriptions = keyset(
    (after) =>
      db
        .selectFrom('webhook_subscriptions')
        .select(['integration', 'connection', 'secret_sealed'])
        .where('secret_sealed', 'is not', null)
        .where(sql<boolean>`(integration, connection) > (${after[0]}, ${after[1]})`)
        .orderBy('integration')
        .orderBy('connection')
        .limit(BATCH)
        .execute(),
    (r) => [r.integration, r.connection],
  );
  for await (const r of subscriptions) {
    const next = reseal(r.secret_sealed!, subscriptionSealContext(r.integration, r.connection));
    if (next === undefined) continue;
    const u = await db
      .updateTable('webhook_subscriptions')
      .set({ secret_sealed: next })
      .where('integration', '=', r.integration)
      .where('connection', '=', r.connection)
      .where('secret_sealed', '=', r.secret_sealed)
      .executeTakeFirst();
    count(u.numUpdatedRows);
  }
  return report;
}

/**
 * The rows of a table in batches by a two-column key (keyset paging): a batch never holds more than
 * BATCH rows however large the table, and rows written meanwhile behind the cursor are not revisited.
 */
async function* keyset<T>(
  batch: (after: [string, string]) => Promise<T[]>,
  keyOf: (row: T) => [string, string],
): AsyncGenerator<T> {
  let after: [string, string] = ['', ''];
  for (;;) {
    const rows = await batch(after);
    yield* rows;
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) return;
    after = keyOf(last);
  }
}
