/**
 * Reconciliation after the webhook receiver was down, on a real Temporal dev server and Postgres: the
 * receiver applies a signed event; then it stops, the provider's records change and the event sent
 * meanwhile is lost (nothing listens); the receiver starts again after more than the gap threshold
 * and, with no manual step, the `webhooks.reconcile` incremental sync brings the records to the
 * provider's state. A restart within the threshold starts nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { listRecords } from '../../src/store/records.js';
import { SyncKind } from '../../src/temporal/search-attributes.js';
import { startWebhookService, type WebhookService } from '../../src/temporal/webhook-service.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
  type SimRecord,
} from '../../src/testing/simulator.js';
import { postWebhook } from '../../src/testing/webhooks.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec, trackerWebhooks, WEBHOOK_SECRET } from '../helpers/tracker-spec.js';

const GAP_MS = 1500;

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('reconciliation after the webhook receiver was down', { timeout: 180_000 }, () => {
  let env: TestEnv;
  let provider: ProviderSimulator;
  let engine: EngineHarness;
  let service: WebhookService | undefined;
  const spec = () => trackerSpec(provider.url, undefined, { ...trackerWebhooks(), reconcile: ['issues'] });

  before(async () => {
    env = await testEnv();
    provider = await startProviderSimulator({
      resources: { issues: generateRecords(5) },
      auth: { type: 'bearer', token: TOKEN },
    });
  });
  after(async () => {
    await service?.close();
    await engine?.close();
    await provider?.close();
    await env?.close();
  });

  it('catches up on events lost while the receiver was down, by itself', async () => {
    const tracker = spec();
    const specs = new Map([[tracker.id, tracker]]);
    engine = await startEngine(env, [tracker]);
    const connection = env.uniqueId('org');
    await engine.addConnection('tracker', connection, { token: TOKEN, webhook_secret: WEBHOOK_SECRET });
    await (await engine.run(engine.input('tracker', connection, 'issues'))).result();
    const scope = { integration: 'tracker', connection, resource: 'issues' };
    const titles = async () =>
      Object.fromEntries(
        (await listRecords(env.db, scope)).map((r) => [r.key, (r.data as { title: string }).title]),
      );
    const serve = () =>
      startWebhookService({
        db: env.db,
        specs,
        secretBox: engine.box,
        env: {},
        connect: () => Promise.resolve(env.client),
        taskQueue: engine.taskQueue,
        gapMs: GAP_MS,
      });
    let sequence = 0;
    const send = (url: string, record: SimRecord) =>
      postWebhook(url, tracker.webhooks!.signature, WEBHOOK_SECRET, {
        id: `evt-${++sequence}`,
        type: 'issue.updated',
        sequence,
        data: record,
      });

    // First start (no mark yet): nothing to reconcile; events are applied as they come.
    service = await serve();
    await service.reconciled;
    let url = `${service.receiver.url}/webhooks/tracker/${connection}`;
    const records = generateRecords(5).map((r) => ({ ...r }));
    records[0] = { ...records[0]!, title: 'sent by webhook', updated_at: '2026-05-01T00:00:00.000Z' };
    provider.setRecords('issues', records);
    assert.equal((await send(url, records[0])).status, 202);
    await until('the webhook to be applied', async () => (await titles())['1'] === 'sent by webhook');

    // The outage: the provider's records change and the event it sends reaches nobody.
    await service.close();
    service = undefined;
    records[1] = { ...records[1]!, title: 'changed while down', updated_at: '2026-06-01T00:00:00.000Z' };
    records.push({
      id: 77,
      title: 'created while down',
      state: 'open',
      priority: 2,
      updated_at: '2026-06-01T00:00:01.000Z',
    });
    provider.setRecords('issues', records);
    await assert.rejects(send(url, records[1]), 'nothing listens: the event is lost');
    assert.equal((await titles())['2'], 'Issue 2');
    await sleep(GAP_MS + 500);

    // The receiver starts again: the gap starts the reconciling sync without anyone asking.
    service = await serve();
    await service.reconciled;
    const expected = Object.fromEntries(records.map((r) => [String(r.id), r.title]));
    await until('the records to equal the provider', async () => {
      const now = await titles();
      return JSON.stringify(Object.entries(now).sort()) === JSON.stringify(Object.entries(expected).sort());
    });
    const sync = env.client.workflow.getHandle(`sync:tracker:${connection}:issues`);
    const reconciling = await sync.describe();
    assert.equal(reconciling.typedSearchAttributes.get(SyncKind), 'incremental');
    await sync.result();
    const gapRow = await env.db.selectFrom('webhook_receiver_liveness').selectAll().executeTakeFirstOrThrow();
    assert.equal(gapRow.gap_from, null, 'the gap was handed over');

    // A restart within the threshold is no gap: no sync is started.
    await service.close();
    service = await serve();
    await service.reconciled;
    await sleep(1000);
    assert.equal((await sync.describe()).runId, reconciling.runId, 'no new sync run');
    url = `${service.receiver.url}/webhooks/tracker/${connection}`;
    assert.equal((await send(url, { ...records[2]!, title: 'after restart' })).status, 202);
    await until('the webhook after the restart', async () => (await titles())['3'] === 'after restart');
  });
});
