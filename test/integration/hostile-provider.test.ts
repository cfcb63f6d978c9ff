/**
 * A hostile provider gets nothing: for every auth kind and every way a provider can point the client
 * elsewhere (Link header, next URL, redirects), the attacker's server receives no request and no secret,
 * the run fails with a typed, non-retryable error naming the refused origin, and no request leaves the
 * spec's path template — also when a config value or a parent field tries to climb out of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { defineIntegration } from '../../src/spec/define.js';
import type { IntegrationSpec, IntegrationSpecInput } from '../../src/spec/schema.js';
import { listRecords } from '../../src/store/records.js';
import { startOAuthServer, type OAuthServer } from '../../src/testing/oauth-server.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import {
  startAttacker,
  startHostileProvider,
  type RecordingServer,
  type SeenRequest,
  type Trick,
} from '../helpers/hostile-servers.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const SECRETS = {
  token: 'SECRET-token-4f1c',
  user: 'SECRET-user-77',
  password: 'SECRET-password-9b',
  client_id: 'cid',
  client_secret: 'SECRET-client-secret-e2',
  refresh_token: 'rt-initial',
};
/** Anything that must never reach the attacker: secret values and the shapes of auth headers. */
const LEAK = /SECRET-|Bearer|Basic |at-\d|rt-/;

const TRICKS: Trick[] = [
  'link-header',
  'next-url',
  'redirect-302',
  'redirect-307',
  'redirect-303-post',
  'redirect-chain',
  'next-url-scheme-relative',
  'next-url-userinfo',
  'link-outside-base-path',
];

function resourceFor(trick: Trick) {
  return {
    request: {
      path: `/${trick}/items`,
      method: trick === 'redirect-303-post' ? ('POST' as const) : ('GET' as const),
    },
    recordsPath: 'data',
    primaryKey: 'id',
    pagination:
      trick === 'link-header' || trick === 'link-outside-base-path'
        ? ({ type: 'link-header' } as const)
        : ({ type: 'next-url', nextUrlPath: 'next' } as const),
  };
}

function leaks(requests: readonly SeenRequest[]): string[] {
  return requests
    .map((r) => `${r.method} ${r.url} ${JSON.stringify(r.headers)} ${r.body}`)
    .filter((text) => LEAK.test(text));
}

