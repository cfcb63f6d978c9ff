/**
 * A connection's secrets over their life, on a real Postgres: saved only when they fit the spec (CLI,
 * testing kit, TypeScript API), removed with everything kept for them, replaced without a worker
 * restart, refreshed with a bounded token request, and re-sealed by `syncwright keys rotate`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { OAuth2Tokens } from '../../src/http/auth/oauth2.js';
import { ProviderError } from '../../src/http/errors.js';
import { lease } from '../../src/ratelimit/leases.js';
import { defineIntegration } from '../../src/spec/define.js';
import type { IntegrationSpec, IntegrationSpecInput } from '../../src/spec/schema.js';
import { getConnection, saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { createConnectionClients } from '../../src/sync/connection-client.js';
import { addConnection, ConnectionConfigError, removeConnection } from '../../src/sync/connections.js';
import { createTestStack } from '../../src/testing/test-stack.js';
import { saveSubscription, subscriptionSealContext } from '../../src/webhooks/subscriptions.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const run = promisify(execFile);
const KEY = randomBytes(32).toString('base64');

/**
 * A token endpoint where a user can authorize again: `authorize()` mints a refresh token of a new grant
 * (the old grant keeps working, as at many providers). Refresh tokens rotate on use; access tokens say
 * which grant they came from.
 */
