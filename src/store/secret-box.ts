/** AES-256-GCM for connection secrets at rest. Format: "v1:" + base64(iv[12] | tag[16] | ciphertext). */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class EncryptionKeyError extends Error {
  override name = 'EncryptionKeyError';
}

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** A 32-byte key as base64 or hex (e.g. from `openssl rand -base64 32`). */
  static fromKey(key: string | undefined): SecretBox {
    if (!key) {
      throw new EncryptionKeyError(
        'SYNCWRIGHT_ENCRYPTION_KEY is not set: connection secrets are stored encrypted; generate a key with `openssl rand -base64 32`',
      );
    }
    const trimmed = key.trim();
    const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
      ? Buffer.from(trimmed, 'hex')
      : Buffer.from(trimmed, 'base64');
    if (bytes.length !== 32) {
      throw new EncryptionKeyError(
        `SYNCWRIGHT_ENCRYPTION_KEY must be 32 bytes as base64 or hex (got ${bytes.length} bytes): generate one with \`openssl rand -base64 32\``,
      );
    }
    return new SecretBox(bytes);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string): string {
    if (!sealed.startsWith('v1:')) throw new EncryptionKeyError('encrypted secret has an unknown format');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new EncryptionKeyError(
        'cannot decrypt connection secrets: SYNCWRIGHT_ENCRYPTION_KEY is not the key they were stored with (or the data was changed)',
      );
    }
  }
}
