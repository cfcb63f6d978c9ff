import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NudgeableSleep } from '../../src/webhooks/nudge.js';

const within = async (p: Promise<void>, ms: number) => {
  const started = performance.now();
  await p;
  return performance.now() - started < ms;
};

describe('NudgeableSleep', () => {
  it('sleeps its time when nobody nudges', async () => {
    const s = new NudgeableSleep();
    const started = performance.now();
    await s.sleep(30);
    assert.ok(performance.now() - started >= 25);
  });

  it('a nudge during a sleep ends it', async () => {
    const s = new NudgeableSleep();
    const p = s.sleep(60_000);
    s.nudge();
    assert.ok(await within(p, 1000));
  });

  it('a nudge between sleeps ends the next one at once, and only that one', async () => {
    const s = new NudgeableSleep();
    s.nudge();
    assert.ok(await within(s.sleep(60_000), 1000));
    const started = performance.now();
    await s.sleep(30);
    assert.ok(performance.now() - started >= 25, 'the nudge was used up');
  });

  it('a nudge after a sleep that ran out is kept for the next sleep', async () => {
    // The dispatcher's old bug: the timed-out sleep's wake stayed set and swallowed this nudge.
    const s = new NudgeableSleep();
    await s.sleep(5);
    s.nudge();
    assert.ok(await within(s.sleep(60_000), 1000));
  });
});
