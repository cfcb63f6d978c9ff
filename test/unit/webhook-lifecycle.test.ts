/** `webhooks.lifecycle` in a spec: each action is checked against what it needs, by spec path. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineIntegration } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';

const subscription = {
  subscribe: { method: 'POST', path: '/subscriptions', body: { expirationDateTime: '{expiry}' } },
  renew: { method: 'PATCH', path: '/subscriptions/{subscription.id}' },
};

const spec = (webhooks: Record<string, unknown>) =>
  defineIntegration({
    id: 'graph',
    baseUrl: 'http://x.test',
    resources: {
      messages: {
        request: { path: '/messages' },
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
      events: {},
      ...webhooks,
    },
  });

const fails = (webhooks: Record<string, unknown>, message: RegExp) =>
  assert.throws(
    () => spec(webhooks),
    (e: unknown) => e instanceof SpecError && message.test(e.message),
    `expected ${message}`,
  );

describe('webhooks.lifecycle in a spec', () => {
  it('takes the Graph mapping with a subscription and reconcile resources', () => {
    const s = spec({
      subscription,
      reconcile: ['messages'],
      lifecycle: {
        event: '{body.lifecycleEvent}',
        actions: {
          missed: 'reconcile',
          reauthorizationRequired: 'renew',
          subscriptionRemoved: 'resubscribe',
        },
      },
    });
    assert.deepEqual(s.webhooks?.lifecycle?.actions, {
      missed: 'reconcile',
      reauthorizationRequired: 'renew',
      subscriptionRemoved: 'resubscribe',
    });
  });

  it('names the path of what an action lacks', () => {
    const lifecycle = (actions: Record<string, string>) => ({ event: { path: 'lifecycleEvent' }, actions });
    fails(
      { subscription, lifecycle: lifecycle({ missed: 'reconcile' }) },
      /webhooks\.lifecycle\.actions\.missed: reconcile .*webhooks\.reconcile/,
    );
    fails(
      { reconcile: ['messages'], lifecycle: lifecycle({ subscriptionRemoved: 'resubscribe' }) },
      /webhooks\.lifecycle\.actions\.subscriptionRemoved: resubscribe .*declare webhooks\.subscription/,
    );
    fails(
      {
        subscription: { subscribe: subscription.subscribe },
        lifecycle: lifecycle({ reauthorizationRequired: 'renew' }),
      },
      /webhooks\.lifecycle\.actions\.reauthorizationRequired: renew needs webhooks\.subscription\.renew/,
    );
    fails(
      { subscription, reconcile: ['messages'], lifecycle: lifecycle({ missed: 'resync' }) },
      /webhooks\.lifecycle\.actions\.missed/,
    );
    fails({ subscription, lifecycle: lifecycle({}) }, /webhooks\.lifecycle\.actions: list at least one/);
    fails(
      {
        subscription,
        reconcile: ['messages'],
        lifecycle: { event: '{bdy.x}', actions: { missed: 'reconcile' } },
      },
      /webhooks\.lifecycle\.event: \{bdy\.x\}/,
    );
  });
});
