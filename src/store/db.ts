import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;
/** What repository functions take first: the pool or an open transaction. */
export type DbOrTx = Kysely<Database> | Transaction<Database>;

// Return int8/numeric as JS numbers for counts (our counts stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const pools = new WeakMap<object, pg.Pool>();

/**
 * The pg pool under a Db made by createDb, for the few hot statements that run as named prepared
 * statements (planned once per connection); undefined for a transaction or a foreign Kysely.
 */
export function poolOf(db: DbOrTx): pg.Pool | undefined {
  return db.isTransaction ? undefined : pools.get(db);
}

export interface DbOptions {
  /** Most connections at once (default 10). A worker sizes it to its activity concurrency. */
  max?: number;
  /** How long a query waits for a free connection before it fails (default 10 s), instead of forever. */
  connectionTimeoutMs?: number;
  /** Server-side bound on one statement (default 60 s): a stuck query fails and its activity retries. */
  statementTimeoutMs?: number;
  /** Server-side bound on a transaction left idle (default 60 s), so no transaction stays open unbounded. */
  idleInTransactionTimeoutMs?: number;
  /** Where pool and connection errors go (a restarting Postgres); they never crash the process. */
  onError?: (message: string, error: Error) => void;
}

export function createDb(connectionString: string, options: DbOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 60_000,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 60_000,
  });
  // A client losing its server (Postgres restart) must not crash the process: the query in flight fails
  // (and is retried by its activity), idle clients are replaced by the pool. The error is logged.
  const onError =
    options.onError ??
    ((message: string, error: Error) => console.error(`syncwright: ${message}: ${error.message}`));
  // Every client error, idle or in use, reaches the client's own listeners; the pool re-emits the idle
  // ones, and must have a listener so that they do not throw.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', (error) => onError('Postgres connection lost', error)));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}
