import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { connectionAuthorizeCommand } from '../../src/cli/authorize.js';
import type { CliContext } from '../../src/cli/context.js';
import { ShutdownScope } from '../../src/cli/shutdown.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { loadSpecs } from '../../src/spec/load.js';
import { listRecords } from '../../src/store/records.js';
import { startOAuthServer, type OAuthServer } from '../../src/testing/oauth-server.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { startEngine, TEST_KEY, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const CLIENT_SECRET = 'csecret-do-not-leak';
const INSTANCE = 'https://acme.my.salesforce.com';
/** What must never appear in output, errors or Temporal history. */
const LEAKS = /csecret|\bat-\d|\brt-\d|\bcode-\d|PRIVATE KEY|code_verifier|Bearer /;

const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;

interface CliRun {
  /** The authorize URL the command printed. */
  url: Promise<string>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

describe('OAuth2 authorization code (connection authorize) and JWT-bearer grants', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let code: OAuthServer;
  let jwt: OAuthServer;
  let jwtEs: OAuthServer;
  let engine: EngineHarness;
  let specDir: string;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const resource = {
    request: { path: '/items' },
    recordsPath: 'data',
    primaryKey: 'id',
    pagination: { type: 'cursor', cursorPath: 'next_cursor', limitParam: 'limit', pageSize: 100 },
  };

  before(async () => {
    env = await testEnv();
    code = await startOAuthServer({
      clientId: 'cid',
      clientSecret: CLIENT_SECRET,
      publicClient: true,
      tokenResponse: { instance_url: INSTANCE },
    });
    jwt = await startOAuthServer({
      clientId: 'unused',
      clientSecret: 'unused',
      jwtBearer: { publicKey: rsa.publicKey, issuer: 'sa@proj.iam.example.com' },
    });
    jwtEs = await startOAuthServer({
      clientId: 'unused',
      clientSecret: 'unused',
      jwtBearer: { publicKey: ec.publicKey, issuer: 'sa@proj.iam.example.com' },
    });
    sim = await startProviderSimulator({
      auth: { type: 'bearer-check', valid: (t) => code.isValid(t) || jwt.isValid(t) || jwtEs.isValid(t) },
      resources: { items: { records: generateRecords(250), pagination: 'cursor' } },
    });
    const codeAuth = {
      type: 'oauth2-authorization-code',
      authorizeUrl: code.authorizeUrl,
      tokenUrl: code.tokenUrl,
      clientId: 'client_id',
      scopes: ['read', 'refresh_token'],
      authorizeParams: { access_type: 'offline', prompt: 'consent' },
      tokenResponseFields: { instance_url: 'instanceUrl' },
    };
    const instanceConfig = {
      instanceUrl: { pattern: 'https://[a-z0-9-]+\\.my\\.salesforce\\.com', description: 'from the token' },
    };
    const specs = {
      codeapp: {
        id: 'codeapp',
        baseUrl: sim.url,
        connectionConfig: instanceConfig,
        secrets: { client_id: 'OAuth client id', client_secret: 'OAuth client secret' },
        auth: { ...codeAuth, clientSecret: 'client_secret' },
        resources: { items: resource },
      },
      publicapp: {
        id: 'publicapp',
        baseUrl: sim.url,
        connectionConfig: instanceConfig,
        secrets: { client_id: 'OAuth client id' },
        auth: codeAuth,
        resources: { items: resource },
      },
      nofield: {
        id: 'nofield',
        baseUrl: sim.url,
        connectionConfig: { apiDomain: { description: 'from the token' } },
        secrets: { client_id: 'OAuth client id' },
        auth: { ...codeAuth, tokenResponseFields: { api_domain: 'apiDomain' } },
        resources: { items: resource },
      },
      narrow: {
        id: 'narrow',
        baseUrl: sim.url,
        connectionConfig: { instanceUrl: { pattern: 'https://[a-z]+\\.example\\.com' } },
        secrets: { client_id: 'OAuth client id' },
        auth: codeAuth,
        resources: { items: resource },
      },
      jwtapp: {
        id: 'jwtapp',
        baseUrl: sim.url,
        secrets: { private_key: 'service account key (PEM)', client_email: 'service account email' },
        auth: {
          type: 'oauth2-jwt-bearer',
          tokenUrl: jwt.tokenUrl,
          privateKey: 'private_key',
          issuer: 'client_email',
          scopes: ['https://www.googleapis.com/auth/drive.readonly'],
        },
        resources: { items: resource },
      },
      jwtes: {
        id: 'jwtes',
        baseUrl: sim.url,
        secrets: { private_key: 'key (PEM)', client_email: 'issuer' },
        auth: {
          type: 'oauth2-jwt-bearer',
          tokenUrl: jwtEs.tokenUrl,
          privateKey: 'private_key',
          issuer: 'client_email',
          algorithm: 'ES256',
          scopesIn: 'request',
          scopes: ['read'],
        },
        resources: { items: resource },
      },
    };
    specDir = await mkdtemp(path.join(tmpdir(), 'syncwright-authorize-'));
    for (const [id, spec] of Object.entries(specs))
      await writeFile(path.join(specDir, `${id}.json`), JSON.stringify(spec));
    engine = await startEngine(env, [...(await loadSpecs(specDir)).values()]);
  });

  after(async () => {
    await engine?.close();
    await sim?.close();
    await code?.close();
    await jwt?.close();
    await jwtEs?.close();
    await env?.close();
    if (specDir) await rm(specDir, { recursive: true, force: true });
  });

  /** `syncwright connection authorize` as a user runs it, in its own process. */
  const authorizeCli = (integration: string, id: string, secrets: Record<string, string>): CliRun => {
    const args = ['--import', 'tsx', 'src/cli/main.ts', 'connection', 'authorize', integration];
    args.push('--id', id, '--port', '0', '--no-browser', '--timeout', '60');
    for (const [k, v] of Object.entries(secrets)) args.push('--secret', `${k}=${v}`);
    const child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        DATABASE_URL: env.databaseUrl,
        SYNCWRIGHT_ENCRYPTION_KEY: TEST_KEY,
        SYNCWRIGHT_SPECS: specDir,
        CI: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let found: (url: string) => void;
    const url = new Promise<string>((r) => (found = r));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith(code.authorizeUrl));
      if (line) found(line.trim());
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('exit', (c) => resolve({ code: c, stdout, stderr })),
    );
    void done.then((r) => found(`exited ${r.code}: ${r.stderr}`));
    return { url, done };
  };

  /** What a browser does with the URL: the provider approves and redirects to the callback. */
  const approve = async (authorizeUrl: string): Promise<URL> => {
    assert.ok(authorizeUrl.startsWith(code.authorizeUrl), authorizeUrl);
    const r = await fetch(authorizeUrl, { redirect: 'manual' });
    assert.equal(r.status, 302);
    return new URL(r.headers.get('location')!);
  };
  const follow = async (callback: URL) => {
    const r = await fetch(callback);
    return { status: r.status, text: await r.text() };
  };
  const tokenRow = (integration: string, id: string) =>
    env.db
      .selectFrom('oauth_tokens')
      .selectAll()
      .where('integration', '=', integration)
      .where('connection', '=', id)
      .executeTakeFirst();

  it('authorize in a browser, then sync with the stored token; it refreshes with the stored refresh token', async () => {
    const conn = uniqueId('acme');
    const run = authorizeCli('codeapp', conn, { client_id: 'cid', client_secret: CLIENT_SECRET });
    const url = new URL(await run.url);
    // PKCE S256 always, the spec's scopes and extra parameters, a state, the loopback callback.
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url.searchParams.get('scope'), 'read refresh_token');
    assert.equal(url.searchParams.get('access_type'), 'offline');
    assert.match(url.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.ok((url.searchParams.get('state') ?? '').length >= 32);
    const page = await follow(await approve(url.toString()));
    assert.deepEqual([page.status, /is authorized/.test(page.text)], [200, true]);
    const out = await run.done;
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      new RegExp(`connection codeapp/${conn} authorized: refresh token stored encrypted`),
    );
    assert.doesNotMatch(out.stdout + out.stderr, LEAKS);

    const saved = await env.db
      .selectFrom('connections')
      .selectAll()
      .where('id', '=', conn)
      .executeTakeFirstOrThrow();
    assert.deepEqual(saved.config, { instanceUrl: INSTANCE }, 'the token response field is in the config');
    const row = await tokenRow('codeapp', conn);
    assert.ok(row?.refresh_token_sealed, 'the refresh token is stored');
    assert.equal(String(row.generation), String(saved.generation));
    assert.doesNotMatch(row.refresh_token_sealed + row.access_token_sealed, /rt-|at-/, 'sealed');

    // The sync uses the access token from the authorization: no token request.
    const before = code.requests();
    const handle = await engine.run(engine.input('codeapp', conn, 'items'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 250]);
    assert.equal(code.requests(), before);
    const history = JSON.stringify(await handle.fetchHistory());
    assert.match(history, /syncPages/, 'the history is the real one');
    assert.doesNotMatch(history, LEAKS, 'no secret or token in the Temporal history');

    // Expired and revoked: the next sync refreshes with the stored (rotating) refresh token.
    await env.db
      .updateTable('oauth_tokens')
      .set({ expires_at: new Date(0) })
      .where('connection', '=', conn)
      .execute();
    code.revokeAll();
    const again = await (await engine.run(engine.input('codeapp', conn, 'items'))).result();
    assert.deepEqual([again.status, again.unchanged], ['completed', 250]);
    assert.equal(code.requests() - before, 1, 'one refresh');
    assert.equal(code.refusals().length, 0, code.refusals().join(', '));
  });

  /** The command's function in this process, with a "browser" that approves the printed URL. */
  const authorizeHere = async (
    integration: string,
    id: string,
    secret: string[],
    browse: (url: string) => Promise<{ status: number; text: string }> = (url) => approve(url).then(follow),
    timeoutSeconds = 30,
  ) => {
    const lines: string[] = [];
    const scope = new ShutdownScope();
    // Asserted, not annotated: the context may grow fields (a stderr `note`) this test gives anyway.
    const ctx = {
      config: loadConfig({
        DATABASE_URL: env.databaseUrl,
        SYNCWRIGHT_ENCRYPTION_KEY: TEST_KEY,
        SYNCWRIGHT_SPECS: specDir,
      }),
      log: createLogger('warn'),
      scope,
      verbose: false,
      json: false,
      out: (l: string) => lines.push(l),
      note: (l: string) => lines.push(l),
    } as CliContext;
    let browsed: Promise<{ status: number; text: string }> | undefined;
    try {
      await connectionAuthorizeCommand(ctx, integration, {
        id,
        config: [],
        secret,
        port: 0,
        browser: false,
        timeoutSeconds,
        onAuthorizeUrl: (url) => {
          browsed = browse(url);
        },
      });
    } finally {
      await scope.close();
    }
    return { lines, page: await browsed! };
  };

  it('a public client (no secret) authorizes through the command function with PKCE alone', async () => {
    const conn = uniqueId('pub');
    const { lines, page } = await authorizeHere('publicapp', conn, ['client_id=cid']);
    assert.equal(page.status, 200);
    assert.match(lines.at(-1)!, /authorized: refresh token stored encrypted; config instanceUrl/);
    assert.doesNotMatch(lines.join('\n'), LEAKS);
    const request = code.authorizeRequests().at(-1)!;
    assert.equal(request.client_id, 'cid');
    const result = await (await engine.run(engine.input('publicapp', conn, 'items'))).result();
    assert.deepEqual([result.status, result.inserted], ['completed', 250]);
  });

  it('a token response without a field the connection needs or with one outside its pattern, no answer in time, or a spec of another auth type: refused, nothing saved', async () => {
    const conn = uniqueId('nofield');
    await assert.rejects(
      authorizeHere('nofield', conn, ['client_id=cid']),
      /the token response has no api_domain \(auth\.tokenResponseFields\), which the connection needs/,
    );
    // The provider's instance URL is outside the spec's pattern: not saved, so credentials never go there.
    await assert.rejects(
      authorizeHere('narrow', conn, ['client_id=cid']),
      /config\.instanceUrl: must match the pattern https:\/\/\[a-z\]\+\\\.example\\\.com/,
    );
    // Nobody answers: the wait ends with a clear message, and nothing is saved.
    const started = Date.now();
    await assert.rejects(
      authorizeHere('publicapp', conn, ['client_id=cid'], () => Promise.resolve({ status: 0, text: '' }), 1),
      /no answer on the callback within 1 s: run the command again/,
    );
    assert.ok(Date.now() - started < 5000);
    await assert.rejects(
      authorizeHere('jwtapp', conn, []),
      /jwtapp uses auth "oauth2-jwt-bearer", not oauth2-authorization-code: add its connections with `syncwright connection add`/,
    );
    const saved = await env.db
      .selectFrom('connections')
      .select('id')
      .where('id', '=', conn)
      .executeTakeFirst();
    assert.equal(saved, undefined);
  });

  it('a callback with another state is refused: nothing is exchanged or saved', async () => {
    const conn = uniqueId('state');
    const run = authorizeCli('codeapp', conn, { client_id: 'cid', client_secret: CLIENT_SECRET });
    const callback = await approve(await run.url);
    callback.searchParams.set('state', 'forged-state');
    const requests = code.requests();
    const page = await follow(callback);
    assert.equal(page.status, 400);
    const out = await run.done;
    assert.equal(out.code, 1);
    assert.match(out.stderr, /not the answer to this authorization request/);
    assert.equal(code.requests(), requests, 'the code was never sent to the token endpoint');
    const saved = await env.db
      .selectFrom('connections')
      .select('id')
      .where('id', '=', conn)
      .executeTakeFirst();
    assert.equal(saved, undefined);
    assert.doesNotMatch(out.stdout + out.stderr, LEAKS);
  });

  it('a code used once is refused the second time (and the tokens it gave are revoked)', async () => {
    const first = uniqueId('reuse');
    const run1 = authorizeCli('codeapp', first, { client_id: 'cid', client_secret: CLIENT_SECRET });
    const callback1 = await approve(await run1.url);
    assert.equal((await follow(callback1)).status, 200);
    assert.equal((await run1.done).code, 0);

    // A second run is handed the first run's code (with its own state, so only the code is wrong).
    const second = uniqueId('reuse');
    const run2 = authorizeCli('codeapp', second, { client_id: 'cid', client_secret: CLIENT_SECRET });
    const state2 = new URL(await run2.url).searchParams.get('state')!;
    const replay = new URL(new URL(await run2.url).searchParams.get('redirect_uri')!);
    replay.searchParams.set('code', callback1.searchParams.get('code')!);
    replay.searchParams.set('state', state2);
    assert.equal((await follow(replay)).status, 400);
    const out = await run2.done;
    assert.equal(out.code, 1);
    assert.match(
      out.stderr,
      /refused the connection's credentials \(400, invalid_grant\): authorize the connection again/,
    );
    assert.equal(code.refusals().at(-1), 'code reused');
    assert.doesNotMatch(out.stdout + out.stderr, LEAKS);
    const saved = await env.db
      .selectFrom('connections')
      .select('id')
      .where('id', '=', second)
      .executeTakeFirst();
    assert.equal(saved, undefined);
    // RFC 6749 §4.1.2: the first connection's tokens are revoked; its sync fails as an AuthError.
    const handle = await engine.run(engine.input('codeapp', first, 'items'));
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.equal((error.cause as { type?: string }).type, 'AuthError');
      return true;
    });
  });

  it('a code issued for another PKCE challenge is refused at the token endpoint', async () => {
    const conn = uniqueId('pkce');
    const run = authorizeCli('codeapp', conn, { client_id: 'cid', client_secret: CLIENT_SECRET });
    // An attacker's code: obtained with their own challenge, injected into this client's callback.
    const url = new URL(await run.url);
    url.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    assert.equal((await follow(await approve(url.toString()))).status, 400);
    const out = await run.done;
    assert.equal(out.code, 1);
    assert.match(out.stderr, /\(400, invalid_grant\)/);
    assert.equal(code.refusals().at(-1), 'PKCE verifier mismatch');
    const saved = await env.db
      .selectFrom('connections')
      .select('id')
      .where('id', '=', conn)
      .executeTakeFirst();
    assert.equal(saved, undefined);
  });

  it('a connection saved without authorizing fails its sync with an AuthError that says to authorize', async () => {
    const conn = uniqueId('unauth');
    await engine.addConnection(
      'codeapp',
      conn,
      { client_id: 'cid', client_secret: CLIENT_SECRET },
      {
        instanceUrl: INSTANCE,
      },
    );
    const handle = await engine.run(engine.input('codeapp', conn, 'items'));
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.equal((error.cause as { type?: string }).type, 'AuthError');
      assert.match(error.cause?.message ?? '', /syncwright connection authorize codeapp --id/);
      return true;
    });
  });

  it('JWT bearer (RS256): a service account syncs with one token request, no key in history', async () => {
    const conn = uniqueId('sa');
    await engine.addConnection('jwtapp', conn, {
      private_key: pem(rsa.privateKey),
      client_email: 'sa@proj.iam.example.com',
    });
    const before = jwt.requests();
    const handle = await engine.run(engine.input('jwtapp', conn, 'items'));
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 250]);
    assert.equal(jwt.requests() - before, 1);
    assert.deepEqual(jwt.refusals(), []);
    assert.doesNotMatch(JSON.stringify(await handle.fetchHistory()), LEAKS);
    const row = await tokenRow('jwtapp', conn);
    assert.equal(row?.refresh_token_sealed, null, 'a JWT-bearer grant has no refresh token');
  });

  it('JWT bearer (ES256, scopes in the request) syncs', async () => {
    const conn = uniqueId('es');
    await engine.addConnection('jwtes', conn, {
      private_key: pem(ec.privateKey),
      client_email: 'sa@proj.iam.example.com',
    });
    const result = await (await engine.run(engine.input('jwtes', conn, 'items'))).result();
    assert.deepEqual([result.status, result.inserted], ['completed', 250]);
    assert.deepEqual(jwtEs.refusals(), []);
  });

  it('JWT bearer with a wrong key is refused with a clear AuthError; a non-PEM key too, without quoting it', async () => {
    const wrong = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const conn = uniqueId('wrongkey');
    await engine.addConnection('jwtapp', conn, {
      private_key: pem(wrong.privateKey),
      client_email: 'sa@proj.iam.example.com',
    });
    const failure = async (id: string) => {
      const handle = await engine.run(engine.input('jwtapp', id, 'items'));
      let message = '';
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal((error.cause as { type?: string }).type, 'AuthError');
        message = error.cause?.message ?? '';
        return true;
      });
      assert.doesNotMatch(message + JSON.stringify(await handle.fetchHistory()), LEAKS);
      return message;
    };
    assert.match(
      await failure(conn),
      /token endpoint refused the connection's credentials \(400, invalid_grant\): fix the connection's private key, issuer or subject/,
    );
    assert.equal(jwt.refusals().at(-1), 'assertion signature does not verify');
    const records = await listRecords(env.db, { integration: 'jwtapp', connection: conn, resource: 'items' });
    assert.equal(records.length, 0);

    const garbled = uniqueId('garbled');
    await engine.addConnection('jwtapp', garbled, {
      private_key: 'not-a-key-SECRETMATERIAL',
      client_email: 'sa@proj.iam.example.com',
    });
    const message = await failure(garbled);
    assert.match(message, /is not a PEM private key/);
    assert.doesNotMatch(message, /SECRETMATERIAL/);
  });
});
