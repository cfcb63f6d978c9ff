/** The one sleep that a signal can cut short, for rate-limit waits, lease polls and nudged pollers. */

/**
 * Resolves after `ms`. When `signal` aborts first, the timer is cleared and the promise rejects with
 * the signal's reason (`onAbort: 'reject'`, for cancellation) or resolves early (`'resolve'`, for a
 * wake-up). The listener is removed when the sleep ends: one signal may see many sleeps.
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  onAbort: 'reject' | 'resolve' = 'reject',
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      if (onAbort === 'resolve') resolve();
      else reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal?.aborted) {
      aborted();
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
