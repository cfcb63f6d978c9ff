import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRateHeaders, resetTime } from '../../src/http/rate-headers.js';

const now = new Date('2026-11-24T10:00:00.000Z');
const parse = (h: Record<string, string>) => parseRateHeaders((n) => h[n.toLowerCase()] ?? null, now);
const plus = (s: number) => new Date(now.getTime() + s * 1000);

describe('provider rate-limit headers', () => {
  it('Retry-After in seconds or as an HTTP date blocks until then', () => {
    assert.deepEqual(parse({ 'retry-after': '7' }).blockedUntil, plus(7));
    assert.deepEqual(parse({ 'retry-after': 'Tue, 24 Nov 2026 10:00:30 GMT' }).blockedUntil, plus(30));
    assert.deepEqual(
      parse({ 'retry-after': 'Tue, 24 Nov 2026 09:00:00 GMT' }).blockedUntil,
      now,
      'a past date: now',
    );
    assert.equal(parse({ 'retry-after': 'later' }).blockedUntil, undefined);
    assert.equal(parse({ 'retry-after': '-3' }).blockedUntil, undefined);
  });

  it('X-RateLimit-Remaining 0 blocks until the reset, given as delta, epoch seconds or epoch ms', () => {
    assert.deepEqual(
      parse({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '30' }).blockedUntil,
      plus(30),
    );
    const epoch = String(now.getTime() / 1000 + 60);
    assert.deepEqual(
      parse({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': epoch }).blockedUntil,
      plus(60),
    );
    const ms = String(now.getTime() + 90_000);
    assert.deepEqual(parse({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': ms }).blockedUntil, plus(90));
    const left = parse({
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '12',
      'x-ratelimit-reset': '30',
    });
    assert.equal(left.blockedUntil, undefined);
    assert.deepEqual([left.limit, left.remaining], [5000, 12]);
    assert.equal(
      parse({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now.getTime() / 1000 - 5) })
        .blockedUntil,
      undefined,
      'a reset in the past blocks nothing',
    );
  });

  it('IETF RateLimit and RateLimit-Policy, old and new syntax', () => {
    assert.deepEqual(parse({ ratelimit: 'limit=100, remaining=0, reset=12' }).blockedUntil, plus(12));
    assert.deepEqual(parse({ ratelimit: '"default";r=0;t=8' }).blockedUntil, plus(8));
    const p = parse({ 'ratelimit-policy': '"default";q=100;w=60', ratelimit: '"default";r=40;t=20' });
    assert.deepEqual([p.limit, p.windowSeconds, p.remaining, p.blockedUntil], [100, 60, 40, undefined]);
    assert.deepEqual(
      [
        parse({ 'ratelimit-policy': '100;w=60' }).limit,
        parse({ 'ratelimit-policy': '100;w=60' }).windowSeconds,
      ],
      [100, 60],
    );
  });

  it('Retry-After wins over every other header', () => {
    const r = parse({
      'retry-after': '3',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '60',
      ratelimit: 'remaining=0, reset=90',
    });
    assert.deepEqual(r.blockedUntil, plus(3));
    assert.equal(r.source, 'retry-after');
  });

  it('tells delta seconds from epoch seconds and milliseconds by magnitude', () => {
    assert.deepEqual(resetTime(0, now), now);
    assert.deepEqual(resetTime(86_400, now), plus(86_400));
    assert.deepEqual(resetTime(1_800_000_000, now), new Date(1_800_000_000_000));
    assert.deepEqual(resetTime(1_800_000_000_000, now), new Date(1_800_000_000_000));
    assert.equal(resetTime(-1, now), undefined);
  });
});
