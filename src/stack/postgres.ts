/** Resolves Syncwright's Postgres: DATABASE_URL when set, otherwise an embedded server under SYNCWRIGHT_HOME. */
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { preferredOrFreePort } from '../net.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../store/embedded-postgres.js';

export class PostgresUnavailableError extends Error {
  override name = 'PostgresUnavailableError';
}

export interface ResolvedPostgres {
  /** Connection string of Syncwright's database. */
  url: string;
  /** A superuser connection to the same server, for creating databases (tests). */
  adminUrl: string;
  source: 'DATABASE_URL' | 'embedded';
  embedded?: RunningPostgres;
  stop(): Promise<void>;
}

/** host:port/database of a connection string, without user or password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/**
 * Checks a pool's database with one query on one of its own connections (kept for the next query, so
 * checking costs no connection of its own), with the same error as checkConnection.
 */
export async function checkPool(pool: pg.Pool, url: string, what: string): Promise<void> {
  try {
    await pool.query('select 1');
  } catch (error) {
    throw new PostgresUnavailableError(
      `cannot connect to ${what} (${describeUrl(url)}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

export async function checkConnection(url: string, what: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new PostgresUnavailableError(
      `cannot connect to ${what} (${describeUrl(url)}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/** A new database on the server of `adminUrl` (tests, the testing kit), and how to drop it again. */
export async function createScratchDatabase(
  adminUrl: string,
  name: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  await createDatabaseIfMissing(adminUrl, name);
  return {
    url: withDatabase(adminUrl, name),
    drop: async () => {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function resolvePostgres(
  config: Config,
  log: Logger,
  options: { dataDir?: string; port?: number } = {},
): Promise<ResolvedPostgres> {
  if (config.postgres.url) {
    await checkConnection(config.postgres.url, 'DATABASE_URL');
    return {
      url: config.postgres.url,
      adminUrl: config.postgres.url,
      source: 'DATABASE_URL',
      stop: async () => {},
    };
  }
  const dataDir = options.dataDir ?? path.join(config.homeDir, 'postgres');
  const port = await preferredOrFreePort(options.port ?? config.postgres.embeddedPort);
  log.info({ dataDir, port }, 'starting embedded Postgres');
  const embedded = await startEmbeddedPostgres({ dataDir, port });
  try {
    await createDatabaseIfMissing(embedded.url('postgres'), 'syncwright');
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  return {
    url: embedded.url('syncwright'),
    adminUrl: embedded.url('postgres'),
    source: 'embedded',
    embedded,
    stop: () => embedded.stop(),
  };
}
