import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scalarText, valueAtPath } from '../../src/sync/records-at-path.js';

describe('valueAtPath', () => {
  it('walks dot paths and stops at non-objects', () => {
    assert.equal(valueAtPath({ a: { b: { c: 3 } } }, 'a.b.c'), 3);
    assert.equal(valueAtPath({ a: 1 }, 'a.b'), undefined);
    assert.deepEqual(valueAtPath([1], ''), [1]);
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
