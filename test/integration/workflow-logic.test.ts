/**
 * The workflows' own logic, on the real dev server with STUB activities (no Postgres, no provider): each
 * stub records what the workflow asked of it, and a test holds a stub at a gate to signal the workflow at
 * an exact point. Fast, so every branch can be walked: continue-as-new, pause/resume/cancel at each point,
 * child failure, the coordinator's own workflow type, the webhook entity's last pass, and the retry
 * policy's non-retryable failure types.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ApplyEventsInput, ApplyEventsResult } from '../../activities/webhooks.js';
import type { Activities } from '../../activities/index.js';
import { NON_RETRYABLE_TYPES } from '../../activities/failure-types.js';
import {
  noCounts,
  syncWorkflowId,
  type ParentBatch,
  type RunCounts,
  type RunSummary,
  type StartRunInput,
  type SyncWorkflowInput,
} from '../../src/sync/types.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import {
  cancelSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  webhookEventSignal,
} from '../../workflows/definitions.js';
import type { syncResource } from '../../workflows/sync-resource.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

/** Records per stub page. */
const PER_PAGE = 10;

/** What the stubs do for one connection (each test uses its own). */
interface Plan {
  /** Pages each run has (children: each child run). */
  pages: number;
  /** A child resource: its parents' keys, listed `batch` at a time. */
  parents?: string[];
  batch?: number;
  /** Called at each page call before it is answered: hold it at a gate, or throw to fail it. */
  onPage?: (call: PageCall) => Promise<void>;
}

interface PageCall {
  workflowId: string;
  parentKey: string | null;
  /** 1 for the run's first page call. */
  call: number;
  attempt: number;
}

interface StubRun {
  runId: string;
  workflowId: string;
  input: StartRunInput;
  starts: number;
  pageCalls: number;
  pages: number;
  finished: { status: string; error?: string; totals?: RunCounts }[];
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A plan whose page call that `holds` picks waits at a gate: `reached` resolves when it arrives, and
 * `gate.resolve()` lets it answer.
 */
function gated(plan: Omit<Plan, 'onPage'>, holds: (call: PageCall) => boolean) {
  const reached = deferred();
  const gate = deferred();
  const onPage = async (call: PageCall) => {
    if (!holds(call)) return;
    reached.resolve();
    await gate.promise;
  };
  return { plan: { ...plan, onPage }, reached, gate };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Heartbeats until the activity is cancelled (the workflow or its parent was cancelled). */
async function holdUntilCancelled(): Promise<never> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat();
    await ctx.sleep(100);
  }
}

class Stubs {
  readonly plans = new Map<string, Plan>();
  readonly runs = new Map<string, StubRun>();
  readonly parentLists: { connection: string; after: string | null }[] = [];
  /** Webhook stubs: every call of applyWebhookEvents, and the ids failed by failWebhookEvents. */
  readonly applyCalls: { ids: number[]; isolate: boolean; attempt: number; workflowId: string }[] = [];
  readonly failed: { ids: number[]; message: string }[] = [];
  /** Per entity key: ids that fail to apply; `everything` fails every call. */
  readonly poison = new Map<string, { ids: Set<number>; everything?: boolean; type?: string }>();

  plan(connection: string): Plan {
    const plan = this.plans.get(connection);
    if (!plan) throw new Error(`no plan for ${connection}`);
    return plan;
  }

  runsOf(connection: string): StubRun[] {
    return [...this.runs.values()].filter((r) => r.input.connection === connection);
  }

  runOf(connection: string): StubRun {
    const run = this.runsOf(connection).find((r) => !r.input.parent);
    assert.ok(run, `no coordinating run for ${connection}`);
    return run;
  }

