import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasUnstorableText, storableJson } from '../../src/store/storable-json.js';

describe('storable JSON text', () => {
  const json = (v: unknown) => JSON.stringify(v);

  it('finds a NUL and an unpaired surrogate, high or low, and replaces each with U+FFFD', () => {
    for (const [value, fixed] of [
      ['a\u0000b', 'a\ufffdb'],
      ['cut \ud83d', 'cut \ufffd'],
      ['\udc00 low first', '\ufffd low first'],
      ['two \ud800\ud800', 'two \ufffd\ufffd'],
    ] as const) {
      assert.equal(hasUnstorableText(json({ value })), true, value);
      assert.deepEqual(JSON.parse(storableJson(json({ value }))), { value: fixed });
    }
    // In a key too.
    assert.equal(hasUnstorableText(json({ 'k\u0000': 1 })), true);
  });

  it('leaves alone whole surrogate pairs, other escapes and a backslash followed by the text u0000', () => {
    for (const value of ['😀', 'tab\tand \u0001', 'a \\u0000 typed out', 'a \\\\u0000 too', 'ok \\ud83d']) {
      assert.equal(hasUnstorableText(json({ value })), false, value);
      assert.equal(storableJson(json({ value })), json({ value }));
    }
    // A long run of backslashes is read once, not once per backslash (a provider's text can hold one).
    const run = `${'\\'.repeat(100_000)}\u0001`;
    const started = performance.now();
    assert.equal(hasUnstorableText(json({ value: run })), false);
    assert.equal(storableJson(json({ value: run })), json({ value: run }));
    assert.equal(hasUnstorableText(json({ value: `${run}\u0000` })), true);
    // Linear: milliseconds; the quadratic form took seconds at a tenth of this length.
    assert.ok(performance.now() - started < 2000, `took ${performance.now() - started} ms`);
    // After an escaped backslash, a real NUL escape is still found.
    assert.equal(hasUnstorableText(json({ value: '\\\u0000' })), true);
    assert.deepEqual(JSON.parse(storableJson(json({ value: '\\\u0000' }))), { value: '\\\ufffd' });
  });
});
