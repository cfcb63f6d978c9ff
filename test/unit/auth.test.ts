import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyAuth, MissingSecretError, type AuthInputs } from '../../src/http/auth/apply.js';
import { authSchema } from '../../src/http/auth/schema.js';
import { ProviderError } from '../../src/http/errors.js';
import { HttpTransport } from '../../src/http/transport.js';
import { startProviderSimulator, type SimAuth } from '../../src/testing/simulator.js';

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
    // Without a password: the key as the user name and an empty password ("ada:").
    assert.deepEqual(apply({ type: 'basic', username: 'user' }).headers, {
      authorization: `Basic ${Buffer.from('ada:').toString('base64')}`,
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

describe('each auth kind against a server that checks the credentials', () => {
  const cases: { server: SimAuth; auth: unknown }[] = [
    { server: { type: 'bearer', token: 't0k' }, auth: { type: 'bearer', token: 'token' } },
    {
      server: { type: 'api-key-header', header: 'X-Api-Key', key: 't0k' },
      auth: { type: 'api-key', in: 'header', name: 'X-Api-Key', value: 'token' },
    },
    {
      server: { type: 'api-key-query', param: 'api_key', key: 't0k' },
      auth: { type: 'api-key', in: 'query', name: 'api_key', value: 'token' },
    },
    {
      server: { type: 'basic', username: 'ada', password: 'p@ss' },
      auth: { type: 'basic', username: 'user', password: 'pass' },
    },
    {
      server: { type: 'api-key-header', header: 'X-Auth', key: 'Token t0k' },
      auth: { type: 'custom-headers', headers: { 'X-Auth': 'Token {secrets.token}' } },
    },
  ];
  for (const { server, auth } of cases) {
    it(`${(auth as { type: string }).type} (${server.type}): accepted, and refused with a wrong secret`, async () => {
      const sim = await startProviderSimulator({ auth: server, resources: { items: [{ id: 1 }] } });
      const http = new HttpTransport({ timeoutMs: 2000 });
      try {
        const send = async (secrets: Record<string, string>) => {
          const applied = applyAuth(authSchema.parse(auth), { ...inputs, secrets });
          const url = new URL(`${sim.url}/items`);
          for (const [k, v] of Object.entries(applied.query)) url.searchParams.set(k, v);
          return http.requestJson({
            url: url.toString(),
            headers: applied.headers,
            secretParams: applied.secretParams,
          });
        };
        assert.deepEqual(((await send(inputs.secrets)).body as { data: unknown }).data, [{ id: 1 }]);
        await assert.rejects(send({ token: 'wrong', user: 'ada', pass: 'nope' }), (e: unknown) => {
          assert.ok(e instanceof ProviderError);
          assert.equal(e.kind, 'auth');
          assert.doesNotMatch(e.message, /wrong|nope|t0k/);
          return true;
        });
      } finally {
        http.close();
        await sim.close();
      }
    });
  }
});
