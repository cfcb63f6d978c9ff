/**
 * Auth options (`auth.type: select`), imported from an Airbyte SelectiveAuthenticator
 * (test/fixtures/airbyte/selective-auth.yaml: a personal access token or an OAuth refresh token, chosen
 * at credentials.auth_type) and synced by the real engine (real Temporal dev server, real Postgres)
 * against real HTTP servers. The API knows each account's credential and answers only a request
 * carrying exactly that one: a token account only its personal access token, an OAuth account only the
 * access token the token server issued for its refresh token. A connection whose config names no option
 * of the spec is refused when saved, and fails its sync without a request if it was stored anyway.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { listRecords } from '../../src/store/records.js';
import { addConnection, ConnectionConfigError } from '../../src/sync/connections.js';
import { importFixtureHosts } from '../helpers/airbyte-import.js';
import { pagedRecords, startRecordingServer, type RecordingServer } from '../helpers/auth-providers.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const PAT = 'pat-4c1e9a';
const PAT_ACCOUNT = 'acct-pat-77';
const CLIENT_ID = 'client-timesheet-1';
const CLIENT_SECRET = 'csecret-82bd';
const REFRESH = 'rt-0f5a3e';
const ACCESS = 'at-timesheet-19';
const OAUTH_ACCOUNT = 'acct-oauth-31';

const entries = pagedRecords(100, 't');

describe('auth options: each connection syncs with the option its config chooses', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let dir: string;
  let api: RecordingServer;
  let idp: RecordingServer;
  let spec: IntegrationSpec;

  before(async () => {
    env = await testEnv();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-auth-select-'));
    idp = await startRecordingServer((req, answer) => {
      const form = new URLSearchParams(req.body);
      const ok =
        req.method === 'POST' &&
        req.path === '/oauth2/token' &&
        form.get('grant_type') === 'refresh_token' &&
        form.get('refresh_token') === REFRESH &&
        form.get('client_id') === CLIENT_ID &&
        form.get('client_secret') === CLIENT_SECRET;
      if (!ok) return answer(400, { error: 'invalid_grant' });
      answer(200, { access_token: ACCESS, token_type: 'bearer', expires_in: 3600 });
    });
    // Each account's one credential: nothing else opens it.
    const credentialOf: Record<string, string> = {
      [PAT_ACCOUNT]: `Bearer ${PAT}`,
      [OAUTH_ACCOUNT]: `Bearer ${ACCESS}`,
    };
    api = await startRecordingServer((req, answer) => {
      const account = req.headers['timesheet-account-id'];
      const want = typeof account === 'string' ? credentialOf[account] : undefined;
      if (want === undefined || req.headers.authorization !== want)
        return answer(401, { error: 'invalid credentials for this account' });
      if (req.path !== '/v2/time_entries') return answer(404, { error: 'not found' });
      answer(200, { time_entries: entries.page(req.query) });
    });
    spec = await importFixtureHosts(dir, 'selective-auth', 'timesheet', [
      ['https://api.timesheet.test', api.url],
      ['https://id.timesheet.test', idp.url],
    ]);
    assert.equal(spec.auth.type, 'select');
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    for (const s of [api, idp]) await s?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const keys = async (connection: string) =>
    (await listRecords(env.db, { integration: 'timesheet', connection, resource: 'entries' }))
      .map((r) => r.key)
      .sort();
  const save = (id: string, option: string, account: string, secrets: Record<string, string>) =>
    addConnection(env.db, engine.box, spec, {
      integration: 'timesheet',
      id,
      config: { credentials_auth_type: option },
      secrets: { account_id: account, ...secrets },
    });

  it('the token option: its personal access token on every page, no token request', async () => {
    const conn = uniqueId('tok');
    // Saved with the token's secrets only: the OAuth option's are not needed.
    await save(conn, 'Token', PAT_ACCOUNT, { credentials_api_token: PAT });
    const from = api.requests.length;
    const handle = await engine.run(engine.input('timesheet', conn, 'entries'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 100]);
    assert.deepEqual(
      await keys(conn),
      entries.all.map((e) => e.id),
    );
    const mine = api.requests.slice(from);
    assert.deepEqual(
      mine.map((r) => [r.query.get('page'), r.headers.authorization, r.headers['timesheet-account-id']]),
      [
        ['1', `Bearer ${PAT}`, PAT_ACCOUNT],
        ['2', `Bearer ${PAT}`, PAT_ACCOUNT],
        ['3', `Bearer ${PAT}`, PAT_ACCOUNT],
      ],
    );
    assert.equal(idp.requests.length, 0, 'a token connection never asks for an OAuth token');
    const history = JSON.stringify(await handle.fetchHistory());
    assert.match(history, /syncPages/, 'the history is the real one');
    for (const secret of [PAT, PAT_ACCOUNT]) assert.ok(!history.includes(secret), 'no secret in history');
  });

  it('the OAuth option, holding the token option’s secret too: one token request, only the access token', async () => {
    const conn = uniqueId('oauth');
    await save(conn, 'Client', OAUTH_ACCOUNT, {
      credentials_client_id: CLIENT_ID,
      credentials_client_secret: CLIENT_SECRET,
      credentials_refresh_token: REFRESH,
      // Kept from a previous choice: never sent while the connection uses OAuth.
      credentials_api_token: PAT,
    });
    const from = api.requests.length;
    const handle = await engine.run(engine.input('timesheet', conn, 'entries'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 100]);
    assert.deepEqual(
      await keys(conn),
      entries.all.map((e) => e.id),
    );
    assert.equal(idp.requests.length, 1, 'one token request for the whole sync');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(idp.requests[0]!.body)), {
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    const mine = api.requests.slice(from);
    assert.equal(mine.length, 3);
    for (const r of mine) {
      assert.equal(r.headers.authorization, `Bearer ${ACCESS}`);
      assert.equal(r.headers['timesheet-account-id'], OAUTH_ACCOUNT);
    }
    for (const r of mine)
      for (const secret of [PAT, CLIENT_SECRET, REFRESH])
        assert.ok(!JSON.stringify([r.headers, r.query.toString()]).includes(secret), 'only the access token');
    assert.ok(!idp.seen().includes(PAT), 'the token host never sees the personal access token');
    const history = JSON.stringify(await handle.fetchHistory());
    for (const secret of [CLIENT_SECRET, REFRESH, ACCESS, PAT]) assert.ok(!history.includes(secret));
  });

  it('switching a connection to the other option: the new option’s credentials from the next sync', async () => {
    const conn = uniqueId('switch');
    const oauthSecrets = {
      credentials_client_id: CLIENT_ID,
      credentials_client_secret: CLIENT_SECRET,
      credentials_refresh_token: REFRESH,
    };
    await save(conn, 'Client', OAUTH_ACCOUNT, oauthSecrets);
    assert.equal(
      (await (await engine.run(engine.input('timesheet', conn, 'entries'))).result()).status,
      'completed',
    );
    // The same connection now on the token option, for the token account.
    await save(conn, 'Token', PAT_ACCOUNT, { ...oauthSecrets, credentials_api_token: PAT });
    const tokenRequests = idp.requests.length;
    const from = api.requests.length;
    const result = await (await engine.run(engine.input('timesheet', conn, 'entries'))).result();
    assert.equal(result.status, 'completed');
    const mine = api.requests.slice(from);
    assert.equal(mine.length, 3);
    for (const r of mine) assert.equal(r.headers.authorization, `Bearer ${PAT}`);
    assert.equal(idp.requests.length, tokenRequests, 'no token request on the token option');
  });

  it('a config naming no option is refused on save, and fails its sync with no request', async () => {
    const conn = uniqueId('bad');
    await assert.rejects(
      save(conn, 'PAT', PAT_ACCOUNT, { credentials_api_token: PAT }),
      (e: unknown) =>
        e instanceof ConnectionConfigError &&
        e.message ===
          `connection timesheet/${conn}: config.credentials_auth_type: "PAT" is not an auth option of this integration (options: "Token", "Client")`,
    );
    // Stored past the check (a spec changed since): the sync stops at once, naming the field and the options.
    await engine.addConnection(
      'timesheet',
      conn,
      { account_id: PAT_ACCOUNT, credentials_api_token: PAT },
      { credentials_auth_type: 'PAT' },
    );
    const apiBefore = api.requests.length;
    const idpBefore = idp.requests.length;
    const handle = await engine.run(engine.input('timesheet', conn, 'entries'));
    let message = '';
    await assert.rejects(handle.result(), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      message = `${e.message} ${e.cause?.message ?? ''} ${JSON.stringify(e.cause)}`;
      return true;
    });
    assert.match(
      message,
      /config\.credentials_auth_type: \\?"PAT\\?" is not an auth option of this integration \(options: \\?"Token\\?", \\?"Client\\?"\)/,
    );
    assert.equal(api.requests.length, apiBefore, 'no request with a credential of a guessed option');
    assert.equal(idp.requests.length, idpBefore);
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(!history.includes(PAT) && !message.includes(PAT), 'no secret in the failure');
  });
});
