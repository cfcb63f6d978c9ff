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

/** A webhook event for a per-entity workflow: the inbox row id (payloads stay in Postgres). */
export interface WebhookEventSignal {
  id: number;
}
export const webhookEventSignal = defineSignal<[WebhookEventSignal]>('webhookEvent');
