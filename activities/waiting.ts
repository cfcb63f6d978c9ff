/**
 * Tells a sync run's workflow what its activity waits on (the `waiting` signal), so the run's current
 * details and its SyncWaiting search attribute say so. Only waits an operator would notice are sent
 * (a second or more), at most one notice every few seconds, and one "going on" when the wait is over.
 */
import type { Context } from '@temporalio/activity';
import { ProviderError } from '../src/http/errors.js';
import { waitingSignal, type WaitingNotice } from '../workflows/definitions.js';

const NOTICE_AFTER_MS = 1000;
const RESEND_AFTER_MS = 5000;

/** What the connection client calls a wait (connection-client.ts onWait reasons). */
const ON: Record<string, WaitingNotice['on']> = {
  'rate limit': 'rate-limit',
  'concurrent requests': 'concurrency',
};

export function waitReporter(ctx: Context, target: string) {
  // A retried attempt follows a wait that was shown: the first page read says it is over.
  let shown = ctx.info.attempt > 1;
  let episodeStart: number | undefined;
  let lastSent = 0;
  const send = (notice: WaitingNotice | null) => {
    lastSent = Date.now();
    let handle;
    try {
      const { workflowId, runId } = ctx.info.workflowExecution ?? {};
      if (!workflowId) return;
      handle = ctx.client.workflow.getHandle(workflowId, runId);
    } catch {
      return; // No client (a test environment without a worker): nothing to tell.
    }
    // Best effort: a lost notice only leaves the details stale until the activity returns.
    handle.signal(waitingSignal, notice).catch(() => undefined);
  };
  return {
    /** Before each wait slept in the activity. */
    waiting(waitMs: number, reason: string): void {
      const now = Date.now();
      episodeStart ??= now;
      if (now - episodeStart + waitMs < NOTICE_AFTER_MS) return;
      if (shown && now - lastSent < RESEND_AFTER_MS) return;
      shown = true;
      const on = ON[reason] ?? 'rate-limit';
      send({
        on,
        reason: `${target}: ${on === 'concurrency' ? 'all concurrent-request slots of the connection are busy' : 'the shared rate budget is spent'}; next try in ${Math.ceil(waitMs / 1000)}s`,
        untilMs: now + waitMs,
      });
    },
    /** A page was read: any wait is over. */
    wentOn(): void {
      episodeStart = undefined;
      if (!shown) return;
      shown = false;
      send(null);
    },
    /** The attempt ends with a wait handed to Temporal (nextRetryDelay): say what it waits for. */
    deferred(error: unknown): void {
      if (!(error instanceof ProviderError) || error.kind !== 'rate-limited') return;
      const ms = error.details.retryAfterMs;
      if (ms === undefined) return;
      const provider = error.details.status !== undefined;
      const on: WaitingNotice['on'] = provider
        ? 'retry-after'
        : /concurrent request slots/.test(error.message)
          ? 'concurrency'
          : 'rate-limit';
      send({
        on,
        reason: provider
          ? `${target}: the provider answered ${error.details.status} and asked to wait ${Math.ceil(ms / 1000)}s`
          : `${target}: ${on === 'concurrency' ? 'all concurrent-request slots of the connection stayed busy' : 'the shared rate budget is spent'}; Temporal retries the page in ${Math.ceil(ms / 1000)}s`,
        untilMs: Date.now() + ms,
      });
    },
  };
}
