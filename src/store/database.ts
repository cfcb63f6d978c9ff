/**
 * The typed shape of Syncwright's tables, one interface per table, as kysely sees them.
 * Rows are snake_case; repository functions map them to camelCase domain types.
 */
import type { ColumnType } from 'kysely';
import type { ConnectionTables, RateTables, SyncTables, WebhookTables } from './sync-tables.js';

/** Read as Date; optional on insert (the column has a default). */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

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