async function startGrantServer() {
  let n = 0;
  let requests = 0;
  const refresh = new Map<string, string>(); // refresh token → grant
  const access = new Map<string, string>(); // access token → grant
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      requests++;
      const form = new URLSearchParams(body);
      const grant = refresh.get(form.get('refresh_token') ?? '');
      res.setHeader('content-type', 'application/json');
      if (form.get('client_secret') !== 'csecret' || !grant) {
        res.writeHead(400).end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      refresh.delete(form.get('refresh_token')!);
      const rt = `rt-${grant}-${++n}`;
      const at = `at-${grant}-${++n}`;
      refresh.set(rt, grant);
      access.set(at, grant);
      res.end(
        JSON.stringify({ access_token: at, token_type: 'Bearer', expires_in: 3600, refresh_token: rt }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    tokenUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    authorize(grant: string): string {
      const rt = `rt-${grant}-${++n}`;
      refresh.set(rt, grant);
      return rt;
    },
    grantOf: (accessToken: string) => access.get(accessToken),
    requests: () => requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A token endpoint that accepts connections and never answers. */
async function startSilentServer() {
  const sockets = new Set<Socket>();
  const server = http.createServer(() => undefined);
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    tokenUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** As an author writes it (a spec file holds this, not the parsed form). */
function oauthSpecInput(id: string, baseUrl: string, tokenUrl: string, timeoutMs = 30_000) {
  return {
    id,
    baseUrl,
    connectionConfig: { region: { pattern: '[a-z]{2}-[0-9]', description: 'e.g. eu-1' } },
    secrets: { client_id: 'client id', client_secret: 'client secret', refresh_token: 'refresh token' },
    auth: {
      type: 'oauth2-refresh-token' as const,
      tokenUrl,
      clientId: 'client_id',
      clientSecret: 'client_secret',
      refreshToken: 'refresh_token',
      clientAuth: 'post' as const,
    },
    rateLimits: [{ limit: 1000, per: 'second' as const }],
    maxConcurrentRequests: 2,
    retry: { timeoutMs },
    resources: {
      items: {
        request: { path: '/items' },
        recordsPath: 'data',
        primaryKey: 'id',
        pagination: { type: 'cursor' as const, cursorPath: 'next_cursor', limitParam: 'limit', pageSize: 10 },
      },
    },
  } satisfies IntegrationSpecInput;
}

function oauthSpec(id: string, baseUrl: string, tokenUrl: string, timeoutMs = 30_000): IntegrationSpec {
  return defineIntegration(oauthSpecInput(id, baseUrl, tokenUrl, timeoutMs));
}

/** The CLI as a user runs it, against this test's database. */
function cli(args: string[], env: Record<string, string>) {
  return run(process.execPath, ['bin/syncwright.js', ...args], {
    env: { ...process.env, TEMPORAL_ADDRESS: '', SYNCWRIGHT_HOME: os.tmpdir(), ...env },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

describe('connection lifecycle', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let grants: Awaited<ReturnType<typeof startGrantServer>>;
  let lastToken = '';
  const box = SecretBox.fromKey(KEY);

  before(async () => {
    env = await testEnv();
    grants = await startGrantServer();
    sim = await startProviderSimulator({
      auth: {
        type: 'bearer-check',
        valid: (t) => {
          lastToken = t;
          return grants.grantOf(t) !== undefined;
        },
      },
      resources: { items: { records: generateRecords(30), pagination: 'cursor' } },
    });
  });

  after(async () => {
    await sim?.close();
    await grants?.close();
    await env?.close();
  });

  const fetchItems = async (
    open: ReturnType<typeof createConnectionClients>,
    spec: IntegrationSpec,
    id: string,
  ) => {
    const client = await open(spec.id, id);
    return client.request({
      url: client.urlFor('/items'),
      method: 'GET',
      cost: 1,
      resource: 'items',
      signal: AbortSignal.timeout(10_000),
    });
  };

  it('TypeScript API: a config value outside its pattern, a missing field, an unknown one or a missing secret is refused', async () => {
    const spec = oauthSpec(uniqueId('api').toLowerCase(), sim.url, grants.tokenUrl);
    const id = 'acme';
    const secrets = { client_id: 'cid', client_secret: 'csecret', refresh_token: 'x' };
    await assert.rejects(
      addConnection(env.db, box, spec, { integration: spec.id, id, config: { region: '../eu-1' }, secrets }),
      (e: unknown) =>
        e instanceof ConnectionConfigError &&
        e.message.includes('config.region: must match the pattern [a-z]{2}-[0-9] (the whole value)'),
    );
    await assert.rejects(
      addConnection(env.db, box, spec, {
        integration: spec.id,
        id,
        config: { colour: 'red' },
        secrets: { client_id: 'cid' },
      }),
      (e: unknown) =>
        e instanceof ConnectionConfigError &&
        e.problems.includes('config.region: required (e.g. eu-1)') &&
        e.problems.includes('config.colour: not a config field of ' + spec.id + ' (declared: region)') &&
        e.problems.includes('secrets.client_secret: required (client secret)') &&
        e.problems.includes('secrets.refresh_token: required (refresh token)'),
    );
    const stored = await env.db
      .selectFrom('connections')
      .select('id')
      .where('integration', '=', spec.id)
      .execute();
    assert.deepEqual(stored, [], 'nothing refused is stored');
    await addConnection(env.db, box, spec, { integration: spec.id, id, config: { region: 'eu-1' }, secrets });
    assert.equal((await getConnection(env.db, box, spec.id, id)).config.region, 'eu-1');
  });

  it('CLI: connection add refuses a config value outside its pattern, naming field and rule; without a key it says how to set one', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-lifecycle-'));
    await fs.writeFile(
      path.join(dir, 'cli-app.json'),
      JSON.stringify(oauthSpecInput('cli-app', sim.url, grants.tokenUrl)),
    );
    const base = ['--specs', dir, 'connection', 'add', 'cli-app', '--id', 'acme'];
    const secrets = [
      '--secret',
      'client_id=cid',
      '--secret',
      'client_secret=csecret',
      '--secret',
      'refresh_token=x',
    ];
    const env1 = { DATABASE_URL: env.databaseUrl, SYNCWRIGHT_ENCRYPTION_KEY: KEY };
    const bad = await cli([...base, '--config', 'region=..', ...secrets], env1);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^syncwright: connection cli-app\/acme: config\.region: must match the pattern \[a-z\]\{2\}-\[0-9\]/,
    );
    assert.doesNotMatch(bad.stderr, /csecret/);
    const noKey = await cli([...base, '--config', 'region=eu-1', ...secrets], {
      DATABASE_URL: env.databaseUrl,
      SYNCWRIGHT_ENCRYPTION_KEY: '',
    });
    assert.equal(noKey.code, 1);
    assert.match(
      noKey.stderr,
      /SYNCWRIGHT_ENCRYPTION_KEY is not set: set SYNCWRIGHT_ENCRYPTION_KEY .*openssl rand -base64 32/,
    );
    assert.deepEqual(
      await env.db.selectFrom('connections').select('id').where('integration', '=', 'cli-app').execute(),
      [],
    );
    const good = await cli([...base, '--config', 'region=eu-1', ...secrets], env1);
    assert.equal(good.code, 0, good.stderr);
    assert.equal((await getConnection(env.db, box, 'cli-app', 'acme')).secrets.client_secret, 'csecret');
  });

  it('testing kit: addConnection checks the spec like the CLI', async () => {
    const spec = oauthSpec('kit-app', sim.url, grants.tokenUrl);
    const saved = process.env.TEMPORAL_ADDRESS;
    process.env.TEMPORAL_ADDRESS = env.temporalAddress; // the kit reuses this file's dev server
    const stack = await createTestStack({ specs: [spec] });
    try {
      await assert.rejects(
        stack.addConnection('kit-app', 'acme', {
          config: { region: 'EU' },
          secrets: { client_id: 'cid', client_secret: 'csecret', refresh_token: 'x' },
        }),
        /connection kit-app\/acme: config\.region: must match the pattern/,
      );
      await assert.rejects(
        stack.addConnection('kit-app', 'acme', { config: { region: 'eu-1' } }),
        /secrets\.client_id: required/,
      );
    } finally {
      await stack.close();
      if (saved === undefined) delete process.env.TEMPORAL_ADDRESS;
      else process.env.TEMPORAL_ADDRESS = saved;
    }
  });

  it('removing a connection deletes its OAuth2 tokens, rate rows and leases (and no other connection’s)', async () => {
    const spec = oauthSpec(uniqueId('rm').toLowerCase(), sim.url, grants.tokenUrl);
    const open = createConnectionClients({
      db: env.db,
      specs: new Map([[spec.id, spec]]),
      secretBox: box,
      env: {},
    });
    for (const id of ['gone', 'kept']) {
      await addConnection(env.db, box, spec, {
        integration: spec.id,
        id,
        config: { region: 'eu-1' },
        secrets: { client_id: 'cid', client_secret: 'csecret', refresh_token: grants.authorize(id) },
      });
      assert.equal((await fetchItems(open, spec, id)).status, 200);
    }
    const held = await lease(env.db, `${spec.id}:gone`, 2, 60_000, { maxWaitMs: 0 });
    assert.ok(held);
    const counts = async (id: string) => {
      const key = `${spec.id}:${id}`;
      const n = async (q: Promise<{ n: string | number | bigint }>) => Number((await q).n);
      return {
        tokens: await n(
          env.db
            .selectFrom('oauth_tokens')
            .select((e) => e.fn.countAll().as('n'))
            .where('integration', '=', spec.id)
            .where('connection', '=', id)
            .executeTakeFirstOrThrow(),
        ),
        limits: await n(
          env.db
            .selectFrom('rate_limits')
            .select((e) => e.fn.countAll().as('n'))
            .where('connection_key', '=', key)
            .executeTakeFirstOrThrow(),
        ),
        ledger: await n(
          env.db
            .selectFrom('rate_ledger')
            .select((e) => e.fn.countAll().as('n'))
            .where('connection_key', '=', key)
            .executeTakeFirstOrThrow(),
        ),
        leases: await n(
          env.db
            .selectFrom('rate_leases')
            .select((e) => e.fn.countAll().as('n'))
            .where('connection_key', '=', key)
            .executeTakeFirstOrThrow(),
        ),
      };
    };
    const before = await counts('gone');
    assert.ok(
      before.tokens === 1 && before.limits > 0 && before.ledger > 0 && before.leases === 1,
      JSON.stringify(before),
    );
    const keptBefore = await counts('kept');
    assert.equal(await removeConnection(env.db, spec.id, 'gone'), true);
    assert.deepEqual(await counts('gone'), { tokens: 0, limits: 0, ledger: 0, leases: 0 });
    assert.deepEqual(await counts('kept'), keptBefore);
    assert.equal(await removeConnection(env.db, spec.id, 'gone'), false);
  });

  it('re-adding a connection with new secrets makes stored tokens and every worker’s token cache stale at once', async () => {
    const spec = oauthSpec(uniqueId('readd').toLowerCase(), sim.url, grants.tokenUrl);
    const specs = new Map([[spec.id, spec]]);
    // Two workers: each has its own token caches, both share the database.
    const worker1 = createConnectionClients({ db: env.db, specs, secretBox: box, env: {} });
    const worker2 = createConnectionClients({ db: env.db, specs, secretBox: box, env: {} });
    const save = (refreshToken: string) =>
      addConnection(env.db, box, spec, {
        integration: spec.id,
        id: 'acme',
        config: { region: 'eu-1' },
        secrets: { client_id: 'cid', client_secret: 'csecret', refresh_token: refreshToken },
      });
    await save(grants.authorize('old'));
    assert.equal((await fetchItems(worker1, spec, 'acme')).status, 200);
    assert.equal(grants.grantOf(lastToken), 'old');
    assert.equal((await fetchItems(worker2, spec, 'acme')).status, 200);
    assert.equal(grants.grantOf(lastToken), 'old');
    const liveOld = await worker1(spec.id, 'acme'); // a client opened before the re-add, still in use

    // The user authorizes again; the old grant keeps working at the provider.
    const requestsBefore = grants.requests();
    await save(grants.authorize('new'));

    assert.equal((await fetchItems(worker1, spec, 'acme')).status, 200);
    assert.equal(grants.grantOf(lastToken), 'new', 'worker 1 uses the new grant, not its cached token');
    assert.equal((await fetchItems(worker2, spec, 'acme')).status, 200);
    assert.equal(grants.grantOf(lastToken), 'new', 'worker 2 uses the new grant, not its cached token');
    assert.equal(grants.requests() - requestsBefore, 1, 'one token request for both workers');
    const row = await env.db
      .selectFrom('oauth_tokens')
      .selectAll()
      .where('integration', '=', spec.id)
      .where('connection', '=', 'acme')
      .executeTakeFirstOrThrow();
    const ctx = { integration: spec.id, connection: 'acme' };
    assert.match(box.open(row.refresh_token_sealed!, { what: 'oauth-refresh-token', ...ctx }), /^rt-new-/);
    // The client opened before the re-add refuses its old token at once (retryable: the next attempt reopens).
    await assert.rejects(
      liveOld.request({
        url: liveOld.urlFor('/items'),
        method: 'GET',
        cost: 1,
        resource: 'items',
        signal: AbortSignal.timeout(5000),
      }),
      (e: unknown) => e instanceof ProviderError && e.retryable && /secrets were replaced/.test(e.message),
    );
  });

  it(
    'a token request that gets no answer times out, and leaves no transaction or lock behind',
    { timeout: 30_000 },
    async () => {
      const silent = await startSilentServer();
      try {
        const spec = oauthSpec(uniqueId('hang').toLowerCase(), sim.url, silent.tokenUrl, 800);
        await addConnection(env.db, box, spec, {
          integration: spec.id,
          id: 'acme',
          config: { region: 'eu-1' },
          secrets: { client_id: 'cid', client_secret: 'csecret', refresh_token: 'rt' },
        });
        const open = createConnectionClients({
          db: env.db,
          specs: new Map([[spec.id, spec]]),
          secretBox: box,
          env: {},
        });
        const started = Date.now();
        await assert.rejects(fetchItems(open, spec, 'acme'), (e: unknown) => {
          return (
            e instanceof ProviderError &&
            e.kind === 'timeout' &&
            /did not answer within 800 ms/.test(e.message)
          );
        });
        assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
        const open2 = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
        where datname = current_database() and state like 'idle in transaction%'`.execute(env.db);
        assert.equal(Number(open2.rows[0]!.n), 0);
        const locks = await sql<{
          n: string;
        }>`select count(*) as n from pg_locks where locktype = 'advisory'
        and database = (select oid from pg_database where datname = current_database())`.execute(env.db);
        assert.equal(Number(locks.rows[0]!.n), 0);

        // A refresh waiting behind a lock held past its bound gives up (lock_timeout), not forever.
        const tokens = new OAuth2Tokens(
          env.db,
          box,
          spec.auth as Extract<IntegrationSpec['auth'], { type: 'oauth2-refresh-token' }>,
          {
            secrets: { client_id: 'cid', client_secret: 'csecret', refresh_token: 'rt' },
            config: {},
            env: {},
            where: 'test',
          },
          { integration: spec.id, connection: 'acme' },
          { generation: (await getConnection(env.db, box, spec.id, 'acme')).generation, timeoutMs: 300 },
        );
        let release!: () => void;
        const holding = env.db.transaction().execute(async (tx) => {
          await sql`select pg_advisory_xact_lock(hashtextextended(${`oauth:${spec.id}:acme`}, 0))`.execute(
            tx,
          );
          await new Promise<void>((r) => (release = r));
        });
        await new Promise((r) => setTimeout(r, 200));
        const waitStarted = Date.now();
        await assert.rejects(
          tokens.token(),
          (e: unknown) =>
            e instanceof ProviderError && e.kind === 'timeout' && /held its lock/.test(e.message),
        );
        const waited = Date.now() - waitStarted;
        release();
        await holding;
        assert.ok(waited >= 5000 && waited < 10_000, `waited ${waited} ms`);
      } finally {
        await silent.close();
      }
    },
  );

  it('keys rotate re-seals every secret and token under the new key while the old key still opens them', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const oldBox = SecretBox.fromKey(oldKey);
    const spec = oauthSpec(uniqueId('rot').toLowerCase(), sim.url, grants.tokenUrl);
    await saveConnection(env.db, oldBox, {
      integration: spec.id,
      id: 'a',
      config: {},
      secrets: { client_secret: 'sa' },
    });
    // A value in the format before this change (v1), as an existing database holds it.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(oldKey, 'base64'), iv);
    const ct = Buffer.concat([cipher.update(JSON.stringify({ client_secret: 'sb' })), cipher.final()]);
    await saveConnection(env.db, undefined, { integration: spec.id, id: 'b', config: {}, secrets: {} });
    await env.db
      .updateTable('connections')
      .set({ secrets_sealed: `v1:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}` })
      .where('integration', '=', spec.id)
      .where('id', '=', 'b')
      .execute();
    const ctx = { integration: spec.id, connection: 'a' };
    await env.db
      .insertInto('oauth_tokens')
      .values({
        ...ctx,
        access_token_sealed: oldBox.seal('at-1', { what: 'oauth-access-token', ...ctx }),
        refresh_token_sealed: oldBox.seal('rt-1', { what: 'oauth-refresh-token', ...ctx }),
        expires_at: null,
        generation: (await getConnection(env.db, oldBox, spec.id, 'a')).generation,
      })
      .execute();
    // A webhook subscription's secret (Graph's clientState, say), sealed to its row.
    await saveSubscription(env.db, oldBox, {
      ...ctx,
      subscriptionId: 'sub-rot',
      expiresAt: null,
      secret: 'client-state-1',
    });

    const rotated = await cli(['--json', 'keys', 'rotate'], {
      DATABASE_URL: env.databaseUrl,
      SYNCWRIGHT_ENCRYPTION_KEY: newKey,
      // The key of this file's other connections, and the one being rotated away from.
      SYNCWRIGHT_ENCRYPTION_KEYS_OLD: `${KEY}, ${oldKey}`,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    const report = JSON.parse(rotated.stdout) as { keyId: string; resealed: number; failed: string[] };
    const newBox = SecretBox.fromKey(newKey);
    assert.equal(report.keyId, newBox.keyId);
    assert.ok(report.resealed >= 5, `re-sealed ${report.resealed}`);
    assert.deepEqual(report.failed, []);
    // The new key alone opens everything now, and every value carries its id.
    assert.equal((await getConnection(env.db, newBox, spec.id, 'a')).secrets.client_secret, 'sa');
    assert.equal((await getConnection(env.db, newBox, spec.id, 'b')).secrets.client_secret, 'sb');
    const tok = await env.db
      .selectFrom('oauth_tokens')
      .selectAll()
      .where('integration', '=', spec.id)
      .executeTakeFirstOrThrow();
    assert.equal(newBox.open(tok.access_token_sealed, { what: 'oauth-access-token', ...ctx }), 'at-1');
    assert.equal(newBox.open(tok.refresh_token_sealed!, { what: 'oauth-refresh-token', ...ctx }), 'rt-1');
    const sub = await env.db
      .selectFrom('webhook_subscriptions')
      .selectAll()
      .where('integration', '=', spec.id)
      .executeTakeFirstOrThrow();
    assert.ok(newBox.isCurrent(sub.secret_sealed!), 'the subscription secret is sealed with the new key');
    assert.equal(newBox.open(sub.secret_sealed!, subscriptionSealContext(spec.id, 'a')), 'client-state-1');
    const all = await env.db
      .selectFrom('connections')
      .select('secrets_sealed')
      .where('secrets_sealed', 'is not', null)
      .execute();
    for (const r of all) assert.ok(newBox.isCurrent(r.secrets_sealed!), 'sealed with the new key');
    // Running it again changes nothing.
    const again = await cli(['--json', 'keys', 'rotate'], {
      DATABASE_URL: env.databaseUrl,
      SYNCWRIGHT_ENCRYPTION_KEY: newKey,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { resealed: number }).resealed, 0);
  });
});
