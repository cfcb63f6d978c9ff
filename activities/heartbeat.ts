import type { Context } from '@temporalio/activity';

/**
 * Runs `work` and heartbeats `details` every third of the activity's heartbeat timeout until it settles,
 * so a request slower than that timeout (but within the spec's request timeout) is not taken for a dead
 * worker. The SDK throttles heartbeats to what the server needs, so the timer costs little.
 */
export async function whileBeating<T>(ctx: Context, details: unknown, work: () => Promise<T>): Promise<T> {
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  // Without a heartbeat timeout nothing watches the beats; one a second keeps the details fresh.
  const everyMs = timeoutMs ? Math.max(100, timeoutMs / 3) : 1000;
  const timer = setInterval(() => ctx.heartbeat(details), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * A heartbeat function that passes on at most one beat per `gapMs` (default: a second, or a quarter of
 * the heartbeat timeout when that is shorter) and drops the rest. Every beat the SDK receives is encoded
 * and handed to its native core, which costs more than a page of 100 records takes to map and hash;
 * the server only needs one per heartbeat timeout and the UI's details may be a second old.
 */
export function throttledHeartbeat(
  ctx: Pick<Context, 'heartbeat' | 'info'>,
  options: { gapMs?: number; now?: () => number } = {},
): (details: unknown) => void {
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  const gap = options.gapMs ?? (timeoutMs ? Math.min(1000, timeoutMs / 4) : 1000);
  const clock = options.now ?? (() => performance.now());
  let last = -Infinity;
  return (details) => {
    const now = clock();
    if (now - last < gap) return;
    last = now;
    ctx.heartbeat(details);
  };
}
