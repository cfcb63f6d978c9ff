import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { defineIntegration } from '../../src/spec/define.js';
import { saveConnection } from '../../src/store/connections.js';
import { listRecords } from '../../src/store/records.js';
import { startOAuthServer, type OAuthServer } from '../../src/testing/oauth-server.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { startEngine, TEST_KEY, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const run = promisify(execFile);
const CLIENT_SECRET = 'csecret-do-not-leak';

describe('OAuth2: client credentials and rotating refresh tokens', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let cc: OAuthServer;
  let rt: OAuthServer;
  let engine: EngineHarness;
  let accept: (token: string) => boolean;

  before(async () => {
    env = await testEnv();
    cc = await startOAuthServer({ clientId: 'cid', clientSecret: CLIENT_SECRET });
    rt = await startOAuthServer({ clientId: 'cid', clientSecret: CLIENT_SECRET, refreshToken: 'rt-initial' });
    accept = (t) => cc.isValid(t) || rt.isValid(t);
    sim = await startProviderSimulator({
      auth: { type: 'bearer-check', valid: (t) => accept(t) },
      resources: { items: { records: generateRecords(250), pagination: 'cursor' } },
    });
    const resource = {
      request: { path: '/items' },
      recordsPath: 'data',
      primaryKey: 'id',
      pagination: { type: 'cursor' as const, cursorPath: 'next_cursor', limitParam: 'limit', pageSize: 100 },
    };
    const secrets = {
      client_id: 'client id',
      client_secret: 'client secret',
      refresh_token: 'first refresh token',
    };
    engine = await startEngine(env, [
      defineIntegration({
        id: 'ccapp',
        baseUrl: sim.url,
        secrets: { client_id: 'client id', client_secret: 'client secret' },
        auth: {
          type: 'oauth2-client-credentials',
          tokenUrl: cc.tokenUrl,
          clientId: 'client_id',
          clientSecret: 'client_secret',
          scopes: ['read'],
        },
        resources: { items: resource },
      }),
      defineIntegration({
        id: 'rtapp',
        baseUrl: sim.url,
        secrets,
        auth: {
          type: 'oauth2-refresh-token',
          tokenUrl: rt.tokenUrl,
          clientId: 'client_id',
          clientSecret: 'client_secret',
          refreshToken: 'refresh_token',
          clientAuth: 'post',
        },
        resources: { items: resource },
      }),
    ]);
  });

  after(async () => {
    await engine?.close();
    await sim?.close();
    await cc?.close();
    await rt?.close();
    await env?.close();
  });

  it('client credentials: one token request serves the whole sync (cached in memory and Postgres)', async () => {
    const conn = uniqueId('c');
    await engine.addConnection('ccapp', conn, { client_id: 'cid', client_secret: CLIENT_SECRET });
    const before = cc.requests();
    const handle = await engine.run(engine.input('ccapp', conn, 'items'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 250]);
    const history = JSON.stringify(await handle.fetchHistory());
    assert.doesNotMatch(history, /csecret|at-\d|Bearer/, 'no secret or token in the Temporal history');
    assert.match(history, /syncPages/, 'the history is the real one');
    assert.equal(cc.requests() - before, 1);
    const stored = await env.db
      .selectFrom('oauth_tokens')
      .selectAll()
      .where('connection', '=', conn)
      .executeTakeFirstOrThrow();
    assert.doesNotMatch(stored.access_token_sealed, /at-/, 'tokens are stored sealed');
  });

  it('refresh tokens: rotated ones are persisted and used; an expired token is refreshed; 401 refreshes once', async () => {
    const conn = uniqueId('r');
    await engine.addConnection('rtapp', conn, {
      client_id: 'cid',
      client_secret: CLIENT_SECRET,
      refresh_token: 'rt-initial',
    });
    await (await engine.run(engine.input('rtapp', conn, 'items'))).result();
    assert.notEqual(rt.currentRefreshToken(), 'rt-initial', 'the server rotated the refresh token');

    // Expired in Postgres (and this worker's memory is stale too): the next sync refreshes with the
    // rotated refresh token — the original one would now be refused.
    await env.db
      .updateTable('oauth_tokens')
      .set({ expires_at: new Date(0) })
      .where('connection', '=', conn)
      .execute();
    rt.revokeAll();
    const before = rt.requests();
    const again = await (await engine.run(engine.input('rtapp', conn, 'items'))).result();
    assert.equal(again.status, 'completed');
    assert.equal(again.unchanged, 250);
    assert.equal(rt.requests() - before, 1, 'the 401 on the stale token triggered exactly one refresh');
  });

  it('a 401 that survives one refresh fails the run with a clear message and no secret in it', async () => {
    const conn = uniqueId('r');
    await engine.addConnection('rtapp', conn, {
      client_id: 'cid',
      client_secret: CLIENT_SECRET,
      refresh_token: rt.currentRefreshToken()!,
    });
    const saved = accept;
    accept = () => false;
    try {
      const before = rt.requests();
      const handle = await engine.run(engine.input('rtapp', conn, 'items'));
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal((error.cause as { type?: string }).type, 'AuthError');
        assert.match(error.cause?.message ?? '', /credentials were refused; fix them/);
        const all = JSON.stringify(error) + String(error.cause?.message);
        assert.doesNotMatch(all, /csecret|rt-\d|at-\d/);
        return true;
      });
      assert.equal(rt.requests() - before, 2, 'the first token, then one refresh after the 401');
    } finally {
      accept = saved;
    }
    const records = await listRecords(env.db, { integration: 'rtapp', connection: conn, resource: 'items' });
    assert.equal(records.length, 0);
  });

  it('two processes needing a fresh token at once make exactly one token request', async () => {
    const conn = uniqueId('race');
    await saveConnection(env.db, engine.box, { integration: 'oauthy', id: conn, config: {}, secrets: {} });
    const startAt = String(Date.now() + 1500);
    const before = rt.requests();
    const child = () =>
      run(process.execPath, ['--import', 'tsx', 'test/fixtures/oauth-token-process.ts'], {
        env: {
          ...process.env,
          DATABASE_URL: env.databaseUrl,
          TOKEN_URL: rt.tokenUrl,
          ENC_KEY: TEST_KEY,
          CONNECTION: conn,
          REFRESH_TOKEN: rt.currentRefreshToken()!,
          START_AT: startAt,
          CLIENT_SECRET,
        },
      });
    const [a, b] = await Promise.all([child(), child()]);
    const ra = JSON.parse(a.stdout) as { token: string; requests: number };
    const rb = JSON.parse(b.stdout) as { token: string; requests: number };
    assert.equal(rt.requests() - before, 1);
    assert.equal(ra.token, rb.token);
    assert.equal(ra.requests + rb.requests, 1);
  });
});
