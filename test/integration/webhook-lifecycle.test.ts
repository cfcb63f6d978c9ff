/**
 * Microsoft Graph lifecycle notifications (`webhooks.lifecycle`) on a real Temporal dev server and
 * Postgres, through the webhook service, against the testing kit's subscription simulator. The bodies
 * are Graph's documented lifecycle notifications (a changeNotificationCollection whose items carry
 * `lifecycleEvent`, `subscriptionId`, `tenantId` and the subscription's `clientState`):
 * - `missed`: notifications were dropped; the records the provider changed meanwhile are caught up
 *   by the reconciling incremental sync;
 * - `reauthorizationRequired`: the subscription is renewed at once (not at its timer);
 * - `subscriptionRemoved`: the provider forgot the subscription; it is created again and reconciled.
 * A lifecycle item with a wrong clientState is refused and acts on nothing.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { listRecords } from '../../src/store/records.js';
import {
  startWebhookSubscription,
  subscriptionState,
  subscriptionWorkflowId,
} from '../../src/temporal/subscription-client.js';
import { startWebhookService, type WebhookService } from '../../src/temporal/webhook-service.js';
import {
  startSubscriptionSimulator,
  type SubscriptionSimulator,
} from '../../src/testing/subscription-simulator.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
  type SimRecord,
} from '../../src/testing/simulator.js';
import { openSubscriptionSecret } from '../../src/webhooks/subscriptions.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec, trackerWebhooks } from '../helpers/tracker-spec.js';

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const TENANT = '84c31ca0-ac3b-4eae-ad11-519d80233e6f';

/** A lifecycle notification collection as Graph posts it to the lifecycleNotificationUrl. */
const lifecycleBody = (subscriptionId: string, clientState: string, ...events: string[]) =>
  JSON.stringify({
    value: events.map((lifecycleEvent) => ({
      subscriptionId,
      subscriptionExpirationDateTime: '2026-12-10T11:00:00.0000000Z',
      tenantId: TENANT,
      clientState,
      lifecycleEvent,
    })),
  });

