/**
 * The `export` resource mode: the catalog specs validate, mistakes are named by their spec path, and
 * the polling arithmetic (suggested interval, back-off, bounds) is what the spec says.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integrationSpecSchema } from '../../src/spec/schema.js';
import { loadSpec } from '../../src/spec/load.js';
import { nextPollDelay } from '../../src/sync/export-poll.js';

const exportSection = {
  submit: { request: { method: 'POST', path: '/jobs', body: { since: '{since}' } }, jobIdPath: 'id' },
  status: {
    request: { path: '/jobs/{job.id}' },
    statePath: 'state',
    states: { pending: ['Queued'], running: ['Running'], completed: ['Done'], failed: ['Failed'] },
    recordCountPath: 'count',
  },
  results: { urlPath: 'url' },
  download: { format: 'jsonl' },
};

function problems(resource: Record<string, unknown>): string[] {
  const r = integrationSpecSchema.safeParse({
    id: 'x',
    baseUrl: 'https://api.example.com',
    resources: { items: { primaryKey: 'id', ...resource } },
  });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('export spec', () => {
  it('the catalog bulk specs validate; request may be left out', async () => {
    for (const f of ['integrations/salesforce-bulk.yaml', 'integrations/shopify-bulk.yaml']) {
      const spec = await loadSpec(f);
      const r = Object.values(spec.resources)[0]!;
      assert.ok(r.export, f);
      assert.equal(r.request.path, r.export.submit.request.path);
    }
    assert.deepEqual(
      problems({
        export: exportSection,
        incremental: { cursorField: 'updated_at' },
        fields: { id: 'id', updated_at: 'u' },
      }),
      [],
    );
  });

  it('mistakes are named by their spec path', () => {
    assert.deepEqual(
      problems({
        pagination: { type: 'page' },
        decoder: { format: 'csv' },
        incremental: { cursorField: 'id', step: '1d' },
        export: {
          ...exportSection,
          submit: { request: { path: '/jobs/{job.id}', query: { at: '{cursor}' } }, jobIdPath: 'id' },
          status: {
            ...exportSection.status,
            states: { ...exportSection.status.states, failed: ['Done'] },
            interval: { minSeconds: 10, maxSeconds: 5 },
          },
          results: { urlPath: 'url', urlsPath: 'files.*.url' },
          cancel: { request: { method: 'DELETE', path: '/jobs/{jobid}' } },
        },
      }),
      [
        'resources.items.export.results: give exactly one of urlPath, urlsPath or pages',
        'resources.items.pagination: an export is read from its result files: leave pagination out (see export.results)',
        'resources.items.decoder: an export decodes its files as export.download says: leave decoder out',
        'resources.items.incremental.step: an export job covers the whole range at once: remove step',
        'resources.items.export.submit.request.path: {job.id}: unknown placeholder; use since, window.start, window.end, now, config.<field>',
        'resources.items.export.submit.request.query: {cursor}: unknown placeholder; use since, window.start, window.end, now, config.<field>',
        'resources.items.export.cancel.request.path: {jobid} is not a connectionConfig field (declared: none)',
        'resources.items.incremental.param: required: the query parameter of the high-water mark in the submit request, unless the submit request uses {since} or {window.start}, or clientSide: true',
        'resources.items.export.status.interval.minSeconds: must not be more than maxSeconds',
        'resources.items.export.status.states.failed: "Done" is also a completed state: a state maps to one of ours',
      ],
    );
  });

  it('polling: the suggestion wins within bounds; else the wait grows by the back-off up to the maximum', () => {
    const interval = { initialMs: 2000, minMs: 1000, maxMs: 60_000, backoff: 1.5 };
    assert.equal(nextPollDelay(interval, null, null), 2000);
    assert.equal(nextPollDelay(interval, 2000, null), 3000);
    assert.equal(nextPollDelay(interval, 50_000, null), 60_000);
    assert.equal(nextPollDelay(interval, 8000, 5000), 5000);
    assert.equal(nextPollDelay(interval, 8000, 10), 1000);
    assert.equal(nextPollDelay(interval, 8000, 3_600_000), 60_000);
  });
});
