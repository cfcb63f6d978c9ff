/** Signals and queries shared by workflows and the clients that send or ask them. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunStatus } from '../src/sync/types.js';

export interface SyncProgress {
  runId: string;
  status: RunStatus | 'paused';
  pages: number;
  records: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  quarantined: number;
  cursor: string | null;
  total: number | null;
  /** Records per second since the run started (workflow time). */
  ratePerSecond: number;
  /** Seconds left at the current rate, when the provider told the total. */
  etaSeconds: number | null;
}

export const progressQuery = defineQuery<SyncProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Stops after the page in flight; committed pages stay committed and the run is marked cancelled. */
export const cancelSignal = defineSignal<[reason?: string]>('cancel');

/**
 * Webhook events for a per-entity workflow: inbox row ids (payloads stay in Postgres). The dispatcher
 * sends `ids`; a single `id` is what it sent before, still taken from workflows started then.
 */
export interface WebhookEventSignal {
  ids?: number[];
  id?: number;
}
export const webhookEventSignal = defineSignal<[WebhookEventSignal]>('webhookEvent');

/**
 * What a run's activity is waiting on (sent by the activity when a wait is long enough to notice), or
 * null when it goes on. `untilMs` is epoch milliseconds on the worker's clock.
 */
export interface WaitingNotice {
  on: 'rate-limit' | 'concurrency' | 'retry-after';
  reason: string;
  untilMs: number;
}
export const waitingSignal = defineSignal<[WaitingNotice | null]>('waiting');
/** What the webhook subscription workflow holds (its query `subscription`, also in `connection list`). */
export interface SubscriptionView {
  subscriptionId: string | null;
  /** ISO 8601; null: none yet, or it does not expire. */
  expiresAt: string | null;
  /** When the next renewal is due (ISO 8601), or null. */
  renewAt: string | null;
  renewals: number;
  /** Reconciling syncs started by this execution, with why. */
  reconciliations: { at: string; reason: string; resources: string[] }[];
  removing: boolean;
}
export const subscriptionQuery = defineQuery<SubscriptionView>('subscription');
/** Unsubscribe at the provider and end (sent by `connection remove`). */
export const removeSubscriptionSignal = defineSignal('removeSubscription');
/** Start the reconciling syncs now (e.g. after the receiver was down). */
export const reconcileSignal = defineSignal<[reason?: string]>('reconcile');
/**
 * A subscription lifecycle notification (`webhooks.lifecycle`): renew the subscription now, or
 * subscribe again (the provider removed it) and reconcile. `reason` names the notification.
 */
export interface LifecycleRequest {
  action: 'renew' | 'resubscribe';
  reason: string;
}
export const lifecycleSignal = defineSignal<[LifecycleRequest]>('lifecycle');
