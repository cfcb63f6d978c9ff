/**
 * The typed shape of every Syncwright table, one interface per table, as kysely sees them. Rows are
 * snake_case; repository functions map them to camelCase domain types.
 */
import type { ColumnType, Generated } from 'kysely';
import type { RunStatus, SyncKind } from './run-types.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface SyncRunsTable {
  id: string;
  workflow_id: string;
  integration: string;
  connection: string;
  resource: string;
  kind: SyncKind;
  status: Generated<RunStatus>;
  started_at: Timestamp;
  ended_at: Timestamp | null;
  pages: Generated<number>;
  fetched: Generated<number>;
  inserted: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  deleted: Generated<number>;
  quarantined: Generated<number>;
  total: number | null;
  checkpoint: Json<unknown> | null;
  done: Generated<boolean>;
  since: string | null;
  high_water: string | null;
  error: string | null;
  parent_key: string | null;
  parent_params: Json<Record<string, string>> | null;
}

export interface SyncRunSeenTable {
  run_id: string;
  record_key: string;
}

export interface SyncStateTable {
  integration: string;
  connection: string;
  resource: string;
  high_water: string | null;
  last_run_id: string | null;
  updated_at: Timestamp;
}

export interface QuarantineTable {
  id: Generated<string>;
  run_id: string;
  integration: string;
  connection: string;
  resource: string;
  page: number;
  record_key: string | null;
  raw: Json<unknown>;
  reason: string;
  created_at: Timestamp;
}

export interface SyncTables {
  sync_runs: SyncRunsTable;
  sync_run_seen: SyncRunSeenTable;
  sync_state: SyncStateTable;
  quarantine: QuarantineTable;
}

export interface ConnectionsTable {
  integration: string;
  id: string;
  config: Json<Record<string, unknown>>;
  /** SecretBox-sealed JSON object of secret name → value. */
  secrets_sealed: string | null;
  /** From connection_generation_seq, new on every save: tokens of an older generation are stale. */
  generation: Generated<string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OAuthTokensTable {
  integration: string;
  connection: string;
  access_token_sealed: string;
  expires_at: Timestamp | null;
  refresh_token_sealed: string | null;
  /** The connection generation the tokens were obtained under. */
  generation: string;
  updated_at: Timestamp;
}

export interface ConnectionTables {
  connections: ConnectionsTable;
  oauth_tokens: OAuthTokensTable;
}

export interface RateLimitsTable {
  connection_key: string;
  limit_name: string;
  tat: Timestamp;
  blocked_until: Timestamp | null;
  backoff_count: Generated<number>;
}

export interface RateLedgerTable {
  id: Generated<string>;
  connection_key: string;
  kind: 'admitted' | 'provider-429' | 'provider-block';
  cost: Generated<number>;
  at: Timestamp;
  details: Json<unknown> | null;
}

export interface RateLeasesTable {
  connection_key: string;
  slot: number;
  holder: string;
  expires_at: Timestamp;
}

export interface RateTables {
  rate_limits: RateLimitsTable;
  rate_ledger: RateLedgerTable;
  rate_leases: RateLeasesTable;
}

export type WebhookEventStatus = 'received' | 'dispatched' | 'processed' | 'failed' | 'ignored';

/** The webhook inbox (migration 20261124T070000). */
export interface WebhookEventsTable {
  id: Generated<number>;
  integration: string;
  connection: string;
  /** The connection id, or '*' when the spec deduplicates across the integration. */
  dedup_scope: string;
  event_id: string;
  event_type: string;
  action: 'upsert' | 'delete' | 'refetch' | 'ignore';
  resource: string | null;
  entity_key: string | null;
  order_key: string | null;
  payload: Json<unknown>;
  status: Generated<WebhookEventStatus>;
  result: string | null;
  error: string | null;
  dispatches: Generated<number>;
  received_at: Timestamp;
  dispatched_at: Timestamp | null;
  processed_at: Timestamp | null;
}

export interface WebhookEntitiesTable {
  integration: string;
  connection: string;
  resource: string;
  entity_key: string;
  last_order: string | null;
  last_event: number | null;
  updated_at: Timestamp;
}

export interface WebhookTables {
  webhook_events: WebhookEventsTable;
  webhook_entities: WebhookEntitiesTable;
}

export interface RecordsTable {
  integration: string;
  connection: string;
  resource: string;
  record_key: string;
  data: ColumnType<unknown, string, string>;
  content_hash: string;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Timestamp | null;
  parent_key: string | null;
}

export interface Database extends SyncTables, ConnectionTables, RateTables, WebhookTables {
  records: RecordsTable;
}
