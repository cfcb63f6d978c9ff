/**
 * AES-256-GCM for secrets at rest (connection secrets, OAuth2 tokens).
 *
 * Format v2: `v2:<key id>:` + base64(iv[12] | tag[16] | ciphertext). The associated data names the row
 * and column the value belongs to (what it is, integration, connection id), so a sealed value copied to
 * another connection, or from one column to another, does not open. The key id (first 4 bytes of the
 * key's SHA-256, hex) says which key sealed it, so keys can rotate: the current key seals, the current
 * and previous keys open.
 *
 * Format v1 (before 2026-12): `v1:` + base64(iv | tag | ciphertext), no key id, no associated data.
 * Still opened, with each accepted key in turn, so existing databases keep working; saving a connection
 * or a token writes v2, and `syncwright keys rotate` re-seals every remaining v1 value as v2.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export class EncryptionKeyError extends Error {
  override name = 'EncryptionKeyError';
}

/** The row and column a sealed value belongs to: its associated data. */
export interface SealContext {
  what: 'connection-secrets' | 'oauth-access-token' | 'oauth-refresh-token' | 'webhook-subscription-secret';
  integration: string;
  connection: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_HOWTO =
  'set SYNCWRIGHT_ENCRYPTION_KEY to a 32-byte key, the same on every machine sharing the database: generate one with `openssl rand -base64 32`';

function parseKey(key: string, name: string): Buffer {
  const trimmed = key.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (bytes.length !== 32) {
    throw new EncryptionKeyError(
      `${name} must be 32 bytes as base64 or hex (got ${bytes.length} bytes): generate one with \`openssl rand -base64 32\``,
    );
  }
  return bytes;
}

/** A key's public name: the first 4 bytes of its SHA-256, as hex. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 4).toString('hex');
}

function associatedData(c: SealContext): Buffer {
  return Buffer.from(JSON.stringify(['syncwright-sealed/v2', c.what, c.integration, c.connection]), 'utf8');
}

const where = (c: SealContext) => `${c.what} of connection ${c.integration}/${c.connection}`;

export class SecretBox {
  /** The current key's id: what new values are sealed with. */
  readonly keyId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;

  private constructor(
    private readonly current: Buffer,
    previous: readonly Buffer[],
  ) {
    this.keyId = keyIdOf(current);
    const keys = new Map<string, Buffer>([[this.keyId, current]]);
    for (const k of previous) if (!keys.has(keyIdOf(k))) keys.set(keyIdOf(k), k);
    this.keys = keys;
  }

  /** A 32-byte key as base64 or hex (e.g. from `openssl rand -base64 32`). */
  static fromKey(key: string | undefined): SecretBox {
    return SecretBox.fromKeys(key, []);
  }

  /**
   * The current key (seals and opens) and previous keys (open only, during a rotation), as given in
   * SYNCWRIGHT_ENCRYPTION_KEY and SYNCWRIGHT_ENCRYPTION_KEYS_OLD.
   */
  static fromKeys(current: string | undefined, previous: readonly string[]): SecretBox {
    if (!current) throw new EncryptionKeyError(`SYNCWRIGHT_ENCRYPTION_KEY is not set: ${KEY_HOWTO}`);
    return new SecretBox(
      parseKey(current, 'SYNCWRIGHT_ENCRYPTION_KEY'),
      previous.map((k, i) => parseKey(k, `SYNCWRIGHT_ENCRYPTION_KEYS_OLD entry ${i + 1}`)),
    );
  }

  /** Ids of every key that opens values, the current one first. */
  acceptedKeyIds(): string[] {
    return [...this.keys.keys()];
  }

  seal(plaintext: string, context: SealContext): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v2:${this.keyId}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** True when `sealed` is in the current format under the current key (nothing to re-seal). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`v2:${this.keyId}:`);
  }

  open(sealed: string, context: SealContext): string {
    const v2 = /^v2:([0-9a-f]{8}):(.*)$/s.exec(sealed);
    if (v2) {
      const key = this.keys.get(v2[1]!);
      if (!key) {
        throw new EncryptionKeyError(
          `cannot decrypt the ${where(context)}: it was sealed with key ${v2[1]}, which is neither SYNCWRIGHT_ENCRYPTION_KEY (key ${this.keyId}) nor in SYNCWRIGHT_ENCRYPTION_KEYS_OLD`,
        );
      }
      const opened = decrypt(key, Buffer.from(v2[2]!, 'base64'), associatedData(context));
      if (opened === undefined) {
        throw new EncryptionKeyError(
          `cannot decrypt the ${where(context)}: the sealed value was changed, or it belongs to another row`,
        );
      }
      return opened;
    }
    if (sealed.startsWith('v1:')) {
      const raw = Buffer.from(sealed.slice(3), 'base64');
      for (const key of this.keys.values()) {
        const opened = decrypt(key, raw, undefined);
        if (opened !== undefined) return opened;
      }
      throw new EncryptionKeyError(
        `cannot decrypt the ${where(context)}: no accepted key (${this.acceptedKeyIds().join(', ')}) is the one it was stored with, or the data was changed`,
      );
    }
    throw new EncryptionKeyError(`the ${where(context)} has an unknown sealed format`);
  }
}

/** The plaintext, or undefined when the tag does not verify. The 16-byte tag is checked explicitly. */
function decrypt(key: Buffer, raw: Buffer, aad: Buffer | undefined): string | undefined {
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  const tag = raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  if (tag.length !== TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAuthTag(tag);
  if (aad) decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}
