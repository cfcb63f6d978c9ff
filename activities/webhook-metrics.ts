/** What applying a webhook event tells the metrics: latency from receipt, and the record it wrote. */
import { recordApplied, recordWrites } from '../src/metrics/metrics.js';
import type { Change, EntityTarget, Outcome, PendingRow } from '../src/webhooks/apply.js';

export function recordApplyOutcome(
  target: EntityTarget,
  event: PendingRow,
  change: Change,
  outcome: Outcome,
): void {
  if (outcome === 'skipped') return;
  if (event.receivedAt)
    recordApplied(
      target.integration,
      target.resource,
      outcome,
      (Date.now() - event.receivedAt.getTime()) / 1000,
    );
  if (outcome === 'applied')
    recordWrites(target, { [change.kind === 'delete' ? 'deleted' : 'upserted']: 1 }, 'webhook');
}
