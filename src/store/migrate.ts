import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, sql, type Kysely, type MigrationResult } from 'kysely';
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
  await checkEncoding(db as Kysely<unknown>);
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

/**
 * Encodings whose text is the bytes the worker sends. Postgres hashes each record's JSON text as it
 * stores it (runs.ts), and that hash must equal the one JavaScript computes from the UTF-8 bytes
 * (content-hash.ts); in another encoding (EUC_JP, say) some characters come back changed, the two
 * hashes part, and the sync and webhook paths would rewrite each other's rows forever.
 */
const BYTE_FAITHFUL_ENCODINGS = new Set(['UTF8', 'SQL_ASCII']);

async function checkEncoding(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{
    encoding: string;
  }>`select current_setting('server_encoding') as encoding`.execute(db);
  const encoding = rows[0]?.encoding ?? 'unknown';
  if (!BYTE_FAITHFUL_ENCODINGS.has(encoding.toUpperCase()))
    throw new MigrationError(
      `the database's encoding is ${encoding}: Syncwright stores records in a UTF8 database ` +
        `(create it with ENCODING 'UTF8', e.g. createdb -E UTF8 -T template0 <name>)`,
    );
}
