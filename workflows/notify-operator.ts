import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { OperatorEvent } from '../src/sync/notifications.js';

// A receiver that is down for hours still gets the event: backoff up to 10 minutes, for a day.
const { deliverNotification } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/**
 * Delivers one operator notification (`notify:<event id>`), retried by Temporal until the configured
 * URL answers 2xx: a worker crash or a receiver outage loses nothing, and the id makes it once.
 */
export async function notifyOperator(event: OperatorEvent): Promise<{ status: number | null }> {
  return deliverNotification(event);
}
