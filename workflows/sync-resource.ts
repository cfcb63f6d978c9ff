import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  ContinueAsNew,
  continueAsNew,
  executeChild,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RunCounts, RunSummary, SyncWorkflowInput } from '../src/sync/types.js';
import { cancelSignal, pauseSignal, progressQuery, resumeSignal, type SyncProgress } from './definitions.js';
import { progressOf, progressDetails } from './progress.js';

// Must match FAILURE_TYPE in src/http/errors.ts (a workflow cannot import that module's Node deps).
const NON_RETRYABLE = [
  'AuthError',
  'ClientError',
  'DecodeError',
  'SpecError',
  'PaginationError',
  'ConfigurationError',
  'RunNotFound',
];

const DEFAULT_RETRY = { maxAttempts: 8, initialIntervalMs: 1000, maxIntervalMs: 60_000 };

function activities(input: SyncWorkflowInput) {
  const retry = input.retry ?? DEFAULT_RETRY;
  return proxyActivities<Activities>({
    startToCloseTimeout: '15 minutes',
    // A worker that dies mid-page is noticed within this and the page is retried elsewhere.
    heartbeatTimeout: input.heartbeatTimeoutMs ?? 30_000,
    retry: {
      initialInterval: retry.initialIntervalMs,
      maximumInterval: retry.maxIntervalMs,
      backoffCoefficient: 2,
      maximumAttempts: retry.maxAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
}

/**
 * Syncs one resource of a connection into Postgres. Each activity call fetches and commits a bounded
 * number of pages; the run's checkpoint lives in Postgres, so a crash anywhere resumes from the last
 * committed page. Records never enter workflow history — only counts and a short cursor do.
 */
export async function syncResource(input: SyncWorkflowInput): Promise<RunSummary> {
  const info = workflowInfo();
  const { startSyncRun, syncPages, listParents, finishSyncRun } = activities(input);
  const runId = input.carry?.runId ?? info.runId;
  const startedAtMs = input.carry?.startedAtMs ?? Date.now();
  let paused = input.carry?.paused ?? false;
  let cancelReason: string | undefined;
  let summary: RunSummary | undefined;

  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(cancelSignal, (reason) => void (cancelReason = reason ?? 'cancelled by signal'));
  const progress = (): SyncProgress => progressOf(runId, summary, paused, startedAtMs, Date.now());
  setHandler(progressQuery, progress);
  const report = () => setCurrentDetails(progressDetails(input, progress()));

  let totals: RunCounts | undefined = input.carry?.totals;
  const finish = (status: 'completed' | 'failed' | 'cancelled', error?: string) =>
    // Even when the workflow itself is being cancelled, the run row must be closed.
    CancellationScope.nonCancellable(() =>
      finishSyncRun.executeWithOptions({ summary: `close run as ${status}` }, [
        { runId, status, ...(error ? { error } : {}), ...(totals ? { totals } : {}) },
      ]),
    );
  const waitWhilePaused = async () => {
    if (!paused) return;
    report();
    await condition(() => !paused || cancelReason !== undefined);
  };

  /** A child resource: one child workflow per parent record, a bounded number at a time. */
  const coordinate = async (childOf: string): Promise<RunSummary> => {
    let after = input.carry?.parentAfter ?? null;
    const sums: RunCounts = totals ?? {
      pages: 0,
      fetched: 0,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      quarantined: 0,
    };
    totals = sums;
    const show = (cursor: string | null): RunSummary => ({
      runId,
      status: 'running',
      ...sums,
      total: null,
      cursor,
      done: false,
      error: null,
      childOf,
    });
    summary = show(after === null ? null : `after parent ${after}`);
    report();
    for (;;) {
      await waitWhilePaused();
      if (cancelReason !== undefined) return await finish('cancelled', cancelReason);
      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        return await continueAsNew<typeof syncResource>({
          ...input,
          carry: { runId, startedAtMs, paused, childOf, parentAfter: after, totals: sums },
        });
      }
      const batch = await listParents.executeWithOptions(
        { summary: `list ${childOf} records after ${after ?? 'the start'}` },
        [
          {
            integration: input.integration,
            connection: input.connection,
            resource: input.resource,
            after,
            limit: 20,
          },
        ],
      );
      await inParallel(batch.parents, input.childConcurrency ?? 4, async (parent) => {
        const r = await executeChild(syncResource, {
          workflowId: `${info.workflowId}:${parent.key}`,
          args: [{ ...input, parent, carry: undefined }],
          typedSearchAttributes: info.typedSearchAttributes,
          staticSummary: `${input.kind} sync of ${input.resource} for ${childOf} ${parent.key}`,
        });
        for (const k of Object.keys(sums) as (keyof RunCounts)[]) sums[k] += r[k];
        summary = show(`parent ${parent.key}`);
        report();
      });
      if (batch.nextAfter === null) break;
      after = batch.nextAfter;
    }
    const done = await finish('completed');
    summary = { ...done, childOf };
    report();
    return summary;
  };

  try {
    summary = input.carry
      ? undefined
      : await startSyncRun.executeWithOptions({ summary: `start ${input.kind} run` }, [
          { ...input, runId, workflowId: info.workflowId },
        ]);
    const childOf = input.carry ? (input.carry.childOf ?? null) : (summary?.childOf ?? null);
    if (childOf !== null) return await coordinate(childOf);
    report();
    const perCall = input.pagesPerActivity ?? 10;
    const perExecution = input.pagesPerExecution ?? 500;
    let pagesThisExecution = 0;
    while (!summary?.done) {
      await waitWhilePaused();
      if (cancelReason !== undefined) {
        summary = await finish('cancelled', cancelReason);
        report();
        return summary;
      }
      if (info.continueAsNewSuggested || pagesThisExecution >= perExecution) {
        await condition(allHandlersFinished);
        return await continueAsNew<typeof syncResource>({ ...input, carry: { runId, startedAtMs, paused } });
      }
      const from = summary?.cursor ? ` after ${summary.cursor}` : '';
      summary = await syncPages.executeWithOptions({ summary: `fetch up to ${perCall} pages${from}` }, [
        { runId, maxPages: perCall },
      ]);
      pagesThisExecution += perCall;
      report();
    }
    summary = await finish('completed');
    report();
    return summary;
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    if (isCancellation(error)) {
      await finish('cancelled', 'workflow cancelled');
      throw error;
    }
    const message = failureMessage(error);
    await finish('failed', message);
    throw ApplicationFailure.create({
      type: failureType(error) ?? 'SyncFailed',
      message: `sync ${input.integration}/${input.connection}/${input.resource} failed: ${message}`,
      nonRetryable: true,
      cause: error instanceof Error ? error : undefined,
    });
  }
}

/** Runs `fn` over `items` with at most `limit` in flight (deterministic: workflow promises only). */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function failureMessage(error: unknown): string {
  if ((error instanceof ActivityFailure || error instanceof ChildWorkflowFailure) && error.cause) {
    return error.cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}

function failureType(error: unknown): string | undefined {
  const cause =
    error instanceof ActivityFailure || error instanceof ChildWorkflowFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}
