/** When a receiver restart counts as a gap, and which connections a gap reconciles. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { subscriptionLapsedEvent } from '../../src/sync/notifications.js';
import { reconcileTargets } from '../../src/temporal/webhook-reconcile.js';
import { gapSince } from '../../src/webhooks/liveness.js';
import { trackerSpec, trackerWebhooks } from '../helpers/tracker-spec.js';

describe('receiver gaps', () => {
  const seen = new Date('2026-12-03T10:00:00Z');
  it('is a gap only past the threshold, and never on a first start', () => {
    assert.equal(gapSince(null, new Date('2026-12-04T00:00:00Z'), 60_000), null);
    assert.equal(gapSince(seen, new Date('2026-12-03T10:01:00Z'), 60_000), null);
    assert.deepEqual(gapSince(seen, new Date('2026-12-03T10:01:00.001Z'), 60_000), seen);
  });

  it('reconciles the connections of integrations that declare reconcile, by their subscription if any', () => {
    const plain = { ...trackerSpec('http://x.test', undefined, trackerWebhooks()), id: 'plain' };
    const rec = trackerSpec('http://x.test', undefined, { ...trackerWebhooks(), reconcile: ['issues'] });
    const specs = new Map([
      [plain.id, plain],
      [rec.id, rec],
    ]);
    assert.deepEqual(
      reconcileTargets(specs, [
        { integration: 'plain', id: 'a' },
        { integration: 'tracker', id: 'b' },
        { integration: 'unknown', id: 'c' },
      ]),
      [{ integration: 'tracker', connection: 'b', resources: ['issues'], viaSubscription: false }],
    );
  });

  it('names a lapse by its subscription, so one lapse is one notification', () => {
    const at = new Date('2026-12-03T12:00:00Z');
    const s = { integration: 'graph', connection: 'c1', subscriptionId: 's-9', expiresAt: seen };
    const e = subscriptionLapsedEvent(s, 'expired', at);
    assert.equal(e.id, 'subscription-lapsed:graph:c1:s-9');
    assert.equal(subscriptionLapsedEvent(s, 'gone', new Date()).id, e.id);
    assert.deepEqual(e.data, {
      integration: 'graph',
      connection: 'c1',
      subscriptionId: 's-9',
      reason: 'expired',
      expiresAt: seen.toISOString(),
    });
  });
});
