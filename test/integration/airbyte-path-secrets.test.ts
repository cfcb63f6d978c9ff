/**
 * Secrets in URL paths, imported from an Airbyte manifest written for this test (after Microsoft
 * Graph's and CallRail's connectors: test/fixtures/airbyte/path-secrets.yaml) and synced by the real
 * engine (real Temporal, real Postgres) against real HTTP servers that answer only the exact requests:
 * the token request to /<tenant>/oauth2/v2.0/token, and reads of /v1.0/accounts/<account>/…, paged by
 * OData's "@odata.nextLink" (a key with dots) whose URL holds the account id again.
 *
 * Then the redaction proof: with pages checkpointed one per activity (the next link travels through
 * Temporal), and with a refused account whose 404 quotes the path back, neither secret value appears in
 * the worker's logs, the failure, the workflow history (activity inputs, results, heartbeats,
 * failures), any row of the database, or the CLI's `run` and `runs` output.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { WorkflowFailedError } from '@temporalio/client';
import { pino } from 'pino';
import { sql } from 'kysely';
import { stringify } from 'yaml';
import { createActivities } from '../../activities/index.js';
import { listRecords } from '../../src/store/records.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import type { SyncWorkflowInput } from '../../src/sync/types.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { importFixtureHosts } from '../helpers/airbyte-import.js';
import { startRecordingServer, type RecordingServer } from '../helpers/auth-providers.js';
import { TEST_KEY } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const TENANT = 'tenant-5d1e-77aa';
const ACCOUNT = 'acct-8c2f-41b9';
const MISSING = 'acct-0000-dead';
const CLIENT_SECRET = 'graph-secret-9q';
const ACCESS = 'graph-access-1';

const users = Array.from({ length: 5 }, (_, i) => ({ id: `u${i + 1}`, displayName: `User ${i + 1}` }));
const lines = [
  { id: 'l1', amount: 3 },
  { id: 'l2', amount: 4 },
];

describe('import airbyte: secrets in URL paths, synced and never shown', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  let taskQueue: string;
  let dir: string;
  let spec: IntegrationSpec;
  let specFile: string;
  let login: RecordingServer;
  let api: RecordingServer;
  const logs: string[] = [];
  /** The database while the last page was being read (its checkpoint holds that page's next link). */
  let midRun = '';
  const box = SecretBox.fromKey(TEST_KEY);

  before(async () => {
    env = await testEnv();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-path-secrets-'));
    login = await startRecordingServer((req, answer) => {
      const form = new URLSearchParams(req.body);
      const ok =
        req.method === 'POST' &&
        req.path === `/${TENANT}/oauth2/v2.0/token` &&
        form.get('grant_type') === 'client_credentials' &&
        form.get('client_id') === 'graph-client' &&
        form.get('client_secret') === CLIENT_SECRET &&
        form.get('scope') === 'https://graph.api.test/.default';
      if (!ok) return answer(400, { error: 'invalid_request' });
      answer(200, { access_token: ACCESS, token_type: 'Bearer', expires_in: 3600 });
    });
    api = await startRecordingServer((req, answer) => {
      if (req.headers.authorization !== `Bearer ${ACCESS}`) return answer(401, { error: 'unauthorized' });
      const usersPath = `/v1.0/accounts/${ACCOUNT}/users`;
      const skip = req.query.get('$skiptoken');
      const onlySkip = [...req.query.keys()].every((k) => k === '$skiptoken');
      if (req.method === 'GET' && req.path === usersPath && onlySkip) {
        // Graph writes its next link out in full: the account id is in it.
        if (skip === null)
          return answer(200, {
            '@odata.context': `${api.url}/v1.0/$metadata#users`,
            value: users.slice(0, 2),
            '@odata.nextLink': `${api.url}${usersPath}?$skiptoken=p2`,
          });
        if (skip === 'p2')
          return answer(200, {
            value: users.slice(2, 4),
            '@odata.nextLink': `${api.url}${usersPath}?$skiptoken=p3`,
          });
        if (skip === 'p3') {
          // The run's checkpoint now holds the next link it is reading: look at it before answering.
          void database().then((rows) => {
            midRun = rows;
            answer(200, { value: users.slice(4) });
          });
          return;
        }
      }
      if (req.method === 'GET' && req.path === `/v1.0/accounts/${ACCOUNT}/invoice` && skip === null)
        return answer(200, { 'invoice.lines': lines, 'invoice.total': 7 });
      // Like many APIs, the refusal quotes the path it could not find.
      answer(404, { error: { code: 'NotFound', message: `Resource '${req.path}' does not exist` } });
    });
    spec = await importFixtureHosts(dir, 'path-secrets', 'graph', [
      ['https://graph.api.test/v1.0', `${api.url}/v1.0`],
      ['https://login.graph.test', login.url],
    ]);
    specFile = path.join(dir, 'graph.yaml');
    await fs.writeFile(specFile, stringify(spec));
    taskQueue = env.uniqueId('path-secrets');
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logs.push(chunk.toString('utf8'));
          done();
        },
      }),
    );
    worker = await startWorker({
      address: env.temporalAddress,
      namespace: env.namespace,
      taskQueue,
      activities: createActivities({
        db: env.db,
        specs: new Map([[spec.id, spec]]),
        secretBox: box,
        env: {},
        log,
      }),
      workflowBundle: env.workflowBundle,
    });
  });

  after(async () => {
    await worker?.shutdown();
    for (const s of [login, api]) await s?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const input = (connection: string, resource: string): SyncWorkflowInput => ({
    integration: 'graph',
    connection,
    resource,
    kind: 'full',
    // One page per activity: every next link goes through Temporal as the cursor.
    pagesPerActivity: 1,
    retry: { maxAttempts: 2, initialIntervalMs: 100, maxIntervalMs: 500 },
  });

  const addConnection = (id: string, account: string) =>
    saveConnection(env.db, box, {
      integration: 'graph',
      id,
      config: {},
      secrets: {
        account_id: account,
        credentials_tenant_id: TENANT,
        credentials_client_id: 'graph-client',
        credentials_client_secret: CLIENT_SECRET,
      },
    });

  /** Every row of every table of the test database, as text. */
  async function database(): Promise<string> {
    const tables = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(env.db);
    const out: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await sql<{
        row: string;
      }>`select row_to_json(t)::text as row from ${sql.table(name)} t`.execute(env.db);
      out.push(...rows.rows.map((r) => `${name}: ${r.row}`));
    }
    return out.join('\n');
  }

  /** A workflow's history as text with every payload decoded (payload data is base64 in the JSON). */
  async function historyText(handle: { fetchHistory(): Promise<unknown> }): Promise<string> {
    const json = JSON.stringify(await handle.fetchHistory());
    const decoded = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) =>
      Buffer.from(m[1]!, 'base64').toString('utf8'),
    );
    assert.ok(decoded.length > 0, 'the history has payloads');
    return `${json}\n${decoded.join('\n')}`;
  }

  const cliEnv = () => ({
    DATABASE_URL: env.databaseUrl,
    TEMPORAL_ADDRESS: env.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SYNCWRIGHT_SPECS: specFile,
    SYNCWRIGHT_HOME: dir,
  });

  it('imports the manifest with the account and tenant ids as sealed path secrets', () => {
    assert.equal(spec.resources.users!.request.path, '/v1.0/accounts/{secrets.account_id}/users');
    assert.deepEqual(spec.resources.users!.pagination, {
      type: 'next-url',
      nextUrlPath: "['@odata.nextLink']",
      stopOnEmptyPage: true,
    });
    assert.equal(spec.resources.invoice_lines!.recordsPath, "['invoice.lines']");
    assert.equal(
      (spec.auth as { tokenUrl: string }).tokenUrl,
      `${login.url}/{secrets.credentials_tenant_id}/oauth2/v2.0/token`,
    );
    assert.deepEqual(spec.connectionConfig, {}, 'no secret is plain config');
  });

  it('syncs through the next links: each request reaches the exact path, no secret is shown anywhere', async () => {
    const conn = uniqueId('g');
    await addConnection(conn, ACCOUNT);
    const handle = await startSync(env.client, input(conn, 'users'), { taskQueue });
    const result = await handle.result();
    assert.deepEqual([result.status, result.inserted], ['completed', 5]);
    const stored = await listRecords(env.db, { integration: 'graph', connection: conn, resource: 'users' });
    assert.deepEqual(stored.map((r) => r.key).sort(), ['u1', 'u2', 'u3', 'u4', 'u5']);
    assert.deepEqual(
      api.requests.map((r) => `${r.method} ${r.path}?${r.query.toString()}`),
      [
        `GET /v1.0/accounts/${ACCOUNT}/users?`,
        `GET /v1.0/accounts/${ACCOUNT}/users?%24skiptoken=p2`,
        `GET /v1.0/accounts/${ACCOUNT}/users?%24skiptoken=p3`,
      ],
    );
    assert.deepEqual(
      login.requests.map((r) => `${r.method} ${r.path}`),
      [`POST /${TENANT}/oauth2/v2.0/token`],
    );
    assert.ok(!api.seen().includes(TENANT) && !api.seen().includes(CLIENT_SECRET), 'the API sees neither');
    assert.ok(!login.seen().includes(ACCOUNT), 'the token host never sees the account id');

    const lineRun = await (await startSync(env.client, input(conn, 'invoice_lines'), { taskQueue })).result();
    assert.deepEqual([lineRun.status, lineRun.inserted], ['completed', 2]);

    const history = await historyText(handle);
    assert.match(history, /page 3 at \/v1\.0\/accounts\/%7Bsecrets\.account_id%7D\/users/);
    const db = await database();
    assert.match(
      midRun,
      /accounts\/%7Bsecrets\.account_id%7D\/users\?\$skiptoken=p3/,
      'the checkpointed next link is sealed, and it is the real one',
    );
    const texts = { history, logs: logs.join(''), database: db, 'database during the run': midRun };
    assert.match(texts.logs, /provider request/, 'requests were logged');
    for (const [where, text] of Object.entries(texts))
      for (const secret of [ACCOUNT, TENANT, CLIENT_SECRET, ACCESS])
        assert.ok(!text.includes(secret), `${secret} appears in the ${where}`);
  });

  it('a refused account: the failure names the sealed path, the provider’s quoted path is scrubbed', async () => {
    const conn = uniqueId('g');
    await addConnection(conn, MISSING);
    const handle = await startSync(env.client, input(conn, 'users'), { taskQueue });
    let message = '';
    await assert.rejects(handle.result(), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      message = `${e.message} ${e.cause?.message ?? ''} ${JSON.stringify(e.cause)}`;
      return true;
    });
    assert.match(message, /404/);
    assert.match(message, /GET \/v1\.0\/accounts\/%7Bsecrets\.account_id%7D\/users/);
    assert.ok(
      api.requests.some((r) => r.path === `/v1.0/accounts/${MISSING}/users`),
      'the request did go out with the real value',
    );
    const id = `sync:graph:${conn}:users`;
    const shown = await runCli(['run', id, '--json'], cliEnv());
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /404/);
    const listed = await runCli(['runs', '--integration', 'graph', '--limit', '50'], cliEnv());
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(conn));
    const texts = {
      failure: message,
      history: await historyText(handle),
      logs: logs.join(''),
      database: await database(),
      cli: `${shown.stdout}${shown.stderr}${listed.stdout}${listed.stderr}`,
    };
    for (const [where, text] of Object.entries(texts))
      for (const secret of [MISSING, ACCOUNT, TENANT, CLIENT_SECRET, ACCESS])
        assert.ok(!text.includes(secret), `${secret} appears in the ${where}`);
  });

  it('an unreachable provider: the network error, which names the URL, is scrubbed too', async () => {
    const closed = await startRecordingServer((_req, answer) => answer(500, {}));
    await closed.close();
    const dead = { ...spec, id: 'graph-dead' };
    const { createConnectionClients } = await import('../../src/sync/connection-client.js');
    const open = createConnectionClients({
      db: env.db,
      specs: new Map([[dead.id, { ...dead, baseUrl: closed.url }]]),
      secretBox: box,
      env: {},
    });
    await saveConnection(env.db, box, {
      integration: 'graph-dead',
      id: 'c1',
      config: {},
      secrets: {
        account_id: ACCOUNT,
        credentials_tenant_id: TENANT,
        credentials_client_id: 'graph-client',
        credentials_client_secret: CLIENT_SECRET,
      },
    });
    const client = await open('graph-dead', 'c1');
    const url = client.urlFor(client.fillPath('/v1.0/accounts/{secrets.account_id}/users'));
    assert.equal(url.pathname, '/v1.0/accounts/%7Bsecrets.account_id%7D/users');
    await assert.rejects(
      client.request({
        url,
        method: 'GET',
        cost: 1,
        resource: 'users',
        signal: new AbortController().signal,
      }),
      (e: unknown) => {
        const text = `${String(e)} ${(e as Error).stack ?? ''} ${JSON.stringify(e)}`;
        assert.match(text, /%7Bsecrets\.account_id%7D|\{secrets\.account_id\}/);
        for (const secret of [ACCOUNT, TENANT]) assert.ok(!text.includes(secret), `${secret} in ${text}`);
        return true;
      },
    );
  });
});
