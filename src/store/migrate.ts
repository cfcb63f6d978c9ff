import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, type Kysely, type MigrationResult } from 'kysely';
import { ensureTypeScriptLoader } from '../typescript-loader.js';

/**
 * migrations/ at the project root, next to src/ (from the CLI's build, dist/cli/, the same two levels
 * up). The migrations are TypeScript, read from there by the build too.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Brings the schema to the latest migration. kysely's migrateToLatest never throws; it returns the
 * error, so we turn it into one that names the failing migration.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResult[]> {
  await ensureTypeScriptLoader();
  const migrator = new Migrator({
    db: db as Kysely<unknown>,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR }),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error');
    const where = failed ? ` in migration ${failed.migrationName}` : '';
    const message = error instanceof Error ? error.message : JSON.stringify(error);
    throw new MigrationError(`database migration failed${where}: ${message}`, { cause: error });
  }
  return results;
}
