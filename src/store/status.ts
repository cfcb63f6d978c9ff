/**
 * What `syncwright status` reads from Postgres: per resource its last successful and its latest run,
 * the webhook inbox by status, and each connection's rate-budget use. Ages use the database clock.
 */
import { sql } from 'kysely';
import type { DbOrTx } from './db.js';
import type { RunStatus, SyncKind } from './run-types.js';
import type { WebhookEventStatus } from './tables.js';

export interface ResourceFreshness {
  integration: string;
  connection: string;
  resource: string;
  /** When the last completed run (not a per-parent child run) ended; null: never completed. */
  lastSuccessAt: Date | null;
  /** Seconds since then on the database clock; null: never completed. */
  ageSeconds: number | null;
  latest: {
    workflowId: string;
    kind: SyncKind;
    status: RunStatus;
    startedAt: Date;
    endedAt: Date | null;
    error: string | null;
  };
}

/** Every resource that ever ran (child runs fold into their coordinating run), by name. */
export async function resourceFreshness(db: DbOrTx): Promise<ResourceFreshness[]> {
  const r = await sql<{
    integration: string;
    connection: string;
    resource: string;
    last_success_at: Date | null;
    age_seconds: number | null;
    workflow_id: string;
    kind: SyncKind;
    status: RunStatus;
    started_at: Date;
    ended_at: Date | null;
    error: string | null;
  }>`
    with latest as (
      select distinct on (integration, connection, resource)
        integration, connection, resource, workflow_id, kind, status, started_at, ended_at, error
      from sync_runs where parent_key is null
      order by integration, connection, resource, started_at desc
    ), success as (
      select integration, connection, resource, max(ended_at) as at
      from sync_runs where parent_key is null and status = 'completed'
      group by integration, connection, resource
    )
    select l.*, s.at as last_success_at,
      extract(epoch from clock_timestamp() - s.at)::float8 as age_seconds
    from latest l left join success s using (integration, connection, resource)
    order by l.integration, l.connection, l.resource`.execute(db);
  return r.rows.map((row) => ({
    integration: row.integration,
    connection: row.connection,
    resource: row.resource,
    lastSuccessAt: row.last_success_at,
    ageSeconds: row.age_seconds === null ? null : Math.max(0, Math.floor(row.age_seconds)),
    latest: {
      workflowId: row.workflow_id,
      kind: row.kind,
      status: row.status,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      error: row.error,
    },
  }));
}

export interface InboxBacklog {
  byStatus: Record<WebhookEventStatus, number>;
  /** Received or dispatched but not yet applied. */
  backlog: number;
  /** Seconds the oldest event still waiting has waited; null when none waits. */
  oldestWaitingSeconds: number | null;
}

export async function inboxBacklog(db: DbOrTx): Promise<InboxBacklog> {
  const r = await sql<{ status: WebhookEventStatus; n: number; oldest: number | null }>`
    select status, count(*)::int as n,
      extract(epoch from clock_timestamp() - min(received_at))::float8 as oldest
    from webhook_events group by status`.execute(db);
  const byStatus = { received: 0, dispatched: 0, processed: 0, failed: 0, ignored: 0 };
  let oldest: number | null = null;
  for (const row of r.rows) {
    byStatus[row.status] = row.n;
    if ((row.status === 'received' || row.status === 'dispatched') && row.oldest !== null)
      oldest = Math.max(oldest ?? 0, Math.floor(row.oldest));
  }
  return { byStatus, backlog: byStatus.received + byStatus.dispatched, oldestWaitingSeconds: oldest };
}

export interface RateUse {
  /** `<integration>:<connection>` (the ledger's key). */
  connectionKey: string;
  /** Cost admitted in the last minute. */
  admittedLastMinute: number;
  /** Provider 429s and blocks in the last hour. */
  providerBlocksLastHour: number;
  /** Until when the provider blocked the connection, if that is still ahead. */
  blockedUntil: Date | null;
}

export async function rateUse(db: DbOrTx): Promise<RateUse[]> {
  const r = await sql<{
    connection_key: string;
    admitted: number;
    blocks: number;
    blocked_until: Date | null;
  }>`
    with recent as (
      select connection_key,
        coalesce(sum(cost) filter (where kind = 'admitted' and at > clock_timestamp() - interval '1 minute'), 0)::int as admitted,
        (count(*) filter (where kind <> 'admitted'))::int as blocks
      from rate_ledger where at > clock_timestamp() - interval '1 hour'
      group by connection_key
    ), blocked as (
      select connection_key, max(blocked_until) as blocked_until from rate_limits
      where blocked_until > clock_timestamp() group by connection_key
    )
    select connection_key, coalesce(r.admitted, 0) as admitted, coalesce(r.blocks, 0) as blocks, b.blocked_until
    from recent r full join blocked b using (connection_key)
    order by connection_key`.execute(db);
  return r.rows.map((row) => ({
    connectionKey: row.connection_key,
    admittedLastMinute: row.admitted,
    providerBlocksLastHour: row.blocks,
    blockedUntil: row.blocked_until,
  }));
}

/** Inbox rows still to apply, and failed ones, by status: served by the inbox's partial indexes. */
export async function inboxDepth(
  db: DbOrTx,
): Promise<{ integration: string; status: WebhookEventStatus; n: number }[]> {
  const r = await sql<{ integration: string; status: WebhookEventStatus; n: number }>`
    select integration, status, count(*)::int as n from webhook_events
    where status in ('received', 'dispatched', 'failed') group by integration, status`.execute(db);
  return r.rows;
}
