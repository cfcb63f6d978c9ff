/**
 * A sleep that a nudge cuts short. A nudge that comes while nobody sleeps is kept for the next sleep,
 * so work signalled during a pass is never left waiting for a whole poll interval.
 */
export class NudgeableSleep {
  private nudged = false;
  private wake: (() => void) | undefined;

  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /** Resolves after `ms`, or at once if nudged since the last sleep, or when nudged meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.nudged) {
      this.nudged = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // Forgotten on timeout too: a stale wake would swallow the next nudge.
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.nudged = false;
        resolve();
      };
    });
  }
}
