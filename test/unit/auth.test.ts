import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { applyAuth, MissingSecretError, type AuthInputs } from '../../src/http/auth/apply.js';
import { authSchema } from '../../src/http/auth/schema.js';
import { EncryptionKeyError, SecretBox } from '../../src/store/secret-box.js';

const inputs: AuthInputs = {
  secrets: { token: 't0k', user: 'ada', pass: 'p@ss' },
  config: { org: 'acme' },
  env: { TRACKER_TOKEN: 'from-env' },
  where: 'connection tracker/acme',
};
const apply = (auth: unknown) => applyAuth(authSchema.parse(auth), inputs);

describe('applyAuth', () => {
  it('builds headers and query params for each kind', () => {
    assert.deepEqual(apply({ type: 'none' }), { headers: {}, query: {}, secretParams: [] });
    assert.deepEqual(apply({ type: 'bearer', token: 'token' }).headers, { authorization: 'Bearer t0k' });
    assert.deepEqual(apply({ type: 'bearer', token: { env: 'TRACKER_TOKEN' } }).headers, {
      authorization: 'Bearer from-env',
    });
    assert.deepEqual(apply({ type: 'basic', username: 'user', password: 'pass' }).headers, {
      authorization: `Basic ${Buffer.from('ada:p@ss').toString('base64')}`,
    });
    assert.deepEqual(
      apply({ type: 'api-key', in: 'header', name: 'X-Api-Key', value: 'token', prefix: 'Key ' }).headers,
      {
        'x-api-key': 'Key t0k',
      },
    );
    assert.deepEqual(apply({ type: 'api-key', in: 'query', name: 'api_key', value: 'token' }), {
      headers: {},
      query: { api_key: 't0k' },
      secretParams: ['api_key'],
    });
    assert.deepEqual(
      apply({ type: 'custom-headers', headers: { 'X-Auth': 'Token {secrets.token} org={config.org}' } })
        .headers,
      {
        'x-auth': 'Token t0k org=acme',
      },
    );
  });
  it('says which secret is missing without showing any secret', () => {
    assert.throws(
      () => apply({ type: 'bearer', token: 'other' }),
      (e: unknown) =>
        e instanceof MissingSecretError &&
        /connection tracker\/acme has no secret "other"/.test(e.message) &&
        !/t0k/.test(e.message),
    );
    assert.throws(
      () => apply({ type: 'bearer', token: { env: 'NOPE' } }),
      /environment variable NOPE is not set/,
    );
  });
});

describe('SecretBox', () => {
  const key = randomBytes(32).toString('base64');
  it('round-trips and never returns the plaintext in the sealed form', () => {
    const box = SecretBox.fromKey(key);
    const sealed = box.seal('{"token":"hunter2"}');
    assert.match(sealed, /^v1:/);
    assert.doesNotMatch(sealed, /hunter2/);
    assert.notEqual(box.seal('x'), box.seal('x'), 'random IV per seal');
    assert.equal(box.open(sealed), '{"token":"hunter2"}');
    assert.equal(
      SecretBox.fromKey(Buffer.from(key, 'base64').toString('hex')).open(sealed),
      '{"token":"hunter2"}',
    );
  });
  it('detects tampering and a wrong key', () => {
    const sealed = SecretBox.fromKey(key).seal('secret');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    assert.throws(() => SecretBox.fromKey(key).open(`v1:${raw.toString('base64')}`), EncryptionKeyError);
    assert.throws(
      () => SecretBox.fromKey(randomBytes(32).toString('base64')).open(sealed),
      /not the key they were stored with/,
    );
  });
  it('explains a missing or malformed key', () => {
    assert.throws(
      () => SecretBox.fromKey(undefined),
      /SYNCWRIGHT_ENCRYPTION_KEY is not set.*openssl rand -base64 32/,
    );
    assert.throws(() => SecretBox.fromKey('c2hvcnQ='), /must be 32 bytes as base64 or hex \(got 5 bytes\)/);
  });
});
