/**
 * The encryption key of CLI commands, and `syncwright keys rotate`.
 *
 * SYNCWRIGHT_ENCRYPTION_KEY is required: a missing key is an error, so two machines never seal with
 * different keys. Exceptions, for the local stack only: `up` and `demo` generate one into
 * SYNCWRIGHT_HOME/encryption.key when it is unset, and commands that talk to that running `up` (no
 * DATABASE_URL) read the same file. SYNCWRIGHT_ENCRYPTION_KEYS_OLD lists previous keys (comma-separated)
 * that still open values during a rotation.
 */
import { localEncryptionKey, readLocalEncryptionKey } from '../stack/local-key.js';
import { readStackFile } from '../stack/stack-file.js';
import { SecretBox } from '../store/secret-box.js';
import { resealSecrets } from '../sync/reseal.js';
import { openDatabase, UsageError, type CliContext } from './context.js';

const HOWTO =
  'set SYNCWRIGHT_ENCRYPTION_KEY to a 32-byte key (generate one with `openssl rand -base64 32`), the same on every machine that shares the database; only `syncwright up` and `syncwright demo` generate a local one';

/** The secret box for a command: `local` for `up` and `demo`, which may generate the local key file. */
export async function openSecretBox(ctx: CliContext, opts: { local?: boolean } = {}): Promise<SecretBox> {
  const { encryptionKey, encryptionKeysOld, homeDir, postgres } = ctx.config;
  let key = encryptionKey;
  if (!key && opts.local) key = await localEncryptionKey(homeDir, undefined);
  if (!key && !postgres.url && (await readStackFile(homeDir))) key = await readLocalEncryptionKey(homeDir);
  if (!key) throw new UsageError(`SYNCWRIGHT_ENCRYPTION_KEY is not set: ${HOWTO}`);
  return SecretBox.fromKeys(key, encryptionKeysOld);
}

/** Re-seals every secret under the current key; previous keys come from SYNCWRIGHT_ENCRYPTION_KEYS_OLD. */
export async function keysRotateCommand(ctx: CliContext): Promise<void> {
  const box = await openSecretBox(ctx);
  const db = await openDatabase(ctx);
  const report = await resealSecrets(db, box);
  const out = { keyId: box.keyId, acceptedKeyIds: box.acceptedKeyIds(), ...report };
  if (ctx.json) ctx.out(JSON.stringify(out, null, 2));
  else {
    ctx.out(
      `re-sealed ${report.resealed} value(s) under key ${box.keyId}; ${report.current} already were` +
        (report.changedMeanwhile ? `; ${report.changedMeanwhile} changed meanwhile (written anew)` : ''),
    );
  }
  if (report.failed.length) {
    throw new UsageError(
      `${report.failed.length} value(s) open with none of the keys ${box.acceptedKeyIds().join(', ')}: ${report.failed.join('; ')}`,
    );
  }
  if (!ctx.json && box.acceptedKeyIds().length > 1)
    ctx.out(
      'every secret is sealed with the current key: once every worker and receiver runs with it, drop SYNCWRIGHT_ENCRYPTION_KEYS_OLD',
    );
}
