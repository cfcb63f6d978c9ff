import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TtlCache } from '../../src/webhooks/ttl-cache.js';

describe('TtlCache', () => {
  it('forgets a value when it expires', () => {
    let now = 1000;
    const c = new TtlCache<string>(10, () => now);
    c.set('a', 'A', 500);
    assert.equal(c.get('a'), 'A');
    now = 1499;
    assert.equal(c.get('a'), 'A');
    now = 1500;
    assert.equal(c.get('a'), undefined);
    assert.equal(c.size, 0);
  });

  it('never holds more than its bound: expired entries go first, then the oldest', () => {
    let now = 0;
    const c = new TtlCache<number>(100, () => now);
    for (let i = 0; i < 50; i++) c.set(`short${i}`, i, 10);
    for (let i = 0; i < 50; i++) c.set(`long${i}`, i, 1_000_000);
    now = 20;
    c.set('new', 1, 1_000_000);
    assert.equal(c.size, 51, 'the 50 expired entries made room');
    assert.equal(c.get('long0'), 0);

    // Full of live entries: a tenth goes at once, the oldest first.
    for (let i = 51; i < 100; i++) c.set(`more${i}`, i, 1_000_000);
    assert.equal(c.size, 100);
    c.set('one more', 1, 1_000_000);
    assert.equal(c.size, 91);
    assert.equal(c.get('long0'), undefined, 'the oldest went');
    assert.equal(c.get('new'), 1);

    // A flood of distinct keys (made-up connection ids) stays bounded, and the newest are kept.
    for (let i = 0; i < 100_000; i++) c.set(`flood${i}`, i, 1_000_000);
    assert.ok(c.size <= 100, 'the flood stays within the bound');
    assert.equal(c.get('flood99999'), 99_999);
  });

  it('setting a key again renews it', () => {
    let now = 0;
    const c = new TtlCache<string>(10, () => now);
    c.set('a', 'old', 10);
    c.set('a', 'new', 100);
    now = 50;
    assert.equal(c.get('a'), 'new');
    c.delete('a');
    assert.equal(c.get('a'), undefined);
  });
});
