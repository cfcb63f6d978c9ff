/**
 * The local stack: Postgres (migrated) and Temporal, each resolved from the environment or started
 * embedded. Stopped in reverse order of start.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createDb, type Db } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { workerPoolSize } from '../temporal/worker.js';
import { resolvePostgres, type ResolvedPostgres } from './postgres.js';
import { resolveTemporal, type ResolvedTemporal, type TemporalStackOptions } from './temporal.js';

export interface LocalStack {
  postgres: ResolvedPostgres;
  temporal: ResolvedTemporal;
  db: Db;
  stop(): Promise<void>;
}

export async function startLocalStack(
  config: Config,
  log: Logger,
  options: TemporalStackOptions = {},
): Promise<LocalStack> {
  const postgres = await resolvePostgres(config, log);
  let temporal: ResolvedTemporal | undefined;
  let db: Db | undefined;
  try {
    // Sized for the worker `up` runs on it.
    db = createDb(postgres.url, { max: workerPoolSize() });
    const applied = await migrateToLatest(db);
    if (applied.length) log.info({ migrations: applied.map((m) => m.migrationName) }, 'applied migrations');
    temporal = await resolveTemporal(config, log, options);
  } catch (error) {
    await db?.destroy();
    await postgres.stop();
    throw error;
  }
  const readyDb = db;
  const readyTemporal = temporal;
  return {
    postgres,
    temporal: readyTemporal,
    db: readyDb,
    stop: async () => {
      await readyDb.destroy();
      await readyTemporal.stop();
      await postgres.stop();
    },
  };
}
