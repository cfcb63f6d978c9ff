/**
 * A sleep that a nudge cuts short. A nudge that comes while nobody sleeps is kept for the next sleep,
 * so work signalled during a pass is never left waiting for a whole poll interval.
 */
import { sleep } from '../sleep.js';

export class NudgeableSleep {
  private nudged = false;
  private wake: AbortController | undefined;

  nudge(): void {
    if (this.wake) this.wake.abort();
    else this.nudged = true;
  }

  /** Resolves after `ms`, or at once if nudged since the last sleep, or when nudged meanwhile. */
  async sleep(ms: number): Promise<void> {
    if (this.nudged) {
      this.nudged = false;
      return;
    }
    const wake = new AbortController();
    this.wake = wake;
    try {
      await sleep(ms, wake.signal, 'resolve');
    } finally {
      // Forgotten on timeout too: a stale wake would swallow the next nudge.
      if (this.wake === wake) this.wake = undefined;
    }
  }
}
