import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Coalescer } from '../../src/store/coalescer.js';

/** A statement stand-in that records each batch and answers when the test releases it. */
function recorder() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const run = (inputs: number[]) => {
    batches.push(inputs);
    return new Promise<number[]>((resolve) => releases.push(() => resolve(inputs.map((x) => x * 10))));
  };
  return { batches, releases, run };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Coalescer', () => {
  it('sends the first call alone and gathers the calls that arrive meanwhile into the next batch', async () => {
    const r = recorder();
    let idle = 0;
    const c = new Coalescer(r.run, { maxBatch: 100, onIdle: () => idle++ });
    const first = c.submit(1);
    const rest = [2, 3, 4].map((x) => c.submit(x));
    await tick();
    assert.deepEqual(r.batches, [[1]], 'one statement in flight at a time');
    r.releases[0]!();
    assert.equal(await first, 10);
    await tick();
    assert.deepEqual(r.batches, [[1], [2, 3, 4]]);
    assert.equal(idle, 0, 'not idle while a batch is in flight');
    r.releases[1]!();
    assert.deepEqual(await Promise.all(rest), [20, 30, 40], 'each caller gets its own result, in order');
    await tick();
    assert.equal(idle, 1);
  });

  it('caps a batch at maxBatch and keeps the rest for the next', async () => {
    const r = recorder();
    const c = new Coalescer(r.run, { maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((x) => c.submit(x));
    for (let i = 0; i < 3; i++) {
      await tick();
      r.releases[i]!();
    }
    assert.deepEqual(await Promise.all(all), [10, 20, 30, 40, 50]);
    // The first call goes alone, at once; the four that came meanwhile go two by two.
    assert.deepEqual(r.batches, [[1], [2, 3], [4, 5]]);
  });

  it('fails every call of a failed batch, and only those', async () => {
    let calls = 0;
    const c = new Coalescer(
      async (xs: number[]) => {
        calls++;
        await tick();
        if (calls === 1) throw new Error('connection lost');
        return xs;
      },
      { maxBatch: 10 },
    );
    const a = c.submit(1);
    const b = c.submit(2);
    const results = await Promise.allSettled([a, b]);
    assert.equal(results[0].status, 'rejected');
    assert.match(String(results[0].status === 'rejected' && results[0].reason), /connection lost/);
    assert.deepEqual(results[1], { status: 'fulfilled', value: 2 });
  });

  it('rejects a statement that answers the wrong number of results', async () => {
    const c = new Coalescer((xs: number[]) => Promise.resolve(xs.slice(1)), { maxBatch: 10 });
    await assert.rejects(c.submit(1), /answered 0 results for 1 calls/);
  });
});
