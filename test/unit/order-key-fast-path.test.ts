/**
 * maxOrderValue compares two UTC timestamps written alike as text (no regular expression): the
 * answer must be the general comparison's for every pair, including the fields Date.UTC would carry
 * (day 29–31, hour 24, second 60), two-digit-era years and fractions of other lengths.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareOrderValues, maxOrderValue } from '../../src/order/order-key.js';

const general = (a: string, b: string) => (compareOrderValues(b, a) > 0 ? b : a);

test('maxOrderValue agrees with compareOrderValues on timestamps, edge fields included', () => {
  const values = [
    '2024-01-01T00:00:00Z',
    '2024-01-01T00:00:01Z',
    '2023-12-31T23:59:59Z',
    '2024-02-28T23:59:59Z',
    '2024-02-29T00:00:00Z',
    '2024-02-31T00:00:00Z',
    '2024-03-01T00:00:00Z',
    '2024-03-02T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-02T00:00:00Z',
    '2024-01-01T23:59:60Z',
    '2024-01-01T23:59:59.999Z',
    '2024-01-01T23:59:59.500Z',
    '2024-01-01T23:59:59.5Z',
    '2024-01-01T23:59:59.50Z',
    '0050-01-01T00:00:00Z',
    '1949-01-01T00:00:00Z',
    '1951-01-01T00:00:00Z',
    '2024-01-01T00:00:00+01:00',
    '2023-12-31T23:30:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-10T00:00:00Z',
  ];
  // Random plain ones too.
  for (let i = 0; i < 300; i++) {
    const d = new Date(Date.UTC(1990, 0, 1) + Math.floor(Math.random() * 1e12));
    values.push(i % 2 ? d.toISOString() : d.toISOString().replace(/\.\d+Z$/, 'Z'));
  }
  for (const a of values)
    for (const b of values) {
      let expected: string | Error;
      try {
        expected = general(a, b);
      } catch (error) {
        expected = error as Error;
      }
      if (expected instanceof Error) assert.throws(() => maxOrderValue(a, b), { name: expected.name });
      else assert.equal(maxOrderValue(a, b), expected, `${a} vs ${b}`);
    }
});

test('a tie keeps the first value', () => {
  assert.equal(maxOrderValue('2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'), '2024-01-01T00:00:00Z');
  assert.equal(maxOrderValue(null, '2024-01-01T00:00:00Z'), '2024-01-01T00:00:00Z');
  assert.equal(maxOrderValue('2024-01-01T00:00:00Z', null), '2024-01-01T00:00:00Z');
});
