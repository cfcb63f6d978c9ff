import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { HttpTransport } from '../../src/http/transport.js';
import { listRecords } from '../../src/store/records.js';
import { syncWorkflowId, type SyncInput } from '../../src/sync/types.js';
import { SyncIntegration, SyncKind } from '../../src/temporal/search-attributes.js';
import { startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { syncResource } from '../../workflows/index.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';

describe('sync slice: a real workflow fetches a page over HTTP and upserts it into Postgres', () => {
  let env: TestEnv;
  let simulator: ProviderSimulator;
  let worker: RunningWorker;
  let http: HttpTransport;
  let taskQueue: string;
  const integration = 'sim';

  before(async () => {
    env = await testEnv();
    simulator = await startProviderSimulator({ resources: { issues: generateRecords(30) } });
    http = new HttpTransport({ timeoutMs: 2000 });
    taskQueue = env.uniqueId('slice');
    worker = await startWorker({
      address: env.temporalAddress,
      namespace: env.namespace,
      taskQueue,
      activities: createActivities({ db: env.db, http }),
      workflowBundle: env.workflowBundle,
    });
  });

  after(async () => {
    await worker?.shutdown();
    http?.close();
    await simulator?.close();
    await env?.close();
  });

  function input(connection: string, path = '/issues?per_page=100'): SyncInput {
    return {
      integration,
      connection,
      resource: 'issues',
      source: { url: `${simulator.url}${path}`, recordsPath: 'data', primaryKey: 'id' },
    };
  }

  function run(i: SyncInput) {
    return env.client.workflow.execute(syncResource, {
      workflowId: syncWorkflowId(i),
      taskQueue,
      args: [i],
      typedSearchAttributes: [
        { key: SyncIntegration, value: i.integration },
        { key: SyncKind, value: 'full' },
      ],
    });
  }

  it('inserts every record once, then writes nothing when nothing changed, then only what changed', async () => {
    const i = input(env.uniqueId('conn'));
    const first = await run(i);
    assert.deepEqual(first, { pages: 1, fetched: 30, inserted: 30, updated: 0, unchanged: 0 });

    const stored = await listRecords(env.db, i);
    assert.equal(stored.length, 30);
    assert.deepEqual(
      stored
        .map((r) => r.data)
        .sort((a, b) => Number((a as { id: number }).id) - Number((b as { id: number }).id)),
      simulator.records('issues'),
    );

    const second = await run(i);
    assert.deepEqual(second, { pages: 1, fetched: 30, inserted: 0, updated: 0, unchanged: 30 });
    const after = await listRecords(env.db, i);
    assert.deepEqual(
      after.map((r) => r.updatedAt.getTime()),
      stored.map((r) => r.updatedAt.getTime()),
      'unchanged records must not be rewritten',
    );

    const changed = simulator
      .records('issues')
      .map((r) => (r.id === 3 || r.id === 7 ? { ...r, state: 'reopened' } : r));
    simulator.setRecords('issues', [...changed, { id: 31, title: 'new' }]);
    const third = await run(i);
    assert.deepEqual(third, { pages: 1, fetched: 31, inserted: 1, updated: 2, unchanged: 28 });
    const row3 = (await listRecords(env.db, i)).find((r) => r.key === '3');
    assert.equal((row3?.data as { state: string }).state, 'reopened');
  });

  it('fails without retrying when the provider answers 404, naming the request', async () => {
    const i = input(env.uniqueId('conn'), '/nope');
    const before = simulator.requests.get('/nope') ?? 0;
    await assert.rejects(run(i), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      const failure = error.cause?.cause as
        { type?: string; message?: string; nonRetryable?: boolean } | undefined;
      assert.equal(failure?.type, 'ClientError');
      assert.match(failure?.message ?? '', /404/);
      assert.match(failure?.message ?? '', /GET \/nope/);
      return true;
    });
    assert.equal((simulator.requests.get('/nope') ?? 0) - before, 1, 'a client error is not retried');
  });

  it('replays its recorded history deterministically', async () => {
    const i = input(env.uniqueId('conn'));
    const handle = await env.client.workflow.start(syncResource, {
      workflowId: syncWorkflowId(i),
      taskQueue,
      args: [i],
    });
    await handle.result();
    const history = await handle.fetchHistory();
    assert.ok((history.events?.length ?? 0) > 5);
    await Worker.runReplayHistory({ workflowBundle: env.workflowBundle }, history, handle.workflowId);
  });
});
