import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throttledHeartbeat } from '../../activities/heartbeat.js';

function fakeContext(heartbeatTimeoutMs: number | undefined) {
  const sent: unknown[] = [];
  return {
    sent,
    ctx: {
      info: { heartbeatTimeoutMs } as never,
      heartbeat: (details?: unknown) => void sent.push(details),
    },
  };
}

test('passes the first beat on, then at most one per gap, dropping the rest', () => {
  const { ctx, sent } = fakeContext(undefined);
  let now = 0;
  const beat = throttledHeartbeat(ctx, { now: () => now });
  beat({ pages: 0 });
  now = 400;
  beat({ pages: 1 });
  now = 999;
  beat({ pages: 2 });
  now = 1000;
  beat({ pages: 3 });
  now = 1500;
  beat({ pages: 4 });
  now = 2100;
  beat({ pages: 5 });
  assert.deepEqual(sent, [{ pages: 0 }, { pages: 3 }, { pages: 5 }]);
});

test('a short heartbeat timeout shortens the gap to a quarter of it', () => {
  const { ctx, sent } = fakeContext(2000);
  let now = 0;
  const beat = throttledHeartbeat(ctx, { now: () => now });
  for (now = 0; now <= 1000; now += 100) beat(now);
  assert.deepEqual(sent, [0, 500, 1000]);
});

test('a long heartbeat timeout keeps the gap at a second', () => {
  const { ctx, sent } = fakeContext(60_000);
  let now = 0;
  const beat = throttledHeartbeat(ctx, { now: () => now });
  for (now = 0; now <= 3000; now += 250) beat(now);
  assert.deepEqual(sent, [0, 1000, 2000, 3000]);
});
