/**
 * Events for an account no connection has yet (webhooks routed by account): kept, not lost. The
 * receiver stores them here (answering 202 "unrouted"); adding a connection with that account moves
 * them into the inbox (webhook_events) in the same transaction, so they are dispatched like any event.
 *
 * Both sides take one advisory lock per (integration, account): an event arriving while the
 * connection is being added is either moved by that transaction or sees the new connection, never
 * left behind.
 */
import { sql } from 'kysely';
import type { Db, DbOrTx } from '../store/db.js';
import type { WebhookUnroutedTable } from '../store/tables.js';
import { connectionForAccount } from '../store/connections.js';
import { INTEGRATION_SCOPE, type InboxRow } from './inbox-writer.js';

/** Serialises routing decisions for one account (transaction-scoped). */
async function lockAccount(tx: DbOrTx, integration: string, account: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`webhook-account\u001f${integration}\u001f${account}`}, 0))`.execute(
    tx,
  );
}

export type UnroutedOutcome =
  /** A connection has the account after all (added meanwhile): write the event to it. */
  { routedTo: string } | { id: number | null; duplicate: boolean };

/**
 * Keeps an authentic event for an unknown account. `row.connection` is ignored; its dedup scope is
 * kept only when integration-wide ('*'), otherwise it becomes the connection's id when routed.
 */
export async function storeUnrouted(db: Db, account: string, row: InboxRow): Promise<UnroutedOutcome> {
  return db.transaction().execute(async (tx) => {
    await lockAccount(tx, row.integration, account);
    const routedTo = await connectionForAccount(tx, row.integration, account);
    if (routedTo !== undefined) return { routedTo };
    const inserted = await tx
      .insertInto('webhook_unrouted')
      .values({
        integration: row.integration,
        account,
        dedup_scope: row.dedup_scope === INTEGRATION_SCOPE ? INTEGRATION_SCOPE : null,
        event_id: row.event_id,
        event_type: row.event_type,
        action: row.action as WebhookUnroutedTable['action'],
        resource: row.resource,
        entity_key: row.entity_key,
        order_key: row.order_key,
        payload: row.payload,
        status: row.status,
        error: row.error,
      })
      .onConflict((oc) => oc.constraint('webhook_unrouted_event_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted ? { id: Number(inserted.id), duplicate: false } : { id: null, duplicate: true };
  });
}

/**
 * Moves the events waiting for `account` into the inbox of `connection`, in arrival order; run it in
 * the transaction that gives the connection its account. Returns how many were moved (an event the
 * inbox already holds is dropped as the duplicate it is).
 */
export async function routeUnrouted(
  tx: DbOrTx,
  integration: string,
  account: string,
  connection: string,
): Promise<number> {
  await lockAccount(tx, integration, account);
  const moved = await sql<{ id: number }>`
    with waiting as (
      delete from webhook_unrouted where integration = ${integration} and account = ${account}
      returning *)
    insert into webhook_events
      (integration, connection, dedup_scope, event_id, event_type, action, resource, entity_key, order_key,
       payload, status, error, received_at)
    select integration, ${connection}, coalesce(dedup_scope, ${connection}), event_id, event_type, action,
      resource, entity_key, order_key, payload, status, error, received_at
    from waiting order by id
    on conflict (integration, dedup_scope, event_id) do nothing
    returning id`.execute(tx);
  return moved.rows.length;
}

export interface UnroutedEvent {
  id: number;
  integration: string;
  account: string;
  eventId: string;
  eventType: string;
  receivedAt: Date;
}

/** Events waiting for a connection, oldest first. */
export async function listUnrouted(
  db: DbOrTx,
  integration?: string,
  limit = 100,
  account?: string,
): Promise<UnroutedEvent[]> {
  let q = db
    .selectFrom('webhook_unrouted')
    .select(['id', 'integration', 'account', 'event_id', 'event_type', 'received_at'])
    .orderBy('id')
    .limit(limit);
  if (integration) q = q.where('integration', '=', integration);
  if (account !== undefined) q = q.where('account', '=', account);
  return (await q.execute()).map((r) => ({
    id: Number(r.id),
    integration: r.integration,
    account: r.account,
    eventId: r.event_id,
    eventType: r.event_type,
    receivedAt: r.received_at,
  }));
}

/** Replaying unrouted events to a connection that does not exist. */
export class UnroutedReplayError extends Error {
  override name = 'UnroutedReplayError';
}

/**
 * An operator's replay: moves the events waiting for `account` into the inbox of `connection` (by
 * default the connection that has the account now), in arrival order, so they are dispatched like any
 * event. Returns the connection and how many moved.
 */
export async function replayUnrouted(
  db: Db,
  integration: string,
  account: string,
  connection?: string,
): Promise<{ connection: string; moved: number; connectionAccount: string | null }> {
  return db.transaction().execute(async (tx) => {
    await lockAccount(tx, integration, account);
    const target = connection ?? (await connectionForAccount(tx, integration, account));
    if (target === undefined)
      throw new UnroutedReplayError(
        `no connection of ${integration} has account ${account}: add one with \`connection add ${integration} --id … --account ${account}\` (its events move then), or name one with --connection`,
      );
    const row = await tx
      .selectFrom('connections')
      .select('provider_account')
      .where('integration', '=', integration)
      .where('id', '=', target)
      .forShare()
      .executeTakeFirst();
    if (!row) throw new UnroutedReplayError(`no connection ${integration}/${target}`);
    const moved = await routeUnrouted(tx, integration, account, target);
    return { connection: target, moved, connectionAccount: row.provider_account };
  });
}
