import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scalarText, valueAtPath } from '../../src/json/path.js';

describe('valueAtPath', () => {
  it('walks dot paths and stops at non-objects', () => {
    assert.equal(valueAtPath({ a: { b: { c: 3 } } }, 'a.b.c'), 3);
    assert.equal(valueAtPath({ a: 1 }, 'a.b'), undefined);
    assert.deepEqual(valueAtPath([1], ''), [1]);
  });

  it('reads each dot-separated part as a key, empty ones included, like splitting on dots', () => {
    const value = { a: { '': { b: 1 }, c: { '': 2 } }, x: [10, 20] };
    for (const path of ['a..b', 'a.c.', 'x.1', 'x.length', 'a', '.a', 'a.c', 'missing.deeper']) {
      const bySplit = path
        .split('.')
        .reduce<unknown>(
          (v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
          value,
        );
      assert.deepEqual(valueAtPath(value, path), bySplit, path);
    }
    assert.equal(valueAtPath(value, 'a..b'), 1);
    assert.equal(valueAtPath(value, 'a.c.'), 2);
    assert.equal(valueAtPath(value, 'x.1'), 20);
  });
});

describe('scalarText', () => {
  it('gives scalars as text and objects as JSON', () => {
    assert.equal(scalarText('a'), 'a');
    assert.equal(scalarText(12), '12');
    assert.equal(scalarText(false), 'false');
    assert.equal(scalarText({ a: 1 }), '{"a":1}');
  });
});
