/**
 * Reconciliation when a delivery sequence skips, on a real Temporal dev server and Postgres: the
 * provider numbers its deliveries; a burst reaches the receiver out of order and with three deliveries
 * never sent. Numbers arriving late within the reorder time are no gap; the three that never come are
 * recorded as one gap and, with no manual step, the `webhooks.reconcile` incremental sync brings the
 * records to the provider's state.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultPayloadConverter } from '@temporalio/common';
import { saveConnection } from '../../src/store/connections.js';
import { listRecords } from '../../src/store/records.js';
import { signatureSchema } from '../../src/webhooks/signatures.js';
import type { OperatorEvent } from '../../src/sync/notifications.js';
import { SyncKind } from '../../src/temporal/search-attributes.js';
import { startWebhookService, type WebhookService } from '../../src/temporal/webhook-service.js';
import { listSequenceGaps } from '../../src/webhooks/sequence-store.js';
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

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('reconciliation when the webhook sequence skips', { timeout: 180_000 }, () => {
  let env: TestEnv;
  let provider: ProviderSimulator;
  let engine: EngineHarness;
  let service: WebhookService | undefined;

  before(async () => {
    env = await testEnv();
    provider = await startProviderSimulator({
      resources: { issues: generateRecords(10) },
      auth: { type: 'bearer', token: TOKEN },
    });
  });
  after(async () => {
    await service?.close();
    await engine?.close();
    await provider?.close();
    await env?.close();
  });

  it('finds the numbers that never came, records the gap and reconciles, tolerating reordering', async () => {
    const tracker = trackerSpec(provider.url, undefined, {
      ...trackerWebhooks(),
      reconcile: ['issues'],
      sequence: { value: { path: 'sequence' }, reorderSeconds: 3 },
    });
    const specs = new Map([[tracker.id, tracker]]);
    engine = await startEngine(env, [tracker]);
    const connection = env.uniqueId('seq');
    await engine.addConnection('tracker', connection, { token: TOKEN, webhook_secret: WEBHOOK_SECRET });
    const first = await engine.run(engine.input('tracker', connection, 'issues'));
    await first.result();
    const scope = { integration: 'tracker', connection, resource: 'issues' };
    const titles = async () =>
      Object.fromEntries(
        (await listRecords(env.db, scope)).map((r) => [r.key, (r.data as { title: string }).title]),
      );
    service = await startWebhookService({
      db: env.db,
      specs,
      secretBox: engine.box,
      env: {},
      connect: () => Promise.resolve(env.client),
      taskQueue: engine.taskQueue,
      sequenceSweepMs: 200,
      notify: true,
    });
    await service.reconciled;
    const url = `${service.receiver.url}/webhooks/tracker/${connection}`;
    const send = (sequence: number, record: SimRecord) =>
      postWebhook(url, tracker.webhooks!.signature, WEBHOOK_SECRET, {
        id: `evt-${connection}-${sequence}`,
        type: 'issue.updated',
        sequence,
        data: record,
      });

    // A burst: every issue changes at the provider, one event each, numbered 1..10.
    const records = generateRecords(10).map((r, i) => ({
      ...r,
      title: `burst ${i + 1}`,
      updated_at: `2026-07-01T00:00:${String(10 + i).padStart(2, '0')}.000Z`,
    }));
    provider.setRecords('issues', records);
    // Delivered out of order (3 before 2, 9 before 8); 4, 5 and 6 are never delivered.
    const lost = new Set([4, 5, 6]);
    for (const n of [1, 3, 2, 7, 9, 8, 10]) {
      assert.ok(!lost.has(n));
      assert.equal((await send(n, records[n - 1]!)).status, 202);
    }
    // A redelivery is a duplicate and counts nothing.
    assert.equal((await send(3, records[2]!)).status, 200);
    await until('the delivered events to be applied', async () => {
      const t = await titles();
      return [1, 2, 3, 7, 8, 9, 10].every((n) => t[String(n)] === `burst ${n}`);
    });
    const before = await titles();
    assert.deepEqual(
      [4, 5, 6].map((n) => before[String(n)]),
      ['Issue 4', 'Issue 5', 'Issue 6'],
      'the lost events changed nothing',
    );

    // Past the reorder time, the skip is a gap and its reconciliation brings the records to the provider.
    const expected = Object.fromEntries(records.map((r) => [String(r.id), r.title]));
    await until('the records to equal the provider', async () => {
      const now = await titles();
      return JSON.stringify(Object.entries(now).sort()) === JSON.stringify(Object.entries(expected).sort());
    });
    const gaps = await listSequenceGaps(env.db, { integration: 'tracker', connection });
    assert.deepEqual(
      gaps.map((g) => [g.from, g.to, g.scope]),
      [['4', '6', '']],
      'one gap, 4..6: the late 2 and 8 were no gap',
    );
    await until('the gap to be marked reconciled', async () =>
      (await listSequenceGaps(env.db, { connection, pending: true })).length === 0 ? true : undefined,
    );
    // The operator is told, once, by the notifyOperator workflow named after the gap.
    const notice = env.client.workflow.getHandle(
      `notify:sequence-skipped:tracker:${connection}:${gaps[0]!.id}`,
    );
    assert.equal((await notice.describe()).type, 'notifyOperator');
    const started = (await notice.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    const event = defaultPayloadConverter.fromPayload<OperatorEvent>(started!.input!.payloads![0]!);
    assert.equal(event.type, 'webhook.sequence.skipped');
    assert.deepEqual(event.data.gaps, [{ scope: '', from: '4', to: '6' }]);
    const sync = env.client.workflow.getHandle(`sync:tracker:${connection}:issues`);
    const reconciling = await sync.describe();
    assert.notEqual(reconciling.runId, first.firstExecutionRunId, 'a new sync run');
    assert.equal(reconciling.typedSearchAttributes.get(SyncKind), 'incremental');
    await sync.result();

    // Numbers that go on in order after the gap start nothing more.
    assert.equal((await send(11, { ...records[0]!, title: 'after the gap' })).status, 202);
    await until('event 11', async () => (await titles())['1'] === 'after the gap');
    await sleep(3500); // past the reorder time: a hole would be a gap by now
    assert.equal((await listSequenceGaps(env.db, { connection })).length, 1, 'no new gap');
    assert.equal((await sync.describe()).runId, reconciling.runId, 'no new sync run');
  });

  it('numbered across tenants (scope: integration): a gap reconciles every connection', async () => {
    const routed = trackerSpec(provider.url, undefined, {
      ...trackerWebhooks(),
      signature: signatureSchema.parse({ scheme: 'standard-webhooks', secrets: [{ env: 'APP_SECRET' }] }),
      route: { account: '{body.account}' },
      reconcile: ['issues'],
      sequence: { value: { path: 'sequence' }, scope: 'integration', reorderSeconds: 3 },
    });
    const tenants = await startEngine(env, [routed]);
    const app = await startWebhookService({
      db: env.db,
      specs: new Map([[routed.id, routed]]),
      secretBox: tenants.box,
      env: { APP_SECRET: WEBHOOK_SECRET },
      connect: () => Promise.resolve(env.client),
      taskQueue: tenants.taskQueue,
      sequenceSweepMs: 200,
    });
    try {
      const [a, b] = [env.uniqueId('ten-a'), env.uniqueId('ten-b')];
      for (const id of [a, b])
        await saveConnection(env.db, tenants.box, {
          integration: 'tracker',
          id,
          config: {},
          secrets: { token: TOKEN },
          account: `acct-${id}`,
        });
      const records = generateRecords(10);
      provider.setRecords('issues', records);
      const send = (sequence: number, tenant: string) =>
        postWebhook(`${app.receiver.url}/webhooks/tracker`, routed.webhooks!.signature, WEBHOOK_SECRET, {
          id: `evt-app-${tenant}-${sequence}`,
          type: 'issue.updated',
          sequence,
          account: `acct-${tenant}`,
          data: records[sequence - 1],
        });
      // One numbering for both tenants: a gets 1, 2, 5; b gets 3; 4 (whoever's it was) never comes.
      for (const [n, t] of [
        [1, a],
        [3, b],
        [2, a],
        [5, a],
      ] as const)
        assert.equal((await send(n, t)).status, 202);
      await until('the gap to be handed over', async () => {
        const gaps = await listSequenceGaps(env.db, { integration: 'tracker', connection: '*' });
        return gaps.length === 1 && gaps[0]!.reconciledAt !== null ? gaps : undefined;
      });
      const gaps = await listSequenceGaps(env.db, { integration: 'tracker', connection: '*' });
      assert.deepEqual(
        [gaps[0]!.from, gaps[0]!.to],
        ['4', '4'],
        'one gap across tenants: 3 was b’s, not lost',
      );
      for (const id of [a, b]) {
        const sync = env.client.workflow.getHandle(`sync:tracker:${id}:issues`);
        await sync.result();
        const keys = (
          await listRecords(env.db, { integration: 'tracker', connection: id, resource: 'issues' })
        ).length;
        assert.equal(keys, 10, `${id} reconciled to the provider's 10 issues`);
      }
    } finally {
      await app.close();
      await tenants.close();
    }
  });
});
