/**
 * Lifecycle notifications at the receiver, on a real Postgres (the hand-over to Temporal is the
 * service's callback, recorded here; webhook-lifecycle.test.ts runs it against Temporal): a Graph
 * batch mixing a change notification and a lifecycle notification stores the one and hands over the
 * other; the sender gets 503 (and delivers again) while the hand-over fails or is missing; routed by
 * tenantId, the lifecycle notification acts on its tenant's connection only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineIntegration } from '../../src/spec/define.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import {
  startWebhookReceiver,
  type LifecycleHandOver,
  type RunningReceiver,
} from '../../src/webhooks/receiver.js';
import { saveSubscription } from '../../src/webhooks/subscriptions.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testDb, type DbEnv } from '../helpers/db-env.js';

const box = SecretBox.fromKey(TEST_KEY);
const STATE = 'lifecycle-state-9b31';
const TENANT_A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const TENANT_B = 'bbbbbbbb-0000-4000-8000-00000000000b';

const spec: IntegrationSpec = defineIntegration({
  id: 'graphlife',
  baseUrl: 'http://127.0.0.1:1',
  resources: {
    messages: {
      request: { path: '/me/messages' },
      recordsPath: 'value',
      primaryKey: 'id',
      fields: { id: 'id' },
      pagination: { type: 'none' },
      incremental: { cursorField: 'id', param: 'since' },
    },
  },
  webhooks: {
    signature: { scheme: 'client-state' },
    batch: { items: 'value' },
    eventId: { path: 'id' },
    eventType: '{body.changeType}',
    events: { deleted: { action: 'delete', resource: 'messages', id: 'resourceData.id' } },
    subscription: {
      subscribe: { method: 'POST', path: '/subscriptions', body: { clientState: '{secret}' } },
      renew: { method: 'PATCH', path: '/subscriptions/{subscription.id}' },
    },
    reconcile: ['messages'],
    lifecycle: {
      event: '{body.lifecycleEvent}',
      actions: { missed: 'reconcile', reauthorizationRequired: 'renew', subscriptionRemoved: 'resubscribe' },
    },
  },
});

const routedSpec: IntegrationSpec = defineIntegration({
  ...spec,
  id: 'graphlifetenants',
  webhooks: {
    ...spec.webhooks!,
    signature: { scheme: 'client-state', secrets: [{ env: 'GRAPH_APP_STATE' }] },
    route: { account: '{body.tenantId}' },
  },
});

const lifecycle = (lifecycleEvent: string, tenantId = TENANT_A, clientState = STATE) => ({
  subscriptionId: '7d1e5b2a-93c4-4f0e-b8a6-0c2f4e6a8b13',
  subscriptionExpirationDateTime: '2026-12-06T11:00:00.0000000Z',
  tenantId,
  clientState,
  lifecycleEvent,
});
const change = (id: string) => ({
  id,
  subscriptionId: '7d1e5b2a-93c4-4f0e-b8a6-0c2f4e6a8b13',
  clientState: STATE,
  changeType: 'deleted',
  resource: `Users/u1/Messages/${id}-msg`,
  tenantId: TENANT_A,
  resourceData: { id: `${id}-msg` },
});

describe('lifecycle notifications at the receiver', { timeout: 60_000 }, () => {
  let env: DbEnv;
  const receivers: RunningReceiver[] = [];
  const handed: LifecycleHandOver[] = [];
  let failing = false;

  const start = async (onLifecycle?: (r: LifecycleHandOver) => Promise<void>) => {
    const r = await startWebhookReceiver({
      db: env.db,
      specs: new Map([
        [spec.id, spec],
        [routedSpec.id, routedSpec],
      ]),
      secretBox: box,
      env: { GRAPH_APP_STATE: STATE },
      onLifecycle,
    });
    receivers.push(r);
    return r;
  };
  const post = async (receiver: RunningReceiver, path: string, value: unknown[]) => {
    const r = await fetch(`${receiver.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const stored = () =>
    env.db
      .selectFrom('webhook_events')
      .select(['event_id', 'connection'])
      .where('integration', 'in', [spec.id, routedSpec.id])
      .orderBy('id')
      .execute();

  before(async () => {
    env = await testDb();
    await saveConnection(env.db, box, { integration: spec.id, id: 'contoso', config: {}, secrets: {} });
    await saveSubscription(env.db, box, {
      integration: spec.id,
      connection: 'contoso',
      subscriptionId: '7d1e5b2a-93c4-4f0e-b8a6-0c2f4e6a8b13',
      expiresAt: null,
      secret: STATE,
    });
    for (const [id, account] of [
      ['tenant-a', TENANT_A],
      ['tenant-b', TENANT_B],
    ] as const)
      await saveConnection(env.db, box, { integration: routedSpec.id, id, config: {}, secrets: {}, account });
  });
  after(async () => {
    for (const r of receivers) await r.close();
    if (env) {
      for (const id of [spec.id, routedSpec.id]) {
        await env.db.deleteFrom('webhook_events').where('integration', '=', id).execute();
        await env.db.deleteFrom('webhook_subscriptions').where('integration', '=', id).execute();
        await env.db.deleteFrom('connections').where('integration', '=', id).execute();
      }
      await env.close();
    }
  });

  it('stores the change notifications of a batch and hands over its lifecycle notifications', async () => {
    const receiver = await start((r) => {
      if (failing) return Promise.reject(new Error('temporal unreachable'));
      handed.push(r);
      return Promise.resolve();
    });
    failing = true;
    const value = [
      change('n-1'),
      lifecycle('missed'),
      lifecycle('reauthorizationRequired'),
      lifecycle('missed'),
    ];
    const refused = await post(receiver, '/webhooks/graphlife/contoso', value);
    assert.equal(refused.status, 503, 'the provider delivers it again');
    assert.equal(handed.length, 0);

    failing = false;
    const r = await post(receiver, '/webhooks/graphlife/contoso', value);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const events = r.body.events as Record<string, unknown>[];
    assert.deepEqual(events.slice(1), [
      { lifecycleEvent: 'missed', action: 'reconcile' },
      { lifecycleEvent: 'reauthorizationRequired', action: 'renew' },
      { lifecycleEvent: 'missed', action: 'reconcile' },
    ]);
    assert.equal(events[0]!.eventId, 'n-1');
    assert.deepEqual(
      handed.map((h) => [h.connection, h.action, h.events]),
      [
        ['contoso', 'reconcile', ['missed']],
        ['contoso', 'renew', ['reauthorizationRequired']],
      ],
      'one hand-over per action',
    );
    assert.deepEqual(
      (await stored()).map((e) => e.event_id),
      ['n-1'],
      'the change notification is stored (once: the first delivery stored it already), the lifecycle ones are not',
    );
  });

  it('answers 503 where nothing can hand a lifecycle notification over', async () => {
    const receiver = await start();
    const r = await post(receiver, '/webhooks/graphlife/contoso', [lifecycle('subscriptionRemoved')]);
    assert.equal(r.status, 503);
    assert.match(String(r.body.error), /lifecycle notifications cannot be handled here/);
    // An empty collection carries no clientState to authenticate it.
    assert.equal((await post(receiver, '/webhooks/graphlife/contoso', [])).status, 401);
    // A forged one is refused before that.
    const forged = await post(receiver, '/webhooks/graphlife/contoso', [
      lifecycle('subscriptionRemoved', TENANT_A, 'forged'),
    ]);
    assert.equal(forged.status, 401);
  });

  it('routed by tenantId, acts on the tenant that sent it', async () => {
    handed.length = 0;
    const receiver = await start((r) => {
      handed.push(r);
      return Promise.resolve();
    });
    const r = await post(receiver, '/webhooks/graphlifetenants', [
      lifecycle('subscriptionRemoved', TENANT_B),
      lifecycle('missed', 'cccccccc-0000-4000-8000-00000000000c'),
    ]);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(
      handed.map((h) => [h.integration, h.connection, h.action]),
      [['graphlifetenants', 'tenant-b', 'resubscribe']],
      'an unknown tenant has no subscription to act on',
    );
  });
});
