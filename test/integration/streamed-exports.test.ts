/**
 * Streamed JSON Lines / CSV answers through the real engine (Temporal dev server + Postgres): committed
 * in chunks with a checkpoint each; one download serves every chunk of a run (across activity calls);
 * a download that breaks off, or a worker that goes away, resumes after the last committed chunk with
 * every record committed exactly once; a truncated gzip file fails the run loudly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { integrationSpecSchema, type IntegrationSpec } from '../../src/spec/schema.js';
import { commitPage, getRun, startRun } from '../../src/store/runs.js';
import { createSpecPageSources } from '../../src/sync/spec-page-source.js';
import { startEngine, TEST_KEY, type EngineHarness } from '../helpers/engine.js';
import { startExportFileServer, type ExportFileServer } from '../helpers/export-files.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';
import { SecretBox } from '../../src/store/secret-box.js';

const RECORDS = 5000;
const CHUNK = 400;

function exportSpec(base: string): IntegrationSpec {
  const resource = (path: string, format: 'jsonl' | 'csv') => ({
    request: { path },
    decoder: { format, chunkRecords: CHUNK },
    primaryKey: 'id',
    fields: {
      id: { type: 'integer' },
      name: 'name',
      amount: { type: 'number' },
      updated_at: { type: 'timestamp' },
    },
  });
  return integrationSpecSchema.parse({
    id: 'streamed',
    baseUrl: base,
    retry: { timeoutMs: 5000 },
    resources: {
      jsonl: resource('/export.jsonl', 'jsonl'),
      jsonlgz: resource('/export.jsonl.gz', 'jsonl'),
      csv: resource('/export.csv', 'csv'),
      csvgz: resource('/export.csv.gz', 'csv'),
      truncated: resource('/truncated.jsonl.gz', 'jsonl'),
    },
  });
}

describe('streamed exports', { timeout: 300_000 }, () => {
  let env: TestEnv;
  let files: ExportFileServer;
  let engine: EngineHarness;
  let spec: IntegrationSpec;

  before(async () => {
    env = await testEnv();
    files = await startExportFileServer({ records: RECORDS });
    spec = exportSpec(files.url);
    engine = await startEngine(env, [spec]);
  });
  after(async () => {
    await engine?.close();
    await files?.close();
    await env?.close();
  });

  const countOf = async (connection: string, resource: string) =>
    Number(
      (
        await env.db
          .selectFrom('records')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('integration', '=', 'streamed')
          .where('connection', '=', connection)
          .where('resource', '=', resource)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('JSON Lines, CSV and their gzip files: one download, chunks of 400 committed, typed by fields', async () => {
    const conn = uniqueId('s');
    await engine.addConnection('streamed', conn);
    for (const [resource, path] of [
      ['jsonl', '/export.jsonl'],
      ['jsonlgz', '/export.jsonl.gz'],
      ['csv', '/export.csv'],
      ['csvgz', '/export.csv.gz'],
    ] as const) {
      const before = files.requests.get(path) ?? 0;
      // Three chunks per activity call: the download stays open between calls.
      const r = await (
        await engine.run(engine.input('streamed', conn, resource, 'full', { pagesPerActivity: 3 }))
      ).result();
      assert.equal(r.inserted, RECORDS, resource);
      assert.equal(r.fetched, RECORDS, resource);
      assert.equal(r.pages, Math.ceil(RECORDS / CHUNK), resource);
      assert.equal((files.requests.get(path) ?? 0) - before, 1, `${resource}: one download`);
      assert.equal(await countOf(conn, resource), RECORDS);
    }
    const row = await env.db
      .selectFrom('records')
      .select('data')
      .where('connection', '=', conn)
      .where('resource', '=', 'csvgz')
      .where('record_key', '=', '4321')
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.data, {
      id: 4321,
      name: 'Record 4321',
      amount: ((4320 * 7919) % 100_000) / 100,
      updated_at: new Date(Date.UTC(2026, 0, 1) + 4320 * 1000).toISOString(),
    });
  });

  it('a download that breaks off mid-body resumes after the last committed chunk, each record once', async () => {
    const conn = uniqueId('s');
    await engine.addConnection('streamed', conn);
    for (const path of ['/export.jsonl.gz', '/export.csv']) {
      const resource = path === '/export.csv' ? 'csv' : 'jsonlgz';
      const before = files.requests.get(path) ?? 0;
      files.dropAfter(path, path.endsWith('.gz') ? 60_000 : 300_000);
      const r = await (await engine.run(engine.input('streamed', conn, resource))).result();
      assert.equal((files.requests.get(path) ?? 0) - before, 2, `${resource}: downloaded again once`);
      // fetched counts committed records only: a re-read chunk would show here and in updated.
      assert.equal(r.fetched, RECORDS, resource);
      assert.equal(r.inserted, RECORDS, resource);
      assert.equal(r.updated + r.unchanged, 0, resource);
      assert.equal(await countOf(conn, resource), RECORDS);
    }
  });

  it('a worker that goes away mid-download: another one skips the committed records and goes on', async () => {
    const conn = uniqueId('s');
    await engine.addConnection('streamed', conn);
    const target = { integration: 'streamed', connection: conn, resource: 'jsonlgz' };
    const run = await startRun(env.db, { ...target, id: uniqueId('run'), workflowId: 'plain', kind: 'full' });
    const deps = {
      db: env.db,
      specs: new Map([[spec.id, spec]]),
      secretBox: SecretBox.fromKey(TEST_KEY),
      env: {},
    };
    const step = async (open: ReturnType<typeof createSpecPageSources>, signal: AbortSignal) => {
      const current = (await getRun(env.db, run.id))!;
      const page = await (
        await open(current)
      ).readPage({ checkpoint: current.checkpoint, pagesSoFar: current.pages, since: null, signal });
      await commitPage(env.db, target, {
        runId: run.id,
        expectedPages: current.pages,
        checkpoint: page.checkpoint,
        done: page.done,
        total: page.total,
        highWater: page.highWater,
        fetched: page.fetched,
        records: page.records,
        quarantined: page.quarantined,
        trackSeen: true,
      });
      return page.done;
    };
    const before = files.requests.get('/export.jsonl.gz') ?? 0;
    // The first "worker" commits three chunks and dies (its download is cut by the abort).
    const dying = new AbortController();
    const first = createSpecPageSources(deps);
    for (let i = 0; i < 3; i++) await step(first, dying.signal);
    dying.abort();
    // The second starts from the committed checkpoint: a new download, 1,200 records skipped.
    const second = createSpecPageSources(deps);
    const signal = new AbortController().signal;
    while (!(await step(second, signal)));
    const done = (await getRun(env.db, run.id))!;
    assert.equal((files.requests.get('/export.jsonl.gz') ?? 0) - before, 2);
    assert.equal(done.fetched, RECORDS);
    assert.equal(done.inserted, RECORDS);
    assert.equal(done.updated, 0);
    assert.equal(done.pages, Math.ceil(RECORDS / CHUNK));
  });

  it('a truncated gzip file fails the run as a DecodeError naming the record it reached', async () => {
    const conn = uniqueId('s');
    await engine.addConnection('streamed', conn);
    const handle = await engine.run(engine.input('streamed', conn, 'truncated'));
    await assert.rejects(handle.result(), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      const messages: string[] = [];
      for (let c: unknown = e; c instanceof Error; c = c.cause) messages.push(c.message);
      assert.match(messages.join(' | '), /truncated file\) \(after record \d+\)/);
      return true;
    });
  });
});
