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
