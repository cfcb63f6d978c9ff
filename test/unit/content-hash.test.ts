import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, contentHash } from '../../src/store/content-hash.js';

describe('contentHash', () => {
  it('ignores key order at every depth', () => {
    const a = { id: 1, nested: { b: 2, a: [{ y: 1, x: 2 }] } };
    const b = { nested: { a: [{ x: 2, y: 1 }], b: 2 }, id: 1 };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(contentHash(a), contentHash(b));
  });
  it('changes when a value or array order changes', () => {
    assert.notEqual(contentHash({ a: 1 }), contentHash({ a: 2 }));
    assert.notEqual(contentHash({ a: [1, 2] }), contentHash({ a: [2, 1] }));
    assert.notEqual(contentHash({ a: null }), contentHash({}));
  });
  it('is hex sha256', () => {
    assert.match(contentHash({}), /^[0-9a-f]{64}$/);
  });
});
