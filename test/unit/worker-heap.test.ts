import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { applyWorkerHeapGrowth, DEFAULT_HEAP_GROWING_PERCENT } from '../../src/temporal/worker-heap.js';

describe('worker heap growth', () => {
  it('defaults to 50 and is read from SYNCWRIGHT_WORKER_HEAP_GROWING_PERCENT', () => {
    assert.equal(loadConfig({}).workerHeapGrowingPercent, DEFAULT_HEAP_GROWING_PERCENT);
    assert.equal(loadConfig({ SYNCWRIGHT_WORKER_HEAP_GROWING_PERCENT: '0' }).workerHeapGrowingPercent, 0);
    assert.throws(
      () => loadConfig({ SYNCWRIGHT_WORKER_HEAP_GROWING_PERCENT: 'lots' }),
      /SYNCWRIGHT_WORKER_HEAP_GROWING_PERCENT/,
    );
    assert.throws(
      () => loadConfig({ SYNCWRIGHT_WORKER_HEAP_GROWING_PERCENT: '1000' }),
      /SYNCWRIGHT_WORKER_HEAP_GROWING_PERCENT/,
    );
  });

  it('refuses a value V8 would not take and leaves V8 alone at 0', () => {
    assert.throws(() => applyWorkerHeapGrowth(-1), /0 to 400/);
    assert.throws(() => applyWorkerHeapGrowth(1.5), /0 to 400/);
    assert.equal(applyWorkerHeapGrowth(0), 0);
  });
});
