/**
 * The typed shape of every Syncwright table, one interface per table, as kysely sees them. Rows are
 * snake_case; repository functions map them to camelCase domain types.
 */
import type { ColumnType, Generated, RawBuilder } from 'kysely';
import type { RunStatus, SyncKind } from './run-types.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** Set once, when the row is inserted (by default or by the insert), and never updated. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** A key given at insert that no update may change. */
type Id<T> = ColumnType<T, T, never>;
/** A key the database generates (identity or default) that no update may change. */
type GeneratedId<T> = ColumnType<T, T | undefined, never>;

/**
 * A json/jsonb column written as JSON text (JSON.stringify by the caller). Needed when the value may be
 * an array or a scalar: node-pg sends a JS array as a Postgres array literal ('{…}') and a string as
 * it is, neither of which is the JSON meant.
 */
type JsonText<T> = ColumnType<T, string, string>;
/**
 * A json/jsonb column holding a JSON object, written as the object: node-pg serialises plain objects
 * with JSON.stringify. Arrays do not fit (see JsonText).
 */
type JsonObject<T extends Record<string, unknown>> = ColumnType<T, T, T>;

export interface SyncRunsTable {
  id: Id<string>;
  workflow_id: string;
  integration: string;
  connection: string;
  resource: string;
  kind: SyncKind;
  status: Generated<RunStatus>;
  started_at: CreatedAt;
  ended_at: Timestamp | null;
  pages: Generated<number>;
  fetched: Generated<number>;
  inserted: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  deleted: Generated<number>;
  quarantined: Generated<number>;
  total: number | null;
  checkpoint: JsonText<unknown> | null;
  done: Generated<boolean>;
  since: string | null;
  high_water: string | null;
  error: string | null;
  parent_key: string | null;
  parent_params: JsonObject<Record<string, string>> | null;
  /** Set at start: the run's scope held no record (a first sync). */
  into_empty: Generated<boolean>;
}

export interface SyncRunSeenTable {
  run_id: string;
  record_key: string;
}

/** Keys a full run saw, one row per committed page (the deletion sweep unnests them). */
export interface SyncRunSeenPagesTable {
  run_id: Id<string>;
  page: Id<number>;
  keys: Id<string[]>;
}

export interface SyncStateTable {
  integration: string;
  connection: string;
  resource: string;
  /** The parent record of a child resource's mark; '' for the resource itself. */
  parent_key: ColumnType<string, string | undefined, never>;
  high_water: string | null;
  last_run_id: string | null;
  updated_at: Timestamp;
}

export interface QuarantineTable {
  id: GeneratedId<string>;
  run_id: string;
  integration: string;
  connection: string;
  resource: string;
  page: number;
  record_key: string | null;
  raw: JsonText<unknown>;
  reason: string;
  created_at: CreatedAt;
}

export interface SyncTables {
  sync_runs: SyncRunsTable;
  sync_run_seen: SyncRunSeenTable;
  sync_run_seen_pages: SyncRunSeenPagesTable;
  sync_state: SyncStateTable;
  quarantine: QuarantineTable;
}

export interface ConnectionsTable {
  integration: string;
  id: string;
  config: JsonObject<Record<string, unknown>>;
  /** SecretBox-sealed JSON object of secret name → value. */
  secrets_sealed: string | null;
  /** From connection_generation_seq, new on every save: tokens of an older generation are stale. */
  generation: Generated<string>;
  /** The provider's id of the tenant (installation, account, team): routes shared-URL webhooks. */
  provider_account: string | null;
  created_at: CreatedAt;
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
  /** The API host the token response named (auth.instanceUrl), unchecked until used. */
  instance_url: string | null;
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
  id: GeneratedId<string>;
  connection_key: string;
  kind: 'admitted' | 'provider-429' | 'provider-block';
  cost: Generated<number>;
  at: Timestamp;
  details: JsonText<unknown> | null;
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
  id: GeneratedId<number>;
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
  /** Written only by the inbox writer's own INSERT, as the JSON text the sender sent. */
  payload: JsonText<unknown>;
  status: Generated<WebhookEventStatus>;
  result: string | null;
  error: string | null;
  dispatches: Generated<number>;
  received_at: CreatedAt;
  dispatched_at: Timestamp | null;
  processed_at: Timestamp | null;
  /** The receiver's W3C traceparent when tracing is on (written at insert only). */
  trace_context: ColumnType<string | null, string | null | undefined, never>;
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

/** Authentic events for an account no connection has yet (migration 20261203T160000). */
export interface WebhookUnroutedTable {
  id: GeneratedId<number>;
  integration: string;
  account: string;
  /** '*' when deduplicated across the integration; null: the connection's id once routed. */
  dedup_scope: string | null;
  event_id: string;
  event_type: string;
  action: 'upsert' | 'delete' | 'refetch' | 'ignore';
  resource: string | null;
  entity_key: string | null;
  order_key: string | null;
  payload: JsonText<unknown>;
  status: WebhookEventStatus;
  error: string | null;
  received_at: CreatedAt;
}

/** A connection's subscription at the provider (migration 20261203T160100). */
export interface WebhookSubscriptionsTable {
  integration: Id<string>;
  connection: Id<string>;
  subscription_id: string;
  expires_at: Timestamp | null;
  secret_sealed: string | null;
  renewals: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookReceiverLivenessTable {
  name: string;
  seen_at: Timestamp;
  gap_from: Timestamp | null;
}

/** Sequence numbers seen per connection and scope (migration 20261203T181500). */
export interface WebhookSequencesTable {
  integration: Id<string>;
  connection: Id<string>;
  scope: Id<string>;
  /** numeric: read as text. */
  high: string | null;
  /** [{ from, to, dueAt }] with the numbers as text. */
  holes: JsonText<unknown>;
  due_at: Timestamp | null;
  updated_at: Timestamp;
}

/** Sequence numbers that never arrived, until their reconciliation is started. */
export interface WebhookSequenceGapsTable {
  id: GeneratedId<string>;
  integration: string;
  connection: string;
  scope: string;
  from_seq: string;
  to_seq: string;
  detected_at: CreatedAt;
  reconciled_at: Timestamp | null;
}

export interface WebhookTables {
  webhook_sequences: WebhookSequencesTable;
  webhook_sequence_gaps: WebhookSequenceGapsTable;
  webhook_receiver_liveness: WebhookReceiverLivenessTable;
  webhook_unrouted: WebhookUnroutedTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_events: WebhookEventsTable;
  webhook_entities: WebhookEntitiesTable;
}

export interface RecordsTable {
  integration: string;
  connection: string;
  resource: string;
  record_key: string;
  /** Canonical JSON text (content-hash.ts): the stored form is the hashed form. */
  data: JsonText<unknown>;
  content_hash: string;
  first_seen_at: CreatedAt;
  last_seen_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Timestamp | null;
  parent_key: string | null;
  /**
   * xid8 (read as text): the transaction that last changed the record (inserted, rewrote its content,
   * deleted or revived it); null on rows from before it was kept. Set by the column's default on insert
   * and by CHANGE_XID (records.ts) on every changing update; nothing else writes it.
   */
  change_xid: ColumnType<string | null, never, RawBuilder<string>>;
}

export interface Database extends SyncTables, ConnectionTables, RateTables, WebhookTables {
  records: RecordsTable;
}
