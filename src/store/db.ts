import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';

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

export function createDb(connectionString: string, options: { max?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  // A client losing its server (Postgres restart) must not crash the process: the query in flight fails
  // (and is retried by its activity), idle clients are replaced by the pool.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}
