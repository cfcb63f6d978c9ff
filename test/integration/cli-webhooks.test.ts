/**
 * The operator's webhook commands, run as a user runs them (a child process read through pipes) against
 * the real Postgres and Temporal of the test stack: `webhooks unrouted` lists an authentic event whose
 * account no connection has, `webhooks unrouted replay` moves it into a connection's inbox (and it is
 * applied), `webhooks reconcile` starts the reconciling incremental sync so the records equal the
 * provider's, and `webhooks gaps` lists skipped sequences.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { saveConnection } from '../../src/store/connections.js';
import { listRecords } from '../../src/store/records.js';
import { SyncKind } from '../../src/temporal/search-attributes.js';
import { syncHandle } from '../../src/temporal/sync-client.js';
import { startWebhookService, type WebhookService } from '../../src/temporal/webhook-service.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { postWebhook } from '../../src/testing/webhooks.js';
import { signatureSchema } from '../../src/webhooks/signatures.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { runCli as cli } from '../helpers/run-cli.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec, trackerWebhooks, WEBHOOK_SECRET } from '../helpers/tracker-spec.js';

type Env = Record<string, string | undefined>;

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('syncwright webhooks: unrouted, replay, reconcile, gaps', { timeout: 240_000 }, () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;
  let service: WebhookService;
  let home: string;
  let base: Env;
  const spec = () =>
    trackerSpec(sim.url, undefined, {
      ...trackerWebhooks(),
      signature: signatureSchema.parse({
        scheme: 'standard-webhooks',
        secrets: [{ env: 'TRACKER_APP_SECRET' }],
      }),
      route: { account: '{body.account}' },
      reconcile: ['issues'],
    });

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(5) },
    });
    const tracker = spec();
    engine = await startEngine(env, [tracker]);
    service = await startWebhookService({
      db: env.db,
      specs: new Map([[tracker.id, tracker]]),
      secretBox: engine.box,
      env: { TRACKER_APP_SECRET: WEBHOOK_SECRET },
      connect: () => Promise.resolve(env.client),
      taskQueue: engine.taskQueue,
    });
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-cli-hooks-'));
    const specsFile = path.join(home, 'tracker.json');
    await fs.writeFile(specsFile, JSON.stringify(tracker));
    base = {
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: engine.taskQueue,
      SYNCWRIGHT_SPECS: specsFile,
      SYNCWRIGHT_HOME: home,
    };
  });
  after(async () => {
    await service?.close();
    await engine?.close();
    await sim?.close();
    await env?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('lists an unrouted event, replays it to a connection, and reconciles the connection by hand', async () => {
    const account = env.uniqueId('acct');
    const records = generateRecords(5).map((r) => ({ ...r }));
    records[0] = {
      ...records[0]!,
      title: 'sent before the connection',
      updated_at: '2026-08-01T00:00:00.000Z',
    };
    sim.setRecords('issues', records);
    const sent = await postWebhook(
      `${service.receiver.url}/webhooks/tracker`,
      spec().webhooks!.signature,
      WEBHOOK_SECRET,
      { id: `evt-${account}`, type: 'issue.updated', sequence: 1, account, data: records[0] },
    );
    assert.equal(sent.status, 202);
    assert.equal((sent.body as { status: string }).status, 'unrouted');

    const listed = await cli(['webhooks', 'unrouted', '--account', account, '--json'], base);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as { account: string; eventId: string; eventType: string }[];
    assert.deepEqual(
      rows.map((r) => [r.account, r.eventId, r.eventType]),
      [[account, `evt-${account}`, 'issue.updated']],
    );
    const human = await cli(['webhooks', 'unrouted', '--integration', 'tracker'], base);
    assert.match(human.stdout, new RegExp(`tracker  account ${account}  issue.updated  evt-${account}`));

    // No connection has the account yet: the replay says how to give it one.
    const nowhere = await cli(['webhooks', 'unrouted', 'replay', 'tracker', account], base);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, new RegExp(`no connection of tracker has account ${account}: add one with`));
    const missing = await cli(
      ['webhooks', 'unrouted', 'replay', 'tracker', account, '--connection', 'nope'],
      base,
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no connection tracker\/nope/);

    // The operator names a connection: the event moves to its inbox and is applied.
    const connection = env.uniqueId('cli-hooks');
    await saveConnection(env.db, engine.box, {
      integration: 'tracker',
      id: connection,
      config: {},
      secrets: { token: TOKEN },
    });
    const replayed = await cli(
      ['webhooks', 'unrouted', 'replay', 'tracker', account, '--connection', connection],
      base,
    );
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.match(replayed.stdout, new RegExp(`1 event of account ${account} moved to tracker/${connection}`));
    assert.match(replayed.stdout, /later events of it still wait as unrouted/);
    const scope = { integration: 'tracker', connection, resource: 'issues' };
    const titles = async () =>
      Object.fromEntries(
        (await listRecords(env.db, scope)).map((r) => [r.key, (r.data as { title: string }).title]),
      );
    await until('the replayed event to be applied', async () =>
      JSON.stringify(await titles()) === JSON.stringify({ '1': 'sent before the connection' })
        ? true
        : undefined,
    );
    const empty = await cli(['webhooks', 'unrouted', '--account', account], base);
    assert.equal(empty.stdout.trim(), 'no unrouted webhook events');

    // Reconcile by hand: bad arguments are named; then the sync brings every record of the provider.
    const badResource = await cli(['webhooks', 'reconcile', 'tracker', connection, 'nosuch'], base);
    assert.equal(badResource.code, 1);
    assert.match(badResource.stderr, /resource "nosuch": tracker has no such resource/);
    const badConnection = await cli(['webhooks', 'reconcile', 'tracker', 'nope'], base);
    assert.equal(badConnection.code, 1);
    assert.match(badConnection.stderr, /no connection tracker\/nope/);
    const reconciled = await cli(['webhooks', 'reconcile', 'tracker', connection, '--json'], base);
    assert.equal(reconciled.code, 0, reconciled.stderr);
    const out = JSON.parse(reconciled.stdout) as { resources: string[]; workflows: string[] };
    assert.deepEqual(out.resources, ['issues']);
    assert.deepEqual(out.workflows, [`sync:tracker:${connection}:issues`]);
    await syncHandle(env.client, out.workflows[0]!).result();
    const expected = Object.fromEntries(records.map((r) => [String(r.id), r.title]));
    assert.deepEqual(await titles(), expected, 'the records equal the provider');
    const described = await env.client.workflow.getHandle(out.workflows[0]!).describe();
    assert.equal(described.typedSearchAttributes.get(SyncKind), 'incremental');
  });

  it('webhooks gaps lists skipped sequences, pending or reconciled', async () => {
    const connection = env.uniqueId('gappy');
    await env.db
      .insertInto('webhook_sequence_gaps')
      .values([
        { integration: 'tracker', connection, scope: '', from_seq: '4', to_seq: '6' },
        {
          integration: 'tracker',
          connection,
          scope: 'chan-1',
          from_seq: '9',
          to_seq: '9',
          reconciled_at: new Date(),
        },
      ])
      .execute();
    const all = await cli(['webhooks', 'gaps', '--connection', connection], base);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`tracker/${connection} \\(chan-1\\)  9  reconciled `));
    assert.match(lines[1]!, new RegExp(`tracker/${connection}  4-6  reconciliation pending`));
    const pending = await cli(['webhooks', 'gaps', '--connection', connection, '--pending', '--json'], base);
    assert.deepEqual(
      (JSON.parse(pending.stdout) as { from: string; to: string }[]).map((g) => [g.from, g.to]),
      [['4', '6']],
    );
  });
});
