/** Receiver and dispatcher together: what `syncwright webhooks serve`, `up` and the demo run. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { EngineDeps } from '../sync/deps.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { startWebhookReceiver, webhookPath, type RunningReceiver } from '../webhooks/receiver.js';
import { clearGap, markAlive, markStart } from '../webhooks/liveness.js';
import { handOverLifecycle, reconcileSequenceGaps, startReconciliations } from './webhook-reconcile.js';
import { listSequenceGaps, sweepSequences } from '../webhooks/sequence-store.js';
import { startNotification } from '../../activities/notify.js';
import { sequenceSkippedEvent } from '../sync/notifications.js';

export interface WebhookServiceOptions extends EngineDeps {
  /** Connects to Temporal; may fail (the dispatcher retries), so the receiver runs through outages. */
  connect: () => Promise<Client>;
  taskQueue: string;
  host?: string;
  port?: number;
  /**
   * A silence of the receiver longer than this (no liveness mark) starts the `webhooks.reconcile`
   * syncs at start (default 2 minutes); the mark is written every quarter of it, at most every 30 s.
   */
  gapMs?: number;
  /**
   * How often skipped sequence numbers past their reorder time are counted as lost and their
   * reconciliation started (specs with `webhooks.sequence`; default 5 s).
   */
  sequenceSweepMs?: number;
  /** Tell the operator about skipped sequences (`webhook.sequence.skipped`; SYNCWRIGHT_NOTIFY_URL is set). */
  notify?: boolean;
}

const DEFAULT_GAP_MS = 120_000;

export interface WebhookService {
  readonly receiver: RunningReceiver;
  readonly dispatcher: WebhookDispatcher;
  /** POST URLs per integration (append the connection id). */
  readonly routes: { integration: string; url: string }[];
  /** Settles once a gap found at start was handed to its reconciliation (at once without a gap). */
  readonly reconciled: Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookService(options: WebhookServiceOptions): Promise<WebhookService> {
  const gapMs = options.gapMs ?? DEFAULT_GAP_MS;
  const gapFrom = await markStart(options.db, gapMs);
  const closing = new AbortController();
  const alive = setInterval(
    () => {
      markAlive(options.db).catch((error: unknown) =>
        options.log?.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'could not write the webhook receiver liveness mark',
        ),
      );
    },
    Math.min(gapMs / 4, 30_000),
  );
  alive.unref();

  /** Hands the gap to Temporal, retrying while it cannot be reached (the receiver runs meanwhile). */
  async function reconcileGap(from: Date): Promise<void> {
    const reason = `the webhook receiver was down since ${from.toISOString()}`;
    for (let backoff = 500; !closing.signal.aborted; backoff = Math.min(backoff * 2, 30_000)) {
      try {
        const targets = await startReconciliations(
          await options.connect(),
          options.db,
          options.specs,
          options.taskQueue,
          reason,
        );
        await clearGap(options.db, from);
        options.log?.info(
          { since: from.toISOString(), connections: targets.length },
          'reconciling webhooks after the receiver was down',
        );
        return;
      } catch (error) {
        options.log?.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'could not start the reconciliation after the receiver was down; retrying',
        );
        // Closing cuts the wait short; the gap stays recorded for the next start.
        await sleep(backoff, undefined, { signal: closing.signal }).catch(() => undefined);
      }
    }
  }
  /**
   * Holes in event sequences that are past due become gaps; pending gaps start their reconciliation.
   * A pass that fails (Temporal unreachable) leaves them pending for the next.
   */
  const sequenced = [...options.specs.values()].filter((s) => s.webhooks?.sequence);
  let sweeping: Promise<void> = Promise.resolve();
  let busy = false;
  async function sweep(): Promise<void> {
    try {
      await sweepSequences(options.db);
      const integrations = sequenced.map((s) => s.id);
      if ((await listSequenceGaps(options.db, { pending: true, integrations, limit: 1 })).length === 0)
        return;
      const client = await options.connect();
      const done = await reconcileSequenceGaps(
        client,
        options.db,
        options.specs,
        options.taskQueue,
        options.notify
          ? (integration, connection, gaps) =>
              startNotification(
                client,
                options.taskQueue,
                sequenceSkippedEvent(integration, connection, gaps, new Date()),
              )
          : undefined,
      );
      for (const d of done)
        options.log?.info(
          { integration: d.integration, connection: d.connection, gaps: d.gaps.length },
          'reconciling webhooks after the event sequence skipped',
        );
    } catch (error) {
      options.log?.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'could not reconcile skipped webhook sequences; retrying',
      );
    }
  }
  const sweeper =
    sequenced.length === 0
      ? undefined
      : setInterval(() => {
          // One pass at a time; a tick during a slow pass is skipped, not queued.
          if (busy) return;
          busy = true;
          sweeping = sweep().finally(() => {
            busy = false;
          });
        }, options.sequenceSweepMs ?? 5000);
  sweeper?.unref();

  const dispatcher = new WebhookDispatcher({
    db: options.db,
    connect: options.connect,
    taskQueue: options.taskQueue,
    log: options.log,
  });
  let receiver: RunningReceiver;
  try {
    receiver = await startWebhookReceiver({
      db: options.db,
      specs: options.specs,
      secretBox: options.secretBox,
      env: options.env,
      log: options.log,
      onAccepted: () => dispatcher.nudge(),
      onLifecycle: async (request) =>
        handOverLifecycle(await options.connect(), options.specs, options.taskQueue, request),
      ...(options.host ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
  } catch (error) {
    // Not listening after all (a taken port, say): no mark; a gap found stays recorded.
    clearInterval(alive);
    clearInterval(sweeper);
    closing.abort();
    throw error;
  }
  dispatcher.start();
  const reconciling = gapFrom ? reconcileGap(gapFrom) : Promise.resolve();
  const routes = [...options.specs.values()]
    .filter((s) => s.webhooks)
    .map((s) => ({ integration: s.id, url: `${receiver.url}${webhookPath(s)}/<connection>` }));
  return {
    receiver,
    dispatcher,
    routes,
    reconciled: reconciling,
    close: async () => {
      closing.abort();
      clearInterval(alive);
      clearInterval(sweeper);
      await sweeping;
      await reconciling;
      await receiver.close();
      await dispatcher.stop();
    },
  };
}
