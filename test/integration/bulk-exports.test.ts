/**
 * Bulk exports (spec `export`) through the real engine (Temporal dev server + Postgres), with the
 * catalog specs integrations/salesforce-bulk.yaml and shopify-bulk.yaml against the testing kit's
 * simulators: the job is submitted once, polled on durable timers with back-off, its results streamed
 * in checkpointed chunks; a count mismatch or a truncated file fails the run and leaves the previous
 * state (high-water mark, deletions) untouched; an expired URL or job is refreshed or resubmitted; a
 * failed job fails with the provider's message; cancelling the run cancels the provider's job.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  SALESFORCE_BULK_TOKEN,
  SHOPIFY_BULK_TOKEN,
  startSalesforceBulkSimulator,
  startShopifyBulkSimulator,
  type SalesforceBulkSimulator,
  type ShopifyBulkSimulator,
} from '../../src/testing/index.js';
import { getRun } from '../../src/store/runs.js';
import { salesforceBulkSpec, shopifyBulkSpec } from '../helpers/bulk-specs.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const RECORDS = 5000;

describe('bulk exports', { timeout: 600_000 }, () => {
  let env: TestEnv;
  let sf: SalesforceBulkSimulator;
  let shop: ShopifyBulkSimulator;
  let engine: EngineHarness;

  before(async () => {
    env = await testEnv();
    sf = await startSalesforceBulkSimulator({ records: RECORDS });
    shop = await startShopifyBulkSimulator({ records: RECORDS, gzip: true });
    engine = await startEngine(env, [
      await salesforceBulkSpec(sf.url),
      await shopifyBulkSpec(shop.url, shop.storageUrl),
    ]);
  });
  after(async () => {
    await engine?.close();
    await sf?.close();
    await shop?.close();
    await env?.close();
  });

  const connect = async (integration: 'salesforce-bulk' | 'shopify-bulk') => {
    const conn = uniqueId('c');
    await engine.addConnection(
      integration,
      conn,
      integration === 'salesforce-bulk'
        ? { token: SALESFORCE_BULK_TOKEN }
        : { access_token: SHOPIFY_BULK_TOKEN },
    );
    return conn;
  };
  const resourceOf = (integration: string) => (integration === 'salesforce-bulk' ? 'accounts' : 'products');
  /** Histories for the replay test (test/fixtures/histories), when SYNCWRIGHT_RECORD_HISTORIES names a folder. */
  const record = async (handle: WorkflowHandle, name: string | undefined) => {
    const dir = process.env.SYNCWRIGHT_RECORD_HISTORIES;
    if (dir && name) writeFileSync(`${dir}/${name}.json`, historyToJSON(await handle.fetchHistory()));
  };
  const sync = async (
    integration: string,
    conn: string,
    kind: 'full' | 'incremental' = 'full',
    history?: string,
  ) => {
    const handle = await engine.run(engine.input(integration, conn, resourceOf(integration), kind));
    const r = await handle.result();
    await record(handle, history);
    return r;
  };
  const failure = async (integration: string, conn: string, kind: 'full' | 'incremental' = 'full') => {
    const handle = await engine.run(engine.input(integration, conn, resourceOf(integration), kind));
    try {
      await handle.result();
    } catch (e) {
      assert.ok(e instanceof WorkflowFailedError, String(e));
      const cause = e.cause as { type?: string; message: string } | undefined;
      return { type: cause?.type, message: cause?.message ?? '' };
    }
    assert.fail('the run did not fail');
  };
  const state = async (integration: string, conn: string) => {
    const resource = resourceOf(integration);
    const hw = await env.db
      .selectFrom('sync_state')
      .select('high_water')
      .where('integration', '=', integration)
      .where('connection', '=', conn)
      .where('resource', '=', resource)
      .executeTakeFirst();
    const rows = await env.db
      .selectFrom('records')
      .select(['record_key', 'deleted_at'])
      .where('integration', '=', integration)
      .where('connection', '=', conn)
      .where('resource', '=', resource)
      .execute();
    return {
      highWater: hw?.high_water ?? null,
      live: rows.filter((r) => r.deleted_at === null).length,
      deleted: rows.filter((r) => r.deleted_at !== null).map((r) => r.record_key),
    };
  };
  /** A record the provider no longer has: a completed full run marks it deleted. */
  const plantGone = async (integration: string, conn: string) =>
    env.db
      .insertInto('records')
      .values({
        integration,
        connection: conn,
        resource: resourceOf(integration),
        record_key: 'gone-at-provider',
        data: JSON.stringify({ id: 'gone-at-provider' }),
        content_hash: 'x',
      })
      .execute();

  it('Salesforce: one job, polled until JobComplete, CSV result pages by Sforce-Locator, every record once', async () => {
    const conn = await connect('salesforce-bulk');
    sf.faults({ slowPolls: 3 });
    const before = sf.requests.length;
    const r = await sync('salesforce-bulk', conn, 'full', 'sync-resource-export');
    assert.equal(r.status, 'completed');
    assert.equal(r.inserted, RECORDS);
    assert.equal(r.fetched, RECORDS);
    assert.equal(r.total, RECORDS);
    const sent = sf.requests.slice(before);
    assert.equal(sent.filter((q) => q.method === 'POST').length, 1, 'submitted once');
    const polls = sent.filter((q) => q.method === 'GET' && !q.path.endsWith('/results'));
    assert.ok(polls.length >= 4, `polled until complete (${polls.length})`);
    // Back-off: 1 s, then 2 s, then 4 s (the spec's interval, doubling).
    const gaps = polls.slice(1).map((p, i) => p.at - polls[i]!.at);
    [1000, 2000, 4000].forEach((ms, i) =>
      assert.ok(gaps[i]! >= ms - 100 && gaps[i]! < ms + 900, `waits ${gaps.join(', ')} ms`),
    );
    const pages = sent.filter((q) => q.path.endsWith('/results'));
    assert.equal(pages.length, 3, 'three result pages of 2,000');
    assert.equal(pages[0]!.query.get('locator'), null);
    assert.ok(pages[1]!.query.get('locator'));
    assert.equal(pages[0]!.query.get('maxRecords'), '2000');
    const row = await env.db
      .selectFrom('records')
      .select('data')
      .where('connection', '=', conn)
      .where('record_key', '=', '0015g0000000004321')
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.data, {
      Id: '0015g0000000004321',
      Name: 'Account 4321, "bulk"',
      Industry: 'Technology',
      SystemModstamp: new Date(Date.parse('2026-01-01T00:00:00Z') + 4320 * 60_000).toISOString(),
    });

    // Incremental: the submit's SOQL filters from the high-water mark; only the changes come back.
    sf.faults({});
    sf.touch([3, 77]);
    const jobsBefore = sf.jobs.size;
    const inc = await sync('salesforce-bulk', conn, 'incremental');
    assert.equal(inc.status, 'completed');
    assert.equal(inc.updated, 2);
    assert.ok(inc.fetched <= 3, `read only the changes (${inc.fetched})`);
    assert.equal(sf.jobs.size, jobsBefore + 1);
    assert.match([...sf.jobs.values()].at(-1)!.set.rows!.length.toString(), /^[23]$/);
  });

  it('continue-as-new mid-download carries the job: the next execution downloads on, nothing resubmitted', async () => {
    const conn = await connect('salesforce-bulk');
    sf.faults({});
    const jobs = sf.jobs.size;
    const handle = await engine.run(
      engine.input('salesforce-bulk', conn, 'accounts', 'full', {
        pagesPerActivity: 2,
        pagesPerExecution: 3,
      }),
    );
    const r = await handle.result();
    assert.equal(r.status, 'completed');
    assert.equal(r.inserted, RECORDS);
    assert.equal(r.fetched, RECORDS);
    assert.equal(sf.jobs.size - jobs, 1, 'one job');
    const first = await env.client.workflow
      .getHandle(handle.workflowId, handle.firstExecutionRunId)
      .describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
  });

  it('Shopify: bulkOperationRunQuery, node() polls, one gzip JSON Lines file from the storage host', async () => {
    const conn = await connect('shopify-bulk');
    shop.faults({ slowPolls: 2 });
    const before = shop.requests.length;
    const r = await sync('shopify-bulk', conn);
    assert.equal(r.status, 'completed');
    assert.equal(r.inserted, RECORDS);
    const files = shop.requests.slice(before).filter((q) => q.path.startsWith('/shopify-bulk/'));
    assert.equal(files.length, 1, 'one download');
    const row = await env.db
      .selectFrom('records')
      .select('data')
      .where('connection', '=', conn)
      .where('record_key', '=', 'gid://shopify/Product/10')
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.data, {
      id: 'gid://shopify/Product/10',
      title: 'Product 10',
      status: 'DRAFT',
      updatedAt: new Date(Date.parse('2026-01-01T00:00:00Z') + 9 * 60_000).toISOString(),
    });
  });

  for (const integration of ['salesforce-bulk', 'shopify-bulk'] as const) {
    const sim = () => (integration === 'salesforce-bulk' ? sf : shop);

    it(`${integration}: a count mismatch and a truncated file fail loudly; high-water mark and deletions untouched`, async () => {
      const conn = await connect(integration);
      sim().faults({});
      assert.equal((await sync(integration, conn, 'incremental')).status, 'completed');
      await plantGone(integration, conn);
      const previous = await state(integration, conn);
      assert.ok(previous.highWater !== null);
      sim().touch([5]);

      for (const [fault, type, message] of [
        [{ countSkew: 1 }, 'ExportIncomplete', /reported (\d+) records but its results held (\d+)/],
        [{ countSkew: -2 }, 'ExportIncomplete', /reported (\d+) records but its results held (\d+)/],
        [{ truncate: true }, undefined, /truncated|not JSON|CSV|held/],
      ] as const) {
        sim().faults(fault);
        for (const kind of ['full', 'incremental'] as const) {
          const f = await failure(integration, conn, kind);
          if (type) assert.equal(f.type, type, f.message);
          else
            assert.ok(['DecodeError', 'ExportIncomplete'].includes(f.type ?? ''), `${f.type}: ${f.message}`);
          assert.match(f.message, message);
          const counts = /reported (\d+) records but its results held (\d+)/.exec(f.message);
          if ('countSkew' in fault && kind === 'full' && counts)
            assert.equal(Number(counts[1]) - Number(counts[2]), fault.countSkew);
          assert.deepEqual(
            await state(integration, conn),
            previous,
            `${JSON.stringify(fault)} ${kind}: state untouched`,
          );
        }
      }
      // The same full run without the fault sweeps the record the provider no longer has.
      sim().faults({});
      assert.equal((await sync(integration, conn)).status, 'completed');
      assert.deepEqual((await state(integration, conn)).deleted, ['gone-at-provider']);
    });

    it(`${integration}: a failed job fails the run with the provider's message`, async () => {
      const conn = await connect(integration);
      sim().faults({ failJob: true });
      const f = await failure(integration, conn);
      assert.equal(f.type, 'ExportJobFailed');
      assert.match(
        f.message,
        integration === 'salesforce-bulk'
          ? /Failed: INVALID_FIELD: No such column 'Secret__c' on entity 'Account'/
          : /FAILED: INTERNAL_SERVER_ERROR/,
      );
    });

    it(`${integration}: an expired result URL is refreshed; an expired job is submitted again`, async () => {
      const conn = await connect(integration);
      const jobs = () => (integration === 'salesforce-bulk' ? sf.jobs.size : shop.operations.size);
      sim().faults({ expireDownloads: 1 });
      let before = jobs();
      let r = await sync(integration, conn);
      assert.equal(r.status, 'completed');
      assert.equal(r.inserted, RECORDS);
      // Shopify signs a fresh URL; Salesforce's deleted job is submitted again.
      assert.equal(jobs() - before, integration === 'salesforce-bulk' ? 2 : 1);

      sim().faults({ expireJobs: 1 });
      before = jobs();
      r = await sync(integration, conn, 'full', `sync-resource-export-resubmitted-${integration}`);
      assert.equal(r.status, 'completed');
      assert.equal(r.unchanged, RECORDS, 'the new job brought every record back');
      assert.equal(jobs() - before, 2, 'submitted again once');
      assert.equal((await state(integration, conn)).live, RECORDS);
    });

    it(`${integration}: cancelling the run cancels the provider's job; progress shows the job`, async () => {
      const conn = await connect(integration);
      sim().faults({ slowPolls: 1000 });
      const handle: WorkflowHandle = await engine.run(
        engine.input(integration, conn, resourceOf(integration)),
      );
      const details = async () =>
        (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ??
        '';
      let shown = '';
      for (let i = 0; i < 100 && !/after [1-9]\d* poll/.test(shown); i++) {
        await new Promise((r) => setTimeout(r, 100));
        shown = await details();
      }
      assert.match(
        shown,
        /export job `[^`]+`: (UploadComplete|InProgress|CREATED|RUNNING) after \d+ polls?/,
        shown,
      );
      const before = sim().requests.length;
      await handle.cancel();
      await assert.rejects(handle.result());
      if (integration === 'salesforce-bulk')
        assert.equal(sf.requests.slice(before).filter((q) => q.method === 'PATCH').length, 1, 'one abort');
      const job =
        integration === 'salesforce-bulk'
          ? [...sf.jobs.values()].at(-1)!.state
          : [...shop.operations.values()].at(-1)!.status;
      assert.match(job, /^(Aborted|CANCELING|CANCELED)$/);
      await record(handle, `sync-resource-export-cancelled-${integration}`);
      const runId = (await handle.describe()).runId;
      assert.equal((await getRun(env.db, runId))?.status, 'cancelled');
    });
  }
});
