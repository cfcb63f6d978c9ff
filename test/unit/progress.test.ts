import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxCursor } from '../../src/sync/page-source.js';
import type { RunSummary } from '../../src/sync/types.js';
import { progressDetails, progressOf } from '../../workflows/progress.js';

const summary = (over: Partial<RunSummary> = {}): RunSummary => ({
  runId: 'r',
  status: 'running',
  pages: 4,
  fetched: 400,
  inserted: 300,
  updated: 50,
  unchanged: 50,
  deleted: 0,
  quarantined: 0,
  total: 1000,
  cursor: 'page 5',
  done: false,
  error: null,
  childOf: null,
  ...over,
});

describe('progressOf', () => {
  it('computes rate and ETA from workflow time when the total is known', () => {
    const p = progressOf('r', summary(), false, 0, 10_000);
    assert.equal(p.ratePerSecond, 40);
    assert.equal(p.etaSeconds, 15);
    assert.equal(p.status, 'running');
  });
  it('has no ETA without a total or once finished', () => {
    assert.equal(progressOf('r', summary({ total: null }), false, 0, 1000).etaSeconds, null);
    assert.equal(progressOf('r', summary({ status: 'completed' }), false, 0, 1000).etaSeconds, null);
  });
  it('reports paused only while the run is running', () => {
    assert.equal(progressOf('r', summary(), true, 0, 1).status, 'paused');
    assert.equal(progressOf('r', summary({ status: 'cancelled' }), true, 0, 1).status, 'cancelled');
    assert.equal(progressOf('r', undefined, false, 0, 0).records, 0);
  });
  it('renders details for the Temporal UI', () => {
    const text = progressDetails(
      { integration: 'gh', connection: 'acme', resource: 'issues' },
      progressOf('r', summary(), false, 0, 10_000),
    );
    assert.match(text, /\*\*gh \/ acme \/ issues\*\* — running/);
    assert.match(text, /4 pages, 400 of 1000 records \(40\/s, about 15s left\)/);
    assert.match(text, /cursor: `page 5`/);
  });
});

describe('maxCursor', () => {
  it('compares numbers numerically and timestamps as instants (the shared order comparison)', () => {
    assert.equal(maxCursor('2026-01-01T00:00:01.5Z', '2026-01-01T00:00:01Z'), '2026-01-01T00:00:01.5Z');
    assert.equal(maxCursor('2026-01-01T12:00:00+02:00', '2026-01-01T11:00:00Z'), '2026-01-01T11:00:00Z');
    assert.throws(() => maxCursor('17', '2026-01-01T00:00:00Z'), /cannot order "2026-01-01T00:00:00Z"/);
    assert.equal(maxCursor('9', '10'), '10');
    assert.equal(
      maxCursor('2026-01-02T00:00:00.000Z', '2026-01-10T00:00:00.000Z'),
      '2026-01-10T00:00:00.000Z',
    );
    assert.equal(maxCursor(null, '5'), '5');
    assert.equal(maxCursor('5', null), '5');
  });
});
