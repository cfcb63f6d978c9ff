/**
 * The auth constructs of issue 20, imported from Airbyte manifests written for these tests and synced
 * by the real engine (real Temporal, real Postgres) against real HTTP servers that record what reached
 * them: each credential arrives only at the origin the spec declares for it, and no secret shows in a
 * failure or in the workflow history.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { listRecords } from '../../src/store/records.js';
import { importFixtureHosts } from '../helpers/airbyte-import.js';
import { pagedRecords, startRecordingServer, type RecordingServer } from '../helpers/auth-providers.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const KEY = 'key-7f3a91';
const ACCOUNT = 'acct-55c1d0';
const SITE = 'site-9e2b44';
const CLIENT_SECRET = 'csecret-41aa';
const REFRESH = 'rt-6b0c77';
const ACCESS = 'at-books-1';
const PASSWORD = 'pw-d4e5f6';
const SESSION = 'sess-shift-1';

const entries = pagedRecords(100, 'e');
const invoices = pagedRecords(120, 'v');
const shifts = pagedRecords(70, 's');
const products = pagedRecords(60, 'p');
const PIM_SECRET = 'pim-secret-3c9d';
const PIM_TOKEN = 'pim-token-1';

describe('import airbyte: auth constructs synced against real servers', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let dir: string;
  let ledger: RecordingServer;
  let booksApi: RecordingServer;
  let booksAuth: RecordingServer;
  let shiftsApi: RecordingServer;
  let shiftsLogin: RecordingServer;
  let pim: RecordingServer;
  let otherPim: RecordingServer;

  const importWith = (name: string, id: string, hosts: [string, string][]) =>
    importFixtureHosts(dir, name, id, hosts);

  before(async () => {
    env = await testEnv();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-auth-'));
    const basic = `Basic ${Buffer.from(`api:${KEY}`).toString('base64')}`;
    ledger = await startRecordingServer((req, answer) => {
      if (req.headers.authorization !== basic || req.headers['x-account-id'] !== ACCOUNT)
        return answer(401, { error: 'unauthorized' });
      if (req.query.get('site_key') !== SITE) return answer(400, { error: 'unknown site' });
      answer(200, { entries: entries.page(req.query) });
    });
    booksAuth = await startRecordingServer((req, answer) => {
      const form = new URLSearchParams(req.body);
      const ok =
        req.method === 'POST' &&
        req.path === '/oauth/token' &&
        form.get('grant_type') === 'refresh_token' &&
        form.get('refresh_token') === REFRESH &&
        form.get('client_id') === 'books-client' &&
        form.get('client_secret') === CLIENT_SECRET &&
        form.get('redirect_uri') === 'https://app.example/callback' &&
        form.get('subject_type') === 'user';
      if (!ok) return answer(400, { error: 'invalid_grant' });
      answer(200, { access_token: ACCESS, token_type: 'bearer', expires_in: 3600 });
    });
    booksApi = await startRecordingServer((req, answer) => {
      if (req.headers.authorization !== `Bearer ${ACCESS}`) return answer(401, { error: 'unauthorized' });
      answer(200, { invoices: invoices.page(req.query) });
    });
    shiftsLogin = await startRecordingServer((req, answer) => {
      let body: { email?: unknown; password?: unknown } = {};
      try {
        body = JSON.parse(req.body) as typeof body;
      } catch {
        // an empty or non-JSON body is refused below
      }
      if (req.path !== '/login' || body.email !== 'ada@example.com' || body.password !== PASSWORD)
        return answer(401, { error: 'bad login' });
      answer(200, { token: SESSION });
    });
    shiftsApi = await startRecordingServer((req, answer) => {
      if (req.headers.authorization !== `Bearer ${SESSION}`) return answer(401, { error: 'unauthorized' });
      if (req.path !== '/2/shifts') return answer(404, { error: 'not found' });
      answer(200, { shifts: shifts.page(req.query) });
    });
    // One instance per connection (config.host): login and API on it, the login authenticated by basic.
    const pimHandler: Parameters<typeof startRecordingServer>[0] = (req, answer) => {
      if (req.path === '/api/oauth/v1/token') {
        const basic = `Basic ${Buffer.from(`pim-client:${PIM_SECRET}`).toString('base64')}`;
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(req.body) as Record<string, unknown>;
        } catch {
          // refused below
        }
        const ok =
          req.method === 'POST' &&
          req.headers.authorization === basic &&
          body.username === 'ada' &&
          body.password === PASSWORD &&
          body.grant_type === 'password';
        return ok ? answer(200, { access_token: PIM_TOKEN }) : answer(401, { error: 'bad client' });
      }
      if (req.headers.authorization !== `Bearer ${PIM_TOKEN}`) return answer(401, { error: 'unauthorized' });
      if (req.path !== '/api/rest/v1/products') return answer(404, { error: 'not found' });
      answer(200, { items: products.page(req.query) });
    };
    pim = await startRecordingServer(pimHandler);
    otherPim = await startRecordingServer(pimHandler);
    const specs = [
      await importWith('session-basic-config', 'pim', []),
      await importWith('basic-fixed-extra', 'ledger', [['https://api.ledger.test', ledger.url]]),
      await importWith('oauth-token-params', 'books', [
        ['https://api.books.test', booksApi.url],
        ['https://auth.books.test', booksAuth.url],
      ]),
      await importWith('session-login-host', 'shifts', [
        ['https://api.shifts.test', shiftsApi.url],
        ['https://login.shifts.test', shiftsLogin.url],
      ]),
    ];
    engine = await startEngine(env, specs);
  });

  after(async () => {
    await engine?.close();
    for (const s of [ledger, booksApi, booksAuth, shiftsApi, shiftsLogin, pim, otherPim]) await s?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const keys = async (integration: string, connection: string, resource: string) =>
    (await listRecords(env.db, { integration, connection, resource })).map((r) => r.key).sort();

  /** Runs a sync expected to fail and returns its failure message and history, both as text. */
  async function failing(integration: string, conn: string, resource: string) {
    const handle = await engine.run(engine.input(integration, conn, resource));
    let message = '';
    await assert.rejects(handle.result(), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      message = `${e.message} ${e.cause?.message ?? ''} ${JSON.stringify(e.cause)}`;
      return true;
    });
    return { message, history: JSON.stringify(await handle.fetchHistory()) };
  }

  it('basic auth with fixed user text and two extra secrets: every page carries all three, nothing leaks', async () => {
    const conn = uniqueId('l');
    await engine.addConnection('ledger', conn, { api_key: KEY, account_id: ACCOUNT, site_key: SITE });
    const handle = await engine.run(engine.input('ledger', conn, 'entries'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 100]);
    assert.deepEqual(
      await keys('ledger', conn, 'entries'),
      entries.all.map((e) => e.id),
    );
    assert.deepEqual(
      ledger.requests.map((r) => r.query.get('page')),
      ['1', '2', '3'],
      'three pages of 40, each authenticated',
    );
    const history = JSON.stringify(await handle.fetchHistory());
    assert.match(history, /syncPages/, 'the history is the real one');
    for (const secret of [KEY, ACCOUNT, SITE]) assert.ok(!history.includes(secret), 'no secret in history');

    // A refused site key: the failure names the request with the parameter redacted.
    const bad = uniqueId('l');
    await engine.addConnection('ledger', bad, {
      api_key: KEY,
      account_id: ACCOUNT,
      site_key: 'site-wrong-1',
    });
    const failed = await failing('ledger', bad, 'entries');
    assert.match(failed.message, /400/);
    assert.match(failed.message, /site_key=\[redacted\]/);
    for (const text of [failed.message, failed.history]) {
      assert.ok(!text.includes('site-wrong-1'), 'the extra query secret is redacted');
      assert.ok(!text.includes(KEY) && !text.includes(ACCOUNT), 'no secret in the failure');
    }
  });

  it('OAuth refresh with tokenParams: the token request carries them, the API gets only the token', async () => {
    const conn = uniqueId('b');
    await engine.addConnection(
      'books',
      conn,
      { client_id: 'books-client', client_secret: CLIENT_SECRET, refresh_token: REFRESH },
      { redirect_uri: 'https://app.example/callback' },
    );
    const handle = await engine.run(engine.input('books', conn, 'invoices'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 120]);
    assert.deepEqual(
      await keys('books', conn, 'invoices'),
      invoices.all.map((e) => e.id),
    );
    assert.equal(booksAuth.requests.length, 1, 'one token request');
    const form = Object.fromEntries(new URLSearchParams(booksAuth.requests[0]!.body));
    assert.deepEqual(form, {
      redirect_uri: 'https://app.example/callback',
      subject_type: 'user',
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
      client_id: 'books-client',
      client_secret: CLIENT_SECRET,
    });
    assert.ok(!booksAuth.seen().includes(ACCESS), 'the access token never goes back to the token host');
    for (const secret of [CLIENT_SECRET, REFRESH])
      assert.ok(!booksApi.seen().includes(secret), 'the API host never sees the client credentials');
    const history = JSON.stringify(await handle.fetchHistory());
    for (const secret of [CLIENT_SECRET, REFRESH, ACCESS]) assert.ok(!history.includes(secret));
  });

  it('a session login on its own host: login secrets only there, the session token only to the API', async () => {
    const conn = uniqueId('s');
    await engine.addConnection('shifts', conn, { email: 'ada@example.com', password: PASSWORD });
    const handle = await engine.run(engine.input('shifts', conn, 'shifts'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 70]);
    assert.deepEqual(
      await keys('shifts', conn, 'shifts'),
      shifts.all.map((e) => e.id),
    );
    assert.deepEqual(
      shiftsLogin.requests.map((r) => [r.method, r.path, r.headers.authorization]),
      [['POST', '/login', undefined]],
      'one login, carrying no API credentials',
    );
    assert.ok(!shiftsLogin.seen().includes(SESSION));
    assert.ok(!shiftsApi.seen().includes(PASSWORD), 'the API host never sees the login password');
    assert.ok(!shiftsApi.seen().includes('ada@example.com'));
    assert.equal(shiftsApi.requests.length, 3);
    const history = JSON.stringify(await handle.fetchHistory());
    for (const secret of [PASSWORD, SESSION]) assert.ok(!history.includes(secret));

    const bad = uniqueId('s');
    await engine.addConnection('shifts', bad, { email: 'ada@example.com', password: 'pw-wrong-22' });
    const failed = await failing('shifts', bad, 'shifts');
    assert.match(failed.message, /the login request was refused \(401\)/);
    for (const text of [failed.message, failed.history]) assert.ok(!text.includes('pw-wrong-22'));
  });

  it('a login under each connection’s own instance, authenticated with basic: each instance gets only its own', async () => {
    const secrets = { client_id: 'pim-client', secret: PIM_SECRET, api_username: 'ada', password: PASSWORD };
    const a = uniqueId('p');
    const b = uniqueId('p');
    await engine.addConnection('pim', a, secrets, { host: pim.url });
    await engine.addConnection('pim', b, secrets, { host: otherPim.url });
    const handle = await engine.run(engine.input('pim', a, 'products'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 60]);
    assert.deepEqual(
      await keys('pim', a, 'products'),
      products.all.map((e) => e.id),
    );
    assert.equal(otherPim.requests.length, 0, 'the other instance saw nothing of connection a');
    const logins = pim.requests.filter((r) => r.path === '/api/oauth/v1/token');
    const reads = pim.requests.filter((r) => r.path === '/api/rest/v1/products');
    assert.equal(logins.length, 1);
    assert.equal(reads.length, 3);
    for (const r of reads) {
      assert.equal(r.headers.authorization, `Bearer ${PIM_TOKEN}`);
      assert.ok(!JSON.stringify(r).includes(PASSWORD), 'the API requests carry no login secret');
    }
    const history = JSON.stringify(await handle.fetchHistory());
    for (const secret of [PIM_SECRET, PASSWORD, PIM_TOKEN]) assert.ok(!history.includes(secret));
    // Connection b logs in at its own instance only.
    const second = await (await engine.run(engine.input('pim', b, 'products'))).result();
    assert.deepEqual([second.status, second.inserted], ['completed', 60]);
    assert.equal(otherPim.requests.filter((r) => r.path === '/api/oauth/v1/token').length, 1);
    assert.equal(pim.requests.length, 4, 'instance a got nothing of connection b');
  });
});