describe('Microsoft Graph lifecycle notifications', { timeout: 240_000 }, () => {
  let env: TestEnv;
  let provider: ProviderSimulator;
  let sim: SubscriptionSimulator;
  let engine: EngineHarness;
  let service: WebhookService;
  const records: SimRecord[] = generateRecords(5).map((r) => ({ ...r }));

  before(async () => {
    env = await testEnv();
    provider = await startProviderSimulator({
      resources: { issues: records },
      auth: { type: 'bearer', token: TOKEN },
    });
    sim = await startSubscriptionSimulator(provider);
  });
  after(async () => {
    await service?.close();
    await engine?.close();
    await sim?.close();
    await provider?.close();
    await env?.close();
  });

  it('reconciles after missed, renews on reauthorizationRequired, subscribes again on subscriptionRemoved', async () => {
    const spec = trackerSpec(sim.url, undefined, {
      ...trackerWebhooks({ scheme: 'client-state' }),
      handshakes: [{ answer: 'query-token', query: 'validationToken' }],
      batch: { items: 'value' },
      lifecycle: {
        event: '{body.lifecycleEvent}',
        actions: {
          missed: 'reconcile',
          reauthorizationRequired: 'renew',
          subscriptionRemoved: 'resubscribe',
        },
      },
      subscription: {
        subscribe: {
          method: 'POST',
          path: '/subscriptions',
          body: {
            changeType: 'updated',
            notificationUrl: 'https://hooks.example/webhooks/tracker',
            lifecycleNotificationUrl: 'https://hooks.example/webhooks/tracker',
            expirationDateTime: '{expiry}',
            clientState: '{secret}',
          },
        },
        renew: {
          method: 'PATCH',
          path: '/subscriptions/{subscription.id}',
          body: { expirationDateTime: '{expiry}' },
        },
        unsubscribe: { method: 'DELETE', path: '/subscriptions/{subscription.id}' },
        expiresPath: 'expirationDateTime',
        // Long enough that no renewal is due by the timer during the test.
        lifetimeSeconds: 3 * 24 * 3600,
        renewBeforeSeconds: 3600,
      },
      reconcile: ['issues'],
    });
    engine = await startEngine(env, [spec]);
    service = await startWebhookService({
      db: env.db,
      specs: new Map([[spec.id, spec]]),
      secretBox: engine.box,
      env: {},
      connect: () => Promise.resolve(env.client),
      taskQueue: engine.taskQueue,
    });
    const connection = env.uniqueId('org');
    await engine.addConnection('tracker', connection, { token: TOKEN });
    await (await engine.run(engine.input('tracker', connection, 'issues'))).result();
    const scope = { integration: 'tracker', connection, resource: 'issues' };
    const titles = async () =>
      Object.fromEntries(
        (await listRecords(env.db, scope)).map((r) => [r.key, (r.data as { title: string }).title]),
      );
    const converged = (what: string) =>
      until(what, async () => {
        const expected = Object.fromEntries(records.map((r) => [String(r.id), r.title]));
        const now = await titles();
        return JSON.stringify(Object.entries(now).sort()) === JSON.stringify(Object.entries(expected).sort());
      });

    await startWebhookSubscription(env.client, spec, connection, { taskQueue: engine.taskQueue });
    const clientState = await until('the subscription and its clientState', () =>
      openSubscriptionSecret(env.db, engine.box, 'tracker', connection),
    );
    const url = `${service.receiver.url}/webhooks/tracker/${connection}`;
    const post = (body: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    // Graph validates the lifecycleNotificationUrl like the notificationUrl.
    const validation = await fetch(`${url}?validationToken=lifecycle%20check`, { method: 'POST' });
    assert.equal(validation.status, 200);
    assert.equal(await validation.text(), 'lifecycle check');

    // A forged lifecycle notification (wrong clientState) acts on nothing.
    const forged = await post(lifecycleBody('sub-1', 'not-the-client-state', 'subscriptionRemoved'));
    assert.equal(forged.status, 401);

    // missed: changes the provider made were never notified; the reconciling sync catches them up.
    records[1] = {
      ...records[1]!,
      title: 'changed, notification missed',
      updated_at: '2026-06-01T00:00:00.000Z',
    };
    records.push({
      id: 42,
      title: 'created, notification missed',
      state: 'open',
      priority: 1,
      updated_at: '2026-06-01T00:00:01.000Z',
    });
    provider.setRecords('issues', records);
    const missed = await post(lifecycleBody('sub-1', clientState, 'missed', 'missed'));
    assert.equal(missed.status, 202);
    assert.deepEqual(await missed.json(), {
      status: 'accepted',
      events: [
        { lifecycleEvent: 'missed', action: 'reconcile' },
        { lifecycleEvent: 'missed', action: 'reconcile' },
      ],
    });
    await converged('the records to equal the provider after "missed"');
    await env.client.workflow.getHandle(`sync:tracker:${connection}:issues`).result();
    const afterMissed = await subscriptionState(env.client, 'tracker', connection);
    assert.deepEqual(
      afterMissed.reconciliations.map((r) => [r.reason, r.resources]),
      [['lifecycle notification "missed"', ['issues']]],
      'two missed items in one body: one reconciliation',
    );
    assert.equal(sim.calls.renew, 0);

    // reauthorizationRequired: renewed now, days before its timer.
    const expiresBefore = afterMissed.expiresAt;
    const reauth = await post(lifecycleBody('sub-1', clientState, 'reauthorizationRequired'));
    assert.equal(reauth.status, 202);
    await until('the renewal asked by reauthorizationRequired', async () => {
      const s = await subscriptionState(env.client, 'tracker', connection);
      return s.renewals === 1 ? s : undefined;
    });
    assert.equal(sim.calls.renew, 1);
    assert.equal(sim.calls.subscribe, 1, 'renewed, not re-created');
    const renewed = await subscriptionState(env.client, 'tracker', connection);
    assert.equal(renewed.subscriptionId, 'sub-1');
    assert.ok(Date.parse(renewed.expiresAt!) >= Date.parse(expiresBefore!), 'the expiry moved on');

    // subscriptionRemoved: the provider dropped it (and changes meanwhile went unnotified).
    sim.lapse();
    records[0] = {
      ...records[0]!,
      title: 'changed after the removal',
      updated_at: '2026-07-01T00:00:00.000Z',
    };
    provider.setRecords('issues', records);
    const removed = await post(lifecycleBody('sub-1', clientState, 'subscriptionRemoved'));
    assert.equal(removed.status, 202);
    const resubscribed = await until('the new subscription', async () => {
      const s = await subscriptionState(env.client, 'tracker', connection);
      return s.subscriptionId === 'sub-2' && s.reconciliations.length === 2 ? s : undefined;
    });
    assert.equal(sim.calls.subscribe, 2);
    assert.deepEqual(
      resubscribed.reconciliations.map((r) => r.reason),
      ['lifecycle notification "missed"', 'lifecycle notification "subscriptionRemoved"'],
    );
    assert.deepEqual(
      sim.subscriptions().map((s) => s.id),
      ['sub-2'],
    );
    await converged('the records to equal the provider after "subscriptionRemoved"');
    // The new subscription's clientState is the one checked now.
    const newState = await openSubscriptionSecret(env.db, engine.box, 'tracker', connection);
    assert.notEqual(newState, clientState);
    assert.equal((await post(lifecycleBody('sub-2', newState!, 'reauthorizationRequired'))).status, 202);
    await until(
      'the renewal of the new subscription',
      async () => (await subscriptionState(env.client, 'tracker', connection)).renewals === 2,
    );

    if (process.env.RECORD_HISTORIES) {
      const history = await env.client.workflow
        .getHandle(subscriptionWorkflowId('tracker', connection))
        .fetchHistory();
      writeFileSync(process.env.RECORD_HISTORIES, historyToJSON(history));
    }
  });
});
