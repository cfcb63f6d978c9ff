import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { toFailure } from '../../activities/failures.js';
import {
  compareOrderValues,
  maxOrderValue,
  orderKind,
  OrderKindMismatchError,
} from '../../src/order/order-key.js';

const sign = (n: number) => Math.sign(n);

describe('order values (webhook order keys and incremental cursors)', () => {
  it('orders numbers as numbers, big integers exactly', () => {
    assert.equal(sign(compareOrderValues('9', '10')), -1);
    assert.equal(sign(compareOrderValues('10.5', '10.25')), 1);
    assert.equal(compareOrderValues('5', '5.0'), 0);
    assert.equal(sign(compareOrderValues('9007199254740993', '9007199254740992')), 1);
  });

  it('orders timestamps as instants: a fraction after whole seconds, mixed UTC offsets', () => {
    // As text, "…:01Z" sorts after "…:01.5Z" ('Z' > '.'): the older event would win.
    assert.equal(sign(compareOrderValues('2026-01-01T00:00:01Z', '2026-01-01T00:00:01.5Z')), -1);
    assert.equal(sign(compareOrderValues('2026-01-01T00:00:01.500Z', '2026-01-01T00:00:01.5Z')), 0);
    assert.equal(sign(compareOrderValues('2026-01-01T00:00:01.25Z', '2026-01-01T00:00:01.5Z')), -1);
    // 12:00 at +02:00 is 10:00 UTC: before 11:00 UTC, though it sorts after it as text.
    assert.equal(sign(compareOrderValues('2026-01-01T12:00:00+02:00', '2026-01-01T11:00:00Z')), -1);
    assert.equal(sign(compareOrderValues('2026-01-01T05:30:00-0600', '2026-01-01T11:00:00Z')), 1);
    assert.equal(compareOrderValues('2026-01-01T00:00:00Z', '2026-01-01T01:00:00+01:00'), 0);
    assert.equal(sign(compareOrderValues('2026-01-02', '2026-01-01T23:59:59Z')), 1);
    // Beyond milliseconds: microseconds still order.
    assert.equal(sign(compareOrderValues('2026-01-01T00:00:00.000001Z', '2026-01-01T00:00:00.000002Z')), -1);
  });

  it('orders other text as text', () => {
    assert.equal(orderKind('v2-abc'), 'text');
    assert.equal(sign(compareOrderValues('b', 'a')), 1);
  });

  it('refuses to order values of different kinds, naming both', () => {
    assert.throws(
      () => compareOrderValues('1767225600', '2026-01-01T00:00:00Z'),
      (e: unknown) =>
        e instanceof OrderKindMismatchError &&
        e.message ===
          'cannot order "1767225600" (number) against "2026-01-01T00:00:00Z" (timestamp): ' +
            'order values must all be numbers, all timestamps, or all other text',
    );
    assert.throws(() => compareOrderValues('2026-01-01T00:00:00Z', 'soon'), OrderKindMismatchError);
  });

  it('maxOrderValue keeps the later value and skips nulls', () => {
    assert.equal(maxOrderValue('2026-01-01T00:00:01.5Z', '2026-01-01T00:00:01Z'), '2026-01-01T00:00:01.5Z');
    assert.equal(maxOrderValue(null, '3'), '3');
    assert.equal(maxOrderValue('3', null), '3');
  });
});

describe('a mix of cursor kinds in a sync', () => {
  it('fails the activity for good (non-retryable, typed), not eight retries of a plain error', () => {
    const failure = toFailure(new OrderKindMismatchError('17', '2026-01-01T00:00:00Z'));
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'OrderKindMismatch');
    assert.equal(failure.nonRetryable, true);
    assert.match(
      failure.message,
      /^cannot order "17" \(number\) against "2026-01-01T00:00:00Z" \(timestamp\)/,
    );
  });
});