describe('a hostile provider gets no credentials and no requests outside the template', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let provider: RecordingServer;
  let attacker: RecordingServer;
  let cc: OAuthServer;
  let rt: OAuthServer;
  // Where the provider's tricks point: the attacker, unless a test says otherwise.
  let target = () => attacker.origin;
  const authKinds: Record<string, IntegrationSpecInput['auth']> = {};

  before(async () => {
    env = await testEnv();
    attacker = await startAttacker();
    provider = await startHostileProvider(() => target());
    cc = await startOAuthServer({ clientId: 'cid', clientSecret: SECRETS.client_secret });
    rt = await startOAuthServer({
      clientId: 'cid',
      clientSecret: SECRETS.client_secret,
      refreshToken: 'rt-initial',
    });
    Object.assign(authKinds, {
      bearer: { type: 'bearer', token: 'token' },
      basic: { type: 'basic', username: 'user', password: 'password' },
      'api-key-header': { type: 'api-key', in: 'header', name: 'X-Api-Key', value: 'token' },
      'api-key-query': { type: 'api-key', in: 'query', name: 'api_key', value: 'token' },
      'custom-headers': { type: 'custom-headers', headers: { 'X-Auth': 'Token {secrets.token}' } },
      // Extra credentials beside the auth's own go exactly where it goes: never to the attacker.
      'bearer-extra': {
        type: 'bearer',
        token: 'token',
        extra: { headers: { 'X-Account': '{secrets.password}' }, query: { acct: '{secrets.user}' } },
      },
      'oauth-cc': {
        type: 'oauth2-client-credentials',
        tokenUrl: cc.tokenUrl,
        clientId: 'client_id',
        clientSecret: 'client_secret',
      },
      'oauth-rt': {
        type: 'oauth2-refresh-token',
        tokenUrl: rt.tokenUrl,
        clientId: 'client_id',
        clientSecret: 'client_secret',
        refreshToken: 'refresh_token',
      },
    } satisfies Record<string, IntegrationSpecInput['auth']>);
    const secrets = Object.fromEntries(Object.keys(SECRETS).map((k) => [k, k]));
    const specs: IntegrationSpec[] = Object.entries(authKinds).map(([kind, auth]) =>
      defineIntegration({
        id: `hostile-${kind}`,
        baseUrl: `${provider.url}/api`,
        secrets,
        auth,
        resources: Object.fromEntries(TRICKS.map((t) => [t, resourceFor(t)])),
      }),
    );
    const allow = (id: string, credentials: boolean, auth: IntegrationSpecInput['auth']) =>
      defineIntegration({
        id,
        baseUrl: `${provider.url}/api`,
        secrets,
        auth,
        allowedOrigins: [{ origin: attacker.origin, credentials }],
        resources: { 'link-header': resourceFor('link-header'), 'redirect-302': resourceFor('redirect-302') },
      });
    specs.push(
      allow('allow-anon-bearer', false, authKinds.bearer),
      allow('allow-anon-query', false, authKinds['api-key-query']),
      allow('allow-anon-extra', false, authKinds['bearer-extra']),
      allow('allow-creds-bearer', true, authKinds.bearer),
      defineIntegration({
        // A per-connection base URL: each connection's credentials stay under its own tenant path.
        id: 'tenants',
        baseUrl: `${provider.url}/api/{config.tenant}`,
        secrets,
        auth: authKinds.bearer!,
        connectionConfig: { tenant: { type: 'string' } },
        resources: {
          items: {
            request: { path: '/items' },
            recordsPath: 'data',
            primaryKey: 'id',
            pagination: { type: 'link-header' },
          },
        },
      }),
      defineIntegration({
        id: 'paths',
        baseUrl: `${provider.url}/api`,
        secrets,
        auth: authKinds.bearer!,
        connectionConfig: { project: { type: 'string' } },
        resources: {
          items: { request: { path: '/projects/{project}/items' }, recordsPath: 'data', primaryKey: 'id' },
          repos: { request: { path: '/repos' }, recordsPath: 'data', primaryKey: 'name' },
          'repo-items': {
            request: { path: '/repos/{parent.repo}/items' },
            recordsPath: 'data',
            primaryKey: 'id',
            parent: { resource: 'repos', params: { repo: 'name' } },
          },
        },
      }),
    );
    engine = await startEngine(env, specs);
  });

  after(async () => {
    await engine?.close();
    await provider?.close();
    await attacker?.close();
    await cc?.close();
    await rt?.close();
    await env?.close();
  });

  const runAndExpectRefusal = async (integration: string, trick: Trick, refusedOrigin: string) => {
    const conn = uniqueId('c');
    // The refresh-token server rotates its one valid refresh token on every use.
    await engine.addConnection(integration, conn, {
      ...SECRETS,
      refresh_token: rt.currentRefreshToken() ?? SECRETS.refresh_token,
    });
    const handle = await engine.run(
      engine.input(integration, conn, trick, 'full', {
        retry: { maxAttempts: 3, initialIntervalMs: 50, maxIntervalMs: 100 },
      }),
    );
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError, `${integration}/${trick}: ${String(error)}`);
      const cause = error.cause as { type?: string; message?: string };
      assert.equal(cause.type, 'UntrustedUrlError', `${integration}/${trick}: ${cause.message}`);
      assert.ok(
        cause.message?.includes(refusedOrigin),
        `${integration}/${trick} names ${refusedOrigin}: ${cause.message}`,
      );
      assert.doesNotMatch(JSON.stringify(error) + String(cause.message), LEAK);
      return true;
    });
    const history = JSON.stringify(await handle.fetchHistory());
    assert.doesNotMatch(history, LEAK, `${integration}/${trick}: no secret in the Temporal history`);
    // Non-retryable: the refused step was attempted once, not retried.
    assert.equal((history.match(/"activityTaskFailedEventAttributes"/g) ?? []).length, 1);
  };

  for (const kind of [
    'bearer',
    'basic',
    'api-key-header',
    'api-key-query',
    'custom-headers',
    'bearer-extra',
    'oauth-cc',
    'oauth-rt',
  ]) {
    it(`${kind}: every trick is refused, the attacker gets nothing`, async () => {
      const before = provider.requests.length;
      const refuse = (trick: Trick) =>
        runAndExpectRefusal(
          `hostile-${kind}`,
          trick,
          trick === 'next-url-userinfo' || trick === 'link-outside-base-path'
            ? provider.origin
            : attacker.origin,
        );
      // One refresh token is valid at a time, so the refresh-token kind runs its tricks one by one.
      if (kind === 'oauth-rt') for (const trick of TRICKS) await refuse(trick);
      else await Promise.all(TRICKS.map(refuse));
      assert.deepEqual(attacker.requests, [], 'the attacker received no request at all');
      const paths = provider.requests.slice(before).map((r) => new URL(r.url, 'http://x').pathname);
      for (const p of paths)
        assert.match(p, /^\/api\/([a-z0-9-]+\/items|hop)$/, `request outside the path template: ${p}`);
    });
  }

  it('an allowed origin gets the request without credentials (link and redirect), and the sync goes on', async () => {
    for (const integration of ['allow-anon-bearer', 'allow-anon-query', 'allow-anon-extra']) {
      for (const resource of ['link-header', 'redirect-302']) {
        const conn = uniqueId('a');
        await engine.addConnection(integration, conn, SECRETS);
        const seen = attacker.requests.length;
        const result = await (await engine.run(engine.input(integration, conn, resource))).result();
        assert.equal(result.status, 'completed');
        const got = attacker.requests.slice(seen);
        assert.equal(got.length, 1, `${integration}/${resource}: the allowed origin was called once`);
        assert.deepEqual(leaks(got), [], `${integration}/${resource}: no credentials to the allowed origin`);
        assert.equal(got[0]!.headers.authorization, undefined);
        assert.match(got[0]!.url, /stolen=1/, 'the rest of the URL is kept');
        const keys = (await listRecords(env.db, { integration, connection: conn, resource })).map(
          (r) => r.key,
        );
        assert.ok(keys.includes('from-attacker'));
      }
    }
  });

  it('credentials go to an allowed origin only when the spec says so (the leak check can see a leak)', async () => {
    const conn = uniqueId('a');
    await engine.addConnection('allow-creds-bearer', conn, SECRETS);
    const seen = attacker.requests.length;
    await (await engine.run(engine.input('allow-creds-bearer', conn, 'link-header'))).result();
    const got = attacker.requests.slice(seen);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.headers.authorization, `Bearer ${SECRETS.token}`);
    assert.equal(leaks(got).length, 1);
    attacker.requests.splice(seen);
  });

  it('a config value is exactly one path segment: dot segments and empty values are refused', async () => {
    const before = provider.requests.length;
    for (const project of [
      '..',
      '.',
      '%2e%2e',
      '%2E.',
      '..%2F..',
      '../admin',
      '..\\admin',
      '%252e%252e',
      '',
    ]) {
      const conn = uniqueId('p');
      await engine.addConnection('paths', conn, SECRETS, { project });
      const handle = await engine.run(engine.input('paths', conn, 'items'));
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        const cause = error.cause as { type?: string; message?: string };
        assert.equal(cause.type, 'ConfigurationError', `${JSON.stringify(project)}: ${cause.message}`);
        assert.match(cause.message ?? '', /\{project\}/);
        return true;
      });
    }
    assert.equal(provider.requests.length, before, 'no request was sent for a refused value');

    // Anything else is encoded into one segment.
    const conn = uniqueId('p');
    await engine.addConnection('paths', conn, SECRETS, { project: 'a/b?c#d %' });
    const result = await (await engine.run(engine.input('paths', conn, 'items'))).result();
    assert.equal(result.status, 'completed');
    const last = provider.requests.at(-1)!;
    assert.equal(new URL(last.url, 'http://x').pathname, '/api/projects/a%2Fb%3Fc%23d%20%25/items');
    const keys = (
      await listRecords(env.db, { integration: 'paths', connection: conn, resource: 'items' })
    ).map((r) => r.key);
    assert.deepEqual(keys, ['a/b?c#d %']);
  });

  it("a per-connection base URL: a tenant's next link to another tenant's path is refused, '..' never fills it", async () => {
    const conn = uniqueId('t');
    // This tenant's page 1 links to the provider's own /api/page2: outside /api/link-header.
    target = () => provider.origin;
    try {
      await engine.addConnection('tenants', conn, SECRETS, { tenant: 'link-header' });
      const handle = await engine.run(engine.input('tenants', conn, 'items'));
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal((error.cause as { type?: string }).type, 'UntrustedUrlError');
        assert.match(error.cause?.message ?? '', /outside the spec's baseUrl path \/api\/link-header/);
        return true;
      });
    } finally {
      target = () => attacker.origin;
    }
    const before = provider.requests.length;
    const bad = uniqueId('t');
    await engine.addConnection('tenants', bad, SECRETS, { tenant: '..' });
    await assert.rejects(
      (await engine.run(engine.input('tenants', bad, 'items'))).result(),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal((error.cause as { type?: string }).type, 'ConfigurationError');
        return true;
      },
    );
    assert.equal(provider.requests.length, before, 'nothing was sent for a refused tenant');
  });

  it('a parent field is exactly one path segment: a parent named ".." never reaches another path', async () => {
    const conn = uniqueId('r');
    await engine.addConnection('paths', conn, SECRETS, { project: 'x' });
    const before = provider.requests.length;
    await (await engine.run(engine.input('paths', conn, 'repos'))).result();
    const handle = await engine.run(engine.input('paths', conn, 'repo-items'));
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      const messages: string[] = [];
      for (let e: unknown = error; e instanceof Error; e = e.cause) messages.push(e.message);
      assert.match(messages.join(' | '), /parent\.repo/);
      return true;
    });
    const paths = provider.requests.slice(before).map((r) => new URL(r.url, 'http://x').pathname);
    for (const p of paths) assert.match(p, /^\/api\/(repos|repos\/ok\/items)$/, `outside the template: ${p}`);
  });
});
