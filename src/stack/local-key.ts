/**
 * The local stack's encryption key: SYNCWRIGHT_ENCRYPTION_KEY when set; otherwise one generated once into
 * SYNCWRIGHT_HOME/encryption.key (mode 600), so `npm start` works with zero set-up. Only `up` and `demo`
 * generate it; other commands read it only when they talk to the running `up` stack. Production sets the env.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function localEncryptionKey(homeDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  const file = path.join(homeDir, 'encryption.key');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    await fs.mkdir(homeDir, { recursive: true });
    const key = randomBytes(32).toString('base64');
    await fs.writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await fs.readFile(file, 'utf8')).trim();
  }
}

/** The key file `up`/`demo` generated in `homeDir`, if there is one; never creates it. */
export async function readLocalEncryptionKey(homeDir: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path.join(homeDir, 'encryption.key'), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}