  summary(run: StubRun, status: RunSummary['status'] = 'running'): RunSummary {
    const plan = this.plan(run.input.connection);
    const counts = {
      ...noCounts(),
      pages: run.pages,
      fetched: run.pages * PER_PAGE,
      inserted: run.pages * PER_PAGE,
    };
    return {
      runId: run.runId,
      status,
      ...counts,
      total: null,
      cursor: run.pages ? `page ${run.pages}` : null,
      done: run.pages >= plan.pages,
      error: null,
      childOf: plan.parents && !run.input.parent ? 'parents' : null,
    };
  }

  start(input: StartRunInput): RunSummary {
    const run: StubRun = this.runs.get(input.runId) ?? {
      runId: input.runId,
      workflowId: input.workflowId,
      input,
      starts: 0,
      pageCalls: 0,
      pages: 0,
      finished: [],
    };
    run.starts++;
    this.runs.set(input.runId, run);
    return this.summary(run);
  }

  activities(): Activities {
    /* eslint-disable @typescript-eslint/require-await -- stubs answer at once, yet are async like the real ones */
    const noExport = async (): Promise<never> => {
      throw ApplicationFailure.nonRetryable('these stubs sync no export resource', 'NotStubbed');
    };
    return {
      exportSubmit: noExport,
      exportPoll: noExport,
      exportCancel: noExport,
      startSyncRun: async (input: StartRunInput) => this.start(input),
      syncPages: async ({ runId, maxPages, start, finish }) => {
        // The real activity's contract: `start` creates the run first (a child resource's run is only
        // started), `finish` closes it once its last page is in.
        if (start) {
          const started = this.start(start);
          if (started.childOf !== null) return started;
        }
        const run = this.runs.get(runId);
        if (!run) throw ApplicationFailure.nonRetryable(`no run ${runId}`, 'RunNotFound');
        const plan = this.plan(run.input.connection);
        run.pageCalls++;
        await plan.onPage?.({
          workflowId: run.workflowId,
          parentKey: run.input.parent?.key ?? null,
          call: run.pageCalls,
          attempt: Context.current().info.attempt,
        });
        run.pages = Math.min(plan.pages, run.pages + maxPages);
        if (finish && run.pages >= plan.pages && run.finished.length === 0) {
          run.finished.push({ status: 'completed' });
          return this.summary(run, 'completed');
        }
        return this.summary(run);
      },
      listParents: async (input): Promise<ParentBatch> => {
        this.parentLists.push({ connection: input.connection, after: input.after });
        const plan = this.plan(input.connection);
        const keys = plan.parents ?? [];
        const from = input.after === null ? 0 : keys.indexOf(input.after) + 1;
        const page = keys.slice(from, from + Math.min(plan.batch ?? input.limit, input.limit));
        const last = page.at(-1);
        return {
          parents: page.map((key) => ({ key, params: { parent: key } })),
          skipped: 0,
          nextAfter: last !== undefined && keys.indexOf(last) < keys.length - 1 ? last : null,
        };
      },
      finishSyncRun: async (input) => {
        const run = this.runs.get(input.runId);
        assert.ok(run, `finish of unknown run ${input.runId}`);
        run.finished.push({
          status: input.status,
          ...(input.error ? { error: input.error } : {}),
          ...(input.totals ? { totals: input.totals } : {}),
        });
        const s = this.summary(run, input.status);
        return input.totals ? { ...s, ...input.totals } : s;
      },
      applyWebhookEvents: async (input: ApplyEventsInput): Promise<ApplyEventsResult> => {
        const info = Context.current().info;
        const isolate = input.isolateFailures === true;
        this.applyCalls.push({
          ids: [...input.ids],
          isolate,
          attempt: info.attempt,
          workflowId: info.workflowExecution?.workflowId ?? '',
        });
        const poison = this.poison.get(input.entityKey);
        const bad = input.ids.filter((id) => poison?.everything || poison?.ids.has(id));
        const result: ApplyEventsResult = { applied: 0, superseded: 0, skipped: 0, failed: 0 };
        if (bad.length > 0 && !isolate) {
          // Retryable, quickly: the workflow's own policy (1 s backoff) would make this test slow.
          throw ApplicationFailure.create({
            type: poison?.type ?? 'ServerError',
            message: `provider down for ${bad.join(',')}`,
            nextRetryDelay: 10,
          });
        }
        if (poison?.everything)
          throw ApplicationFailure.create({ type: 'ServerError', message: 'still down' });
        for (const id of input.ids) {
          if (bad.includes(id)) {
            this.failed.push({ ids: [id], message: 'failed alone' });
            result.failed++;
          } else result.applied++;
        }
        return result;
      },
      failWebhookEvents: async (input) => {
        this.failed.push({ ids: [...input.ids], message: input.message });
        return input.ids.length;
      },
      // Not used by these workflows (notifications have their own test).
      deliverNotification: async () => ({ status: null }),
      // The subscription workflow's activities are not exercised here (webhook-subscription.test.ts).
      subscribeWebhook: async () => {
        throw new Error('not used by these workflows');
      },
      renewWebhookSubscription: async () => {
        throw new Error('not used by these workflows');
      },
      unsubscribeWebhook: async () => {
        throw new Error('not used by these workflows');
      },
    };
    /* eslint-enable @typescript-eslint/require-await */
  }
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** The executions of a workflow id from its first run on, following continue-as-new. */
async function chain(client: Client, workflowId: string, firstRunId: string) {
  const out: { runId: string; type: string; events: number }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
    out.push({ runId, type, events: events.length });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

describe('workflow logic with stub activities (real dev server)', () => {
  let env: TestEnv;
  let worker: RunningWorker;
  let taskQueue: string;
  const stubs = new Stubs();

  before(async () => {
    env = await testEnv();
    taskQueue = uniqueId('logic');
    worker = await startWorker({
      address: env.temporalAddress,
      namespace: env.namespace,
      taskQueue,
      activities: stubs.activities(),
      workflowBundle: env.workflowBundle,
    });
  });

  after(async () => {
    await worker?.shutdown();
    await env?.close();
  });

  /** A new connection with its plan, and the input of a sync of it. */
  function scenario(plan: Plan, over: Partial<SyncWorkflowInput> = {}): SyncWorkflowInput {
    const connection = uniqueId('c');
    stubs.plans.set(connection, plan);
    return {
      integration: 'stub',
      connection,
      resource: plan.parents ? 'children' : 'items',
      kind: 'full',
      pagesPerActivity: 1,
      heartbeatTimeoutMs: 1_000,
      retry: { maxAttempts: 3, initialIntervalMs: 50, maxIntervalMs: 100 },
      ...over,
    };
  }

  const start = (input: SyncWorkflowInput) => startSync(env.client, input, { taskQueue });

  async function progressStatus(handle: WorkflowHandle): Promise<string> {
    return (await handle.query(progressQuery)).status;
  }

  describe('continue-as-new', () => {
    it('continues as new at the page cap (pagesPerExecution), carrying the run: one start, one finish', async () => {
      const input = scenario({ pages: 7 }, { pagesPerExecution: 3 });
      const handle = await start(input);
      const result = await handle.result();
      assert.equal(result.status, 'completed');
      assert.equal(result.pages, 7);
      const runs = await chain(env.client, handle.workflowId, handle.firstExecutionRunId);
      assert.deepEqual(
        runs.map((r) => r.type),
        ['syncResource', 'syncResource', 'syncResource'],
      );
      const [run, ...others] = stubs.runsOf(input.connection);
      assert.equal(others.length, 0);
      assert.equal(run!.runId, handle.firstExecutionRunId);
      assert.equal(run!.starts, 1);
      assert.equal(run!.pageCalls, 7);
      assert.deepEqual(run!.finished, [{ status: 'completed' }]);
    });

    it("continues as new on the server's suggestion (200 history events), far below the page cap", async () => {
      const input = scenario({ pages: 60 }, { pagesPerExecution: 100_000 });
      const handle = await start(input);
      const result = await handle.result();
      assert.equal(result.pages, 60);
      const runs = await chain(env.client, handle.workflowId, handle.firstExecutionRunId);
      assert.ok(runs.length > 1, `expected continue-as-new, got ${runs.length} execution(s)`);
      assert.ok(
        runs.every((r) => r.events < 260),
        `every execution stops soon after the suggestion: ${runs.map((r) => r.events).join(', ')}`,
      );
      const run = stubs.runOf(input.connection);
      assert.deepEqual([run.starts, run.pageCalls, run.finished.length], [1, 60, 1]);
    });
  });

  describe('pause, resume and cancel of the page loop', () => {
    it('paused before the first page, it fetches nothing until resumed, then completes', async () => {
      const input = scenario({ pages: 3 });
      // The workflow task that starts the workflow also handles a signal sent with the start.
      const handle = await env.client.workflow.signalWithStart<typeof syncResource>('syncResource', {
        taskQueue,
        workflowId: syncWorkflowId(input),
        args: [input],
        signal: pauseSignal,
        signalArgs: [],
      });
      await until('the run to report paused', async () => (await progressStatus(handle)) === 'paused');
      await pause(300);
      const run = stubs.runOf(input.connection);
      assert.equal(run.pageCalls, 0, 'no page while paused');
      await handle.signal(resumeSignal);
      const result = await handle.result();
      assert.deepEqual([result.status, result.pages, run.pageCalls], ['completed', 3, 3]);
    });

    it('cancelled before the first page, it fetches nothing and closes the run as cancelled', async () => {
      const input = scenario({ pages: 3 });
      const handle = await env.client.workflow.signalWithStart<typeof syncResource, [reason?: string]>(
        'syncResource',
        {
          taskQueue,
          workflowId: syncWorkflowId(input),
          args: [input],
          signal: cancelSignal,
          signalArgs: ['operator said so'],
        },
      );
      const result = await handle.result();
      assert.equal(result.status, 'cancelled');
      const run = stubs.runOf(input.connection);
      assert.equal(run.pageCalls, 0);
      assert.deepEqual(run.finished, [{ status: 'cancelled', error: 'operator said so' }]);
    });

    it('paused between pages, it stops after the page in flight and goes on from there when resumed', async () => {
      const { plan, reached, gate } = gated({ pages: 4 }, (c) => c.call === 2);
      const input = scenario(plan);
      const handle = await start(input);
      await reached.promise;
      await handle.signal(pauseSignal);
      gate.resolve();
      const run = stubs.runOf(input.connection);
      await until('the run to report paused after page 2', async () => {
        const p = await handle.query(progressQuery);
        return p.status === 'paused' && p.pages === 2;
      });
      await pause(300);
      assert.equal(run.pageCalls, 2, 'no third page while paused');
      await handle.signal(resumeSignal);
      const result = await handle.result();
      assert.deepEqual([result.status, result.pages, run.pageCalls], ['completed', 4, 4]);
    });

    it('cancelled between pages, it keeps the pages committed and closes the run as cancelled', async () => {
      const { plan, reached, gate } = gated({ pages: 4 }, (c) => c.call === 2);
      const input = scenario(plan);
      const handle = await start(input);
      await reached.promise;
      await handle.signal(cancelSignal, 'enough');
      gate.resolve();
      const result = await handle.result();
      assert.deepEqual([result.status, result.pages], ['cancelled', 2]);
      const run = stubs.runOf(input.connection);
      assert.equal(run.pageCalls, 2);
      assert.deepEqual(run.finished, [{ status: 'cancelled', error: 'enough' }]);
    });

    it('cancelled while waiting in pause, it closes the run as cancelled without another page', async () => {
      const { plan, reached, gate } = gated({ pages: 4 }, (c) => c.call === 1);
      const input = scenario(plan);
      const handle = await start(input);
      await reached.promise;
      await handle.signal(pauseSignal);
      gate.resolve();
      await until('the run to report paused', async () => (await progressStatus(handle)) === 'paused');
      await handle.signal(cancelSignal);
      const result = await handle.result();
      assert.deepEqual([result.status, result.pages], ['cancelled', 1]);
      const run = stubs.runOf(input.connection);
      assert.equal(run.pageCalls, 1);
      assert.deepEqual(run.finished, [{ status: 'cancelled', error: 'cancelled by signal' }]);
    });

    it('a workflow cancellation during a page cancels the page and closes the run as cancelled', async () => {
      const reached = deferred();
      const input = scenario({
        pages: 4,
        onPage: async ({ call }) => {
          if (call !== 2) return;
          reached.resolve();
          await holdUntilCancelled();
        },
      });
      const handle = await start(input);
      await reached.promise;
      await handle.cancel();
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal(error.cause?.name, 'CancelledFailure');
        return true;
      });
      const run = stubs.runOf(input.connection);
      assert.deepEqual(run.finished, [{ status: 'cancelled', error: 'workflow cancelled' }]);
    });
  });

  describe('the coordinator of child runs (workflow type syncChildren)', () => {
    it('is handed the run by syncResource, keeps its search attributes, and sums its children', async () => {
      const parents = ['p1', 'p2', 'p3', 'p4', 'p5'];
      const input = scenario({ pages: 2, parents, batch: 2 }, { childConcurrency: 2 });
      const handle = await start(input);
      const result = await handle.result();
      assert.equal(result.status, 'completed');
      assert.equal(result.childOf, 'parents');
      assert.deepEqual([result.pages, result.fetched], [10, 10 * PER_PAGE]);
      const runs = await chain(env.client, handle.workflowId, handle.firstExecutionRunId);
      assert.deepEqual(
        runs.map((r) => r.type),
        ['syncResource', 'syncChildren'],
      );
      // One run row for the coordinator, opened once and closed once with its children's sums.
      const coordinator = stubs.runOf(input.connection);
      assert.equal(coordinator.runId, handle.firstExecutionRunId);
      assert.equal(coordinator.starts, 1);
      assert.deepEqual(coordinator.finished, [
        { status: 'completed', totals: { ...noCounts(), pages: 10, fetched: 100, inserted: 100 } },
      ]);
      const children = stubs.runsOf(input.connection).filter((r) => r.input.parent);
      assert.deepEqual(
        children.map((c) => c.workflowId).sort(),
        parents.map((p) => `${handle.workflowId}:${p}`),
      );
      assert.ok(children.every((c) => c.finished.length === 1 && c.finished[0]!.status === 'completed'));
      assert.deepEqual(
        stubs.parentLists.filter((l) => l.connection === input.connection).map((l) => l.after),
        [null, 'p2', 'p4'],
      );
      // Operators find the coordinator by the same search attributes as any sync run.
      const found: string[] = [];
      await until('the coordinator in visibility by its search attributes', async () => {
        found.length = 0;
        const query = `SyncConnection = '${input.connection}' AND SyncResource = 'children' AND WorkflowId = '${handle.workflowId}'`;
        for await (const w of env.client.workflow.list({ query })) found.push(w.type);
        return found.includes('syncChildren');
      });
      assert.deepEqual(found.sort(), ['syncChildren', 'syncResource']);
      const current = await env.client.workflow.getHandle(handle.workflowId).describe();
      assert.equal(current.type, 'syncChildren');
      const attributes = Object.fromEntries(
        current.typedSearchAttributes
          .getAll()
          .filter((p) => p.key.name.startsWith('Sync'))
          .map((p) => [p.key.name, p.value]),
      );
      assert.deepEqual(attributes, {
        SyncIntegration: 'stub',
        SyncConnection: input.connection,
        SyncResource: 'children',
        SyncKind: 'full',
      });
    });

    it("continues as new (as syncChildren) on the server's suggestion, resuming after the last parent", async () => {
      const parents = Array.from({ length: 100 }, (_, i) => `p${String(i).padStart(2, '0')}`);
      const input = scenario({ pages: 1, parents }, { childConcurrency: 8 });
      const handle = await start(input);
      const result = await handle.result();
      assert.deepEqual([result.status, result.pages], ['completed', 100]);
      const runs = await chain(env.client, handle.workflowId, handle.firstExecutionRunId);
      assert.ok(runs.length >= 3, `expected the coordinator to continue as new: ${JSON.stringify(runs)}`);
      assert.deepEqual(
        runs.map((r) => r.type),
        ['syncResource', ...runs.slice(1).map(() => 'syncChildren')],
      );
      const children = stubs.runsOf(input.connection).filter((r) => r.input.parent);
      assert.equal(children.length, 100, 'every parent once');
      const coordinator = stubs.runOf(input.connection);
      assert.deepEqual(coordinator.finished, [
        { status: 'completed', totals: { ...noCounts(), pages: 100, fetched: 1000, inserted: 1000 } },
      ]);
    });

    it('a paused coordinator finishes the children in flight and lists no more parents until resumed', async () => {
      const { plan, reached, gate } = gated(
        { pages: 1, parents: ['a', 'b', 'c', 'd'], batch: 2 },
        (c) => c.parentKey === 'a',
      );
      const input = scenario(plan, { childConcurrency: 2 });
      const handle = await start(input);
      await reached.promise;
      await handle.signal(pauseSignal);
      gate.resolve();
      await until(
        'the coordinator to report paused',
        async () => (await progressStatus(handle)) === 'paused',
      );
      await pause(300);
      const lists = () => stubs.parentLists.filter((l) => l.connection === input.connection).length;
      assert.equal(lists(), 1, 'no second batch while paused');
      assert.equal(stubs.runsOf(input.connection).filter((r) => r.input.parent).length, 2);
      await handle.signal(resumeSignal);
      const result = await handle.result();
      assert.deepEqual([result.status, result.pages, lists()], ['completed', 4, 2]);
    });

    it('a cancel signal during children lets the batch finish, starts no more, and closes as cancelled', async () => {
      const { plan, reached, gate } = gated(
        { pages: 1, parents: ['a', 'b', 'c', 'd'], batch: 2 },
        (c) => c.parentKey === 'b',
      );
      const input = scenario(plan, { childConcurrency: 2 });
      const handle = await start(input);
      await reached.promise;
      await handle.signal(cancelSignal, 'stop after this batch');
      gate.resolve();
      const result = await handle.result();
      assert.equal(result.status, 'cancelled');
      const children = stubs.runsOf(input.connection).filter((r) => r.input.parent);
      assert.deepEqual(children.map((c) => c.input.parent!.key).sort(), ['a', 'b']);
      assert.ok(children.every((c) => c.finished[0]?.status === 'completed'));
      assert.deepEqual(
        stubs.runOf(input.connection).finished.map((f) => [f.status, f.error]),
        [['cancelled', 'stop after this batch']],
      );
    });

    it('a workflow cancellation during children cancels each running child, and every run closes', async () => {
      let held = 0;
      const input = scenario(
        {
          pages: 1,
          parents: ['a', 'b', 'c', 'd', 'e'],
          onPage: async () => {
            held++;
            await holdUntilCancelled();
          },
        },
        { childConcurrency: 3 },
      );
      const handle = await start(input);
      await until('three children paging', () => held === 3);
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      const children = stubs.runsOf(input.connection).filter((r) => r.input.parent);
      assert.equal(children.length, 3, 'no child starts after the cancellation');
      for (const child of children) {
        assert.deepEqual(
          child.finished.map((f) => f.status),
          ['cancelled'],
        );
        const d = await env.client.workflow.getHandle(child.workflowId).describe();
        assert.equal(d.status.name, 'CANCELLED');
      }
      assert.deepEqual(
        stubs.runOf(input.connection).finished.map((f) => f.status),
        ['cancelled'],
      );
    });

    it("a failed child cancels its running siblings, starts no more, and fails the run with the child's error", async () => {
      let held = 0;
      const input = scenario(
        {
          pages: 1,
          parents: ['a', 'b', 'c', 'd', 'e'],
          onPage: async ({ parentKey }) => {
            if (parentKey === 'c') {
              await until('both siblings paging', () => held === 2);
              throw ApplicationFailure.nonRetryable('GET /parents/c/children: 404 not found', 'ClientError');
            }
            held++;
            await holdUntilCancelled();
          },
        },
        { childConcurrency: 3 },
      );
      const handle = await start(input);
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal((error.cause as ApplicationFailure).type, 'ClientError');
        assert.match(error.cause?.message ?? '', /404 not found/);
        return true;
      });
      const byParent = Object.fromEntries(
        stubs
          .runsOf(input.connection)
          .map((r) => [r.input.parent?.key ?? '(coordinator)', r.finished.map((f) => f.status).join()]),
      );
      assert.deepEqual(byParent, { '(coordinator)': 'failed', a: 'cancelled', b: 'cancelled', c: 'failed' });
      for (const key of ['a', 'b']) {
        const d = await env.client.workflow.getHandle(`${handle.workflowId}:${key}`).describe();
        assert.equal(d.status.name, 'CANCELLED', `sibling ${key}`);
      }
    });

    it('a scheduled sync of a child resource waits through the hand-over and returns the summary', async () => {
      const input = scenario({ pages: 1, parents: ['x', 'y'] });
      const handle = await env.client.workflow.start('scheduledSync', {
        taskQueue,
        workflowId: `${syncWorkflowId(input)}:scheduled`,
        args: [{ ...input, syncWorkflowId: syncWorkflowId(input) }],
      });
      const result = (await handle.result()) as { outcome: string; summary: RunSummary };
      assert.equal(result.outcome, 'ran');
      assert.deepEqual(
        [result.summary.status, result.summary.childOf, result.summary.pages],
        ['completed', 'parents', 2],
      );
    });
  });

  describe('retry policies: every non-retryable failure type ends an activity at its first attempt', () => {
    for (const type of NON_RETRYABLE_TYPES) {
      it(`syncResource: ${type}`, async () => {
        const attempts: number[] = [];
        const input = scenario({
          pages: 2,
          onPage: ({ attempt }) => {
            attempts.push(attempt);
            // Not marked non-retryable: only the workflow's policy can stop the retries.
            return Promise.reject(ApplicationFailure.retryable(`a ${type}`, type));
          },
        });
        const handle = await start(input);
        await assert.rejects(handle.result(), (error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError);
          assert.equal((error.cause as ApplicationFailure).type, type);
          return true;
        });
        assert.deepEqual(attempts, [1]);
      });
    }

    it('a retryable type is retried per the spec (3 attempts)', async () => {
      const attempts: number[] = [];
      const input = scenario({
        pages: 1,
        onPage: ({ attempt }) => {
          attempts.push(attempt);
          return attempt < 3
            ? Promise.reject(ApplicationFailure.retryable('503', 'ServerError'))
            : Promise.resolve();
        },
      });
      const result = await (await start(input)).result();
      assert.equal(result.status, 'completed');
      assert.deepEqual(attempts, [1, 2, 3]);
    });
  });

  describe('the webhook entity workflow', () => {
    function startEntity(entityKey: string, over: { eventsPerRun?: number } = {}) {
      const target = { integration: 'stub', connection: uniqueId('c'), resource: 'items', entityKey };
      return env.client.workflow.start('webhookEntity', {
        taskQueue,
        workflowId: uniqueId(`webhook:stub:${entityKey}`),
        args: [{ ...target, ...over }],
      });
    }
    const callsOf = (workflowId: string) => stubs.applyCalls.filter((c) => c.workflowId === workflowId);

    it('retries spent: a single-attempt last pass applies what it can and fails only the rest', async () => {
      const key = uniqueId('e');
      stubs.poison.set(key, { ids: new Set([2]) });
      const handle = await startEntity(key);
      await handle.signal(webhookEventSignal, { ids: [1, 2, 3] });
      await until('the last pass', () => callsOf(handle.workflowId).some((c) => c.isolate));
      await pause(200);
      const calls = callsOf(handle.workflowId);
      assert.deepEqual(
        calls.map((c) => [c.isolate, c.attempt]),
        [
          [false, 1],
          [false, 2],
          [false, 3],
          [false, 4],
          [false, 5],
          [false, 6],
          [true, 1],
        ],
      );
      assert.ok(calls.every((c) => c.ids.join() === '1,2,3'));
      // The last pass failed event 2 alone; the workflow failed nothing as a batch.
      assert.deepEqual(
        stubs.failed.filter((f) => f.ids.includes(2) || f.ids.includes(1)),
        [{ ids: [2], message: 'failed alone' }],
      );
      await handle.terminate('test done');
    });

    it('when the last pass fails too, the batch fails with its error, and later events still apply', async () => {
      const key = uniqueId('e');
      stubs.poison.set(key, { ids: new Set(), everything: true });
      const handle = await startEntity(key);
      await handle.signal(webhookEventSignal, { ids: [11, 12] });
      await until('the batch failed', () => stubs.failed.some((f) => f.ids.includes(11)));
      assert.deepEqual(
        stubs.failed.find((f) => f.ids.includes(11)),
        { ids: [11, 12], message: 'still down' },
      );
      stubs.poison.delete(key);
      await handle.signal(webhookEventSignal, { ids: [13] });
      await until('event 13 applied', () => callsOf(handle.workflowId).some((c) => c.ids.includes(13)));
      assert.deepEqual(callsOf(handle.workflowId).at(-1), {
        ids: [13],
        isolate: false,
        attempt: 1,
        workflowId: handle.workflowId,
      });
      await handle.terminate('test done');
    });

    for (const type of NON_RETRYABLE_TYPES) {
      it(`a ${type} goes straight to the last pass (no retries)`, async () => {
        const key = uniqueId('e');
        stubs.poison.set(key, { ids: new Set([21]), type });
        const handle = await startEntity(key);
        await handle.signal(webhookEventSignal, { ids: [21] });
        await until('the last pass', () => callsOf(handle.workflowId).some((c) => c.isolate));
        assert.deepEqual(
          callsOf(handle.workflowId).map((c) => [c.isolate, c.attempt]),
          [
            [false, 1],
            [true, 1],
          ],
        );
        await handle.terminate('test done');
      });
    }

    it('continues as new after eventsPerRun, carrying the events not yet applied, each applied once in order', async () => {
      const handle = await startEntity(uniqueId('e'), { eventsPerRun: 2 });
      await handle.signal(webhookEventSignal, { ids: [31] });
      await handle.signal(webhookEventSignal, { ids: [32, 33, 34, 35] });
      await until('all five applied', () => callsOf(handle.workflowId).flatMap((c) => c.ids).length >= 5);
      await pause(200);
      const applied = callsOf(handle.workflowId).flatMap((c) => c.ids);
      assert.deepEqual(applied, [31, 32, 33, 34, 35]);
      const runs = await chain(env.client, handle.workflowId, handle.firstExecutionRunId);
      assert.ok(runs.length >= 2, `expected continue-as-new, got ${runs.length}`);
      await env.client.workflow.getHandle(handle.workflowId).terminate('test done');
    });
  });
});
