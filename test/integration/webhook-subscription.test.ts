/**
 * The webhook subscription lifecycle on a real Temporal dev server and Postgres, against the testing
 * kit's subscription simulator (Microsoft Graph style: expirationDateTime, PATCH to renew, 404 once
 * lapsed): subscribe on start, renew before expiry on durable timers, and after a lapse during which
 * the provider's records changed and no event was delivered, subscribe again and reconcile with an
 * incremental sync until the records equal the provider's. The lapse reaches the operator as a
 * `webhook.subscription.lapsed` notification, verified with `standardwebhooks`. Removal unsubscribes.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { OperatorEvent } from '../../src/sync/notifications.js';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { listRecords } from '../../src/store/records.js';
import {
  reconcileWebhooks,
  removeWebhookSubscription,
  startWebhookSubscription,
  subscriptionState,
  subscriptionWorkflowId,
} from '../../src/temporal/subscription-client.js';
import {
  startSubscriptionSimulator,
  type SubscriptionSimulator,
} from '../../src/testing/subscription-simulator.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { listSubscriptions, openSubscriptionSecret } from '../../src/webhooks/subscriptions.js';
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

const NOTIFY_SECRET = 'whsec_c3Vic2NyaXB0aW9uIGxhcHNlIG5vdGljZXM=';

describe('webhook subscription lifecycle and reconciliation', { timeout: 180_000 }, () => {
  let env: TestEnv;
  let notifyServer: Server;
  let notifyUrl: string;
  const notices: { headers: IncomingHttpHeaders; body: string }[] = [];
  let provider: ProviderSimulator;
  let sim: SubscriptionSimulator;
  let engine: EngineHarness;
  const records = generateRecords(5);

  before(async () => {
    env = await testEnv();
    provider = await startProviderSimulator({
      resources: { issues: records },
      auth: { type: 'bearer', token: TOKEN },
    });
    sim = await startSubscriptionSimulator(provider);
    notifyServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        notices.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => notifyServer.listen(0, '127.0.0.1', () => r()));
    notifyUrl = `http://127.0.0.1:${(notifyServer.address() as AddressInfo).port}/notices`;
  });
  after(async () => {
    await new Promise((r) => notifyServer?.close(r));
    await engine?.close();
    await sim?.close();
    await provider?.close();
    await env?.close();
  });

  it('subscribes, renews before expiry, reconciles after a lapse, unsubscribes on removal', async () => {
    const spec = trackerSpec(sim.url, undefined, {
      ...trackerWebhooks(),
      subscription: {
        subscribe: {
          method: 'POST',
          path: '/subscriptions',
          body: {
            changeType: 'updated',
            notificationUrl: 'https://hooks.example/webhooks/tracker',
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
        lifetimeSeconds: 4,
        renewBeforeSeconds: 2,
      },
      reconcile: ['issues'],
    });
    engine = await startEngine(env, [spec], { notify: { url: notifyUrl, secret: NOTIFY_SECRET } });
    const connection = env.uniqueId('org');
    await engine.addConnection('tracker', connection, {
      token: TOKEN,
      webhook_secret: 'whsec_dHJhY2tlciB3ZWJob29rIHNpZ25pbmcgc2VjcmV0',
    });
    // What the records were before: a first full sync.
    await (await engine.run(engine.input('tracker', connection, 'issues'))).result();
    const scope = { integration: 'tracker', connection, resource: 'issues' };
    assert.equal((await listRecords(env.db, scope)).length, 5);

    const handle = await startWebhookSubscription(env.client, spec, connection, {
      taskQueue: engine.taskQueue,
    });
    assert.ok(handle);
    const stored = await until('the subscription to be stored', async () => {
      const [s] = await listSubscriptions(env.db, 'tracker');
      return s?.connection === connection ? s : undefined;
    });
    assert.equal(stored.subscriptionId, 'sub-1');
    assert.ok(
      stored.expiresAt && stored.expiresAt.getTime() > Date.now(),
      'the expiry the provider answered',
    );
    assert.deepEqual(sim.subscriptions()[0]?.request, {
      changeType: 'updated',
      notificationUrl: 'https://hooks.example/webhooks/tracker',
      expirationDateTime: sim.subscriptions()[0]?.request.expirationDateTime,
      clientState: sim.subscriptions()[0]?.request.clientState,
    });
    // {secret}: made up for this subscription, sent once, stored sealed (Graph's clientState).
    const clientState = sim.subscriptions()[0]?.request.clientState;
    assert.match(String(clientState), /^[A-Za-z0-9_-]{32}$/);
    assert.equal(await openSubscriptionSecret(env.db, engine.box, 'tracker', connection), clientState);

    await until('two renewals before expiry', () => Promise.resolve(sim.calls.renew >= 2));
    assert.equal(sim.calls.subscribe, 1, 'renewed, not re-created');
    // The provider counts a renewal when asked; the workflow once the activity has stored it.
    const state = await until('the workflow to hold two renewals', async () => {
      const s = await subscriptionState(env.client, 'tracker', connection);
      return s.renewals >= 2 ? s : undefined;
    });
    assert.equal(state.subscriptionId, 'sub-1');
    assert.ok((await listSubscriptions(env.db, 'tracker'))[0]!.renewals >= 2);

    // The outage: the provider forgets the subscription; meanwhile records change and no event is sent.
    const changed = records.map((r) => ({ ...r }));
    changed[1] = {
      ...changed[1]!,
      title: 'changed while nobody listened',
      updated_at: '2026-06-01T00:00:00.000Z',
    };
    changed.push({
      id: 99,
      title: 'created during the outage',
      state: 'open',
      priority: 1,
      updated_at: '2026-06-01T00:00:01.000Z',
    });
    provider.setRecords('issues', changed);
    sim.lapse();

    const expected = changed.map((r) => String(r.id)).sort();
    await until('the records to equal the provider after reconciliation', async () => {
      const rows = await listRecords(env.db, scope);
      const keys = rows.map((r) => r.key).sort();
      const two = rows.find((r) => r.key === '2');
      return (
        JSON.stringify(keys) === JSON.stringify(expected) &&
        (two?.data as { title?: string } | undefined)?.title === 'changed while nobody listened'
      );
    });
    assert.ok(sim.calls.renewRefused >= 1, 'the renewal found the subscription gone');
    assert.equal(sim.calls.subscribe, 2, 'subscribed again');
    const after = await subscriptionState(env.client, 'tracker', connection);
    assert.equal(after.subscriptionId, 'sub-2');
    assert.deepEqual(
      after.reconciliations.map((r) => [r.reason, r.resources]),
      [['the provider no longer had the subscription', ['issues']]],
    );
    assert.equal((await listSubscriptions(env.db, 'tracker'))[0]!.subscriptionId, 'sub-2');

    // The operator was told, once, in a signed Standard Webhooks event.
    const notice = await until('the lapse notification', () => Promise.resolve(notices[0]));
    const verified = new Webhook(NOTIFY_SECRET).verify(
      notice.body,
      notice.headers as Record<string, string>,
    ) as OperatorEvent;
    assert.equal(verified.type, 'webhook.subscription.lapsed');
    assert.equal(verified.id, `subscription-lapsed:tracker:${connection}:sub-1`);
    assert.equal(notice.headers['webhook-id'], verified.id);
    assert.deepEqual(
      { ...verified.data, expiresAt: undefined },
      { integration: 'tracker', connection, subscriptionId: 'sub-1', reason: 'gone', expiresAt: undefined },
    );
    assert.equal(typeof verified.data.expiresAt, 'string');

    // The receiver was down: an operator (or the receiver at start) asks for a reconciliation.
    await env.client.workflow.getHandle(`sync:tracker:${connection}:issues`).result();
    const again = changed.map((r) => ({ ...r }));
    again[0] = {
      ...again[0]!,
      title: 'changed while the receiver was down',
      updated_at: '2026-07-01T00:00:00.000Z',
    };
    provider.setRecords('issues', again);
    await reconcileWebhooks(env.client, 'tracker', connection, 'the receiver was down');
    await until('the second reconciliation', async () => {
      const one = (await listRecords(env.db, scope)).find((r) => r.key === '1');
      return (one?.data as { title?: string } | undefined)?.title === 'changed while the receiver was down';
    });

    assert.equal(await removeWebhookSubscription(env.client, 'tracker', connection), true);
    assert.equal(sim.calls.unsubscribe, 1);
    assert.deepEqual(sim.subscriptions(), []);
    assert.deepEqual(await listSubscriptions(env.db, 'tracker'), []);
    assert.deepEqual(
      notices.map((n) => (JSON.parse(n.body) as OperatorEvent).type),
      ['webhook.subscription.lapsed'],
      'renewals and an asked-for reconciliation notify nobody',
    );
    assert.equal(
      await removeWebhookSubscription(env.client, 'tracker', connection),
      false,
      'nothing left to remove',
    );

    if (process.env.RECORD_HISTORIES) {
      const history = await env.client.workflow
        .getHandle(subscriptionWorkflowId('tracker', connection))
        .fetchHistory();
      writeFileSync(process.env.RECORD_HISTORIES, historyToJSON(history));
    }
  });
});
