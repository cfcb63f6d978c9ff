/**
 * A scratch, migrated Postgres database for tests that need no Temporal (the receiver alone): the
 * same real database as testEnv() gives, without starting or building a Temporal server.
 */
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createScratchDatabase, resolvePostgres } from '../../src/stack/postgres.js';
import { createDb, type Db } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { uniqueId } from './stack.js';

export interface DbEnv {
  db: Db;
  databaseUrl: string;
  uniqueId(prefix: string): string;
  close(): Promise<void>;
}

export async function testDb(): Promise<DbEnv> {
  const config = loadConfig();
  const cleanups: (() => Promise<unknown>)[] = [];
  let adminUrl = process.env.SYNCWRIGHT_TEST_ADMIN_DATABASE_URL ?? config.postgres.url;
  if (!adminUrl) {
    const postgres = await resolvePostgres(config, createLogger('warn', 'test'), { port: 0 });
    cleanups.push(() => postgres.stop());
    adminUrl = postgres.adminUrl;
  }
  const database = await createScratchDatabase(adminUrl, uniqueId('sw_test').replaceAll('-', '_'));
  cleanups.push(() => database.drop());
  const db = createDb(database.url);
  cleanups.push(() => db.destroy());
  await migrateToLatest(db);
  return {
    db,
    databaseUrl: database.url,
    uniqueId,
    close: async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
}
