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
  it('writes exactly what JSON.stringify writes with sorted keys (hashes stored before stay valid)', () => {
    // The replacer-based form it replaced, kept here as the reference.
    const reference = (value: unknown) =>
      JSON.stringify(value, (_key, v: unknown) => {
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const sorted: Record<string, unknown> = {};
          for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
          return sorted;
        }
        return v;
      });
    const values: unknown[] = [
      { id: 1, title: 'Issue "1"\n\u2028', b: true, z: null, n: -0, big: 1e21, small: 5e-7, u: undefined },
      { nested: { b: [1, undefined, () => 1, Symbol('s'), NaN, Infinity], a: { d: new Date(0), c: 'é😀' } } },
      [{ y: 1, x: [] }, {}, 'a', 0, false],
      {
        'key with "quotes"': 1,
        '': 2,
        '10': 3,
        '9': 4,
        B: 5,
        a: 6,
        '01': 7,
        '4294967295': 8,
        '4294967294': 9,
      },
      { toJSON: () => ({ b: 1, a: 2 }) },
      // Flat objects (primitive values only) take a faster path that must write the same text.
      { title: 'x', id: 2, done: false, none: null, n: 1.5, neg: -0 },
      { b: 1, a: NaN },
      { b: 1, a: undefined },
      { '2': 'x', '1': true, z: 'y', a: null },
      // Keys already in canonical order (as mapFields writes a record) are written without a copy.
      { a: null, b: 'x', c: 1, d: false },
      { '1': true, '2': 'x', a: null, z: 'y' },
      { a: 1, b: { d: 1, c: 2 } },
      { a: 1, b: 'late' },
      'text',
      42,
      null,
    ];
    for (const v of values) assert.equal(canonicalJson(v), reference(v));
    // An own "__proto__" key (JSON.parse makes one) is kept, on the flat path as on the general one.
    assert.equal(
      canonicalJson(JSON.parse('{"b": 1, "__proto__": "p", "a": 2}')),
      '{"__proto__":"p","a":2,"b":1}',
    );
    assert.equal(
      canonicalJson(JSON.parse('{"o": {"b": 1, "__proto__": "p"}}')),
      '{"o":{"__proto__":"p","b":1}}',
    );
  });
  it('is hex sha256', () => {
    assert.match(contentHash({}), /^[0-9a-f]{64}$/);
  });
});
