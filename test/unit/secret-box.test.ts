import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { EncryptionKeyError, keyIdOf, SecretBox, type SealContext } from '../../src/store/secret-box.js';

const key = randomBytes(32).toString('base64');
const row: SealContext = { what: 'connection-secrets', integration: 'tracker', connection: 'acme' };

/** A value in the format sealed before key ids and row binding ("v1:"). */
function sealV1(keyB64: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyB64, 'base64'), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

const body = (sealed: string) => Buffer.from(sealed.split(':')[2]!, 'base64');
const withBody = (sealed: string, raw: Buffer) =>
  `${sealed.split(':').slice(0, 2).join(':')}:${raw.toString('base64')}`;

describe('SecretBox', () => {
  it('round-trips and never returns the plaintext in the sealed form', () => {
    const box = SecretBox.fromKey(key);
    const sealed = box.seal('{"token":"hunter2"}', row);
    assert.match(sealed, /^v2:[0-9a-f]{8}:/);
    assert.doesNotMatch(sealed, /hunter2/);
    assert.notEqual(box.seal('x', row), box.seal('x', row), 'random IV per seal');
    assert.equal(box.open(sealed, row), '{"token":"hunter2"}');
    assert.equal(
      SecretBox.fromKey(Buffer.from(key, 'base64').toString('hex')).open(sealed, row),
      '{"token":"hunter2"}',
    );
  });

  it('carries the key id: the first 4 bytes of the key’s SHA-256', () => {
    const box = SecretBox.fromKey(key);
    const expected = createHash('sha256').update(Buffer.from(key, 'base64')).digest().subarray(0, 4);
    assert.equal(box.keyId, expected.toString('hex'));
    assert.equal(keyIdOf(Buffer.from(key, 'base64')), box.keyId);
    assert.equal(box.seal('s', row).split(':')[1], box.keyId);
    assert.ok(box.isCurrent(box.seal('s', row)));
  });

  it('binds the row: a value moved to another connection, integration or column does not open', () => {
    const box = SecretBox.fromKey(key);
    const sealed = box.seal('secret', row);
    for (const other of [
      { ...row, connection: 'globex' },
      { ...row, integration: 'other' },
      { ...row, what: 'oauth-refresh-token' as const },
    ]) {
      assert.throws(
        () => box.open(sealed, other),
        (e: unknown) =>
          e instanceof EncryptionKeyError &&
          /was changed, or it belongs to another row/.test(e.message) &&
          !e.message.includes('secret"'),
      );
    }
  });

  it('checks the whole 16-byte tag: a changed, truncated or missing tag fails', () => {
    const box = SecretBox.fromKey(key);
    const sealed = box.seal('secret', row);
    const changedTag = body(sealed);
    changedTag[12 + 15]! ^= 1; // the last byte of the tag
    assert.throws(() => box.open(withBody(sealed, changedTag), row), /was changed/);
    const changedText = body(sealed);
    changedText[changedText.length - 1]! ^= 1;
    assert.throws(() => box.open(withBody(sealed, changedText), row), /was changed/);
    // A 4-byte tag (what setAuthTag alone would accept) followed by the ciphertext.
    const raw = body(sealed);
    const short = Buffer.concat([raw.subarray(0, 16), raw.subarray(28)]);
    assert.throws(() => box.open(withBody(sealed, short), row), EncryptionKeyError);
    assert.throws(() => box.open(withBody(sealed, raw.subarray(0, 20)), row), EncryptionKeyError);
  });

  it('opens with a previous key during a rotation, seals only with the current one', () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const sealedOld = SecretBox.fromKey(oldKey).seal('secret', row);
    const rotating = SecretBox.fromKeys(newKey, [oldKey]);
    assert.equal(rotating.open(sealedOld, row), 'secret');
    assert.equal(rotating.isCurrent(sealedOld), false);
    const resealed = rotating.seal(rotating.open(sealedOld, row), row);
    assert.equal(resealed.split(':')[1], SecretBox.fromKey(newKey).keyId);
    assert.deepEqual(rotating.acceptedKeyIds(), [
      SecretBox.fromKey(newKey).keyId,
      SecretBox.fromKey(oldKey).keyId,
    ]);
    // Without the old key, its values name the key they need.
    assert.throws(
      () => SecretBox.fromKey(newKey).open(sealedOld, row),
      new RegExp(`sealed with key ${SecretBox.fromKey(oldKey).keyId}.*SYNCWRIGHT_ENCRYPTION_KEYS_OLD`),
    );
  });

  it('still opens values of the previous format (v1) with the current or an old key', () => {
    const oldKey = randomBytes(32).toString('base64');
    assert.equal(SecretBox.fromKey(key).open(sealV1(key, 'legacy'), row), 'legacy');
    assert.equal(SecretBox.fromKeys(key, [oldKey]).open(sealV1(oldKey, 'legacy'), row), 'legacy');
    assert.throws(
      () => SecretBox.fromKey(key).open(sealV1(oldKey, 'legacy'), row),
      /no accepted key .* is the one it was stored with/,
    );
    const tampered = body(`v1:x:${sealV1(key, 'legacy').slice(3)}`);
    tampered[tampered.length - 1]! ^= 1;
    assert.throws(
      () => SecretBox.fromKey(key).open(`v1:${tampered.toString('base64')}`, row),
      EncryptionKeyError,
    );
    assert.throws(() => SecretBox.fromKey(key).open('v9:abc', row), /unknown sealed format/);
  });

  it('explains a missing or malformed key, naming the variable', () => {
    assert.throws(
      () => SecretBox.fromKey(undefined),
      /SYNCWRIGHT_ENCRYPTION_KEY is not set.*openssl rand -base64 32/,
    );
    assert.throws(() => SecretBox.fromKey('c2hvcnQ='), /must be 32 bytes as base64 or hex \(got 5 bytes\)/);
    assert.throws(
      () => SecretBox.fromKeys(key, ['c2hvcnQ=']),
      /SYNCWRIGHT_ENCRYPTION_KEYS_OLD entry 1 must be 32 bytes/,
    );
  });
});
