import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  condition,
  ContinueAsNew,
  continueAsNew,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { noCounts, type RunCounts, type RunSummary, type SyncWorkflowInput } from '../src/sync/types.js';
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

/** Default heartbeat timeout of the page activity; it heartbeats every third of it, even mid-request. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * Whether Temporal asks this page-syncing execution to continue as new. `workflowInfo()` is read afresh:
 * the object it returns is replaced at every activation, so a copy taken at start never sees the server's
 * suggestion. Histories recorded when the page loop read such a copy (and so ignored the suggestion)
 * replay unchanged through the patch.
 */
function continueAsNewSuggested(): boolean {
  return workflowInfo().continueAsNewSuggested && patched('continue-as-new-when-suggested');
}

function activities(input: SyncWorkflowInput) {
  const retry = input.retry ?? DEFAULT_RETRY;
  return proxyActivities<Activities>({
    startToCloseTimeout: '15 minutes',
    // A worker that dies mid-page is noticed within this and the page is retried elsewhere.
    // The activity heartbeats every third of this while a request is in flight (activities/sync.ts), so it
    // is independent of the spec's request timeout.
    heartbeatTimeout: input.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
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
    const sums: RunCounts = totals ?? noCounts();
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
      // Coordinating runs always read the live info (so their histories need no patch).
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
      await childrenOf(batch.parents, input.childConcurrency ?? 4, async (parent) => {
        const r = await executeChild(syncResource, {
          workflowId: `${info.workflowId}:${parent.key}`,
          args: [{ ...input, parent, carry: undefined }],
          typedSearchAttributes: info.typedSearchAttributes,
          staticSummary: `${input.kind} sync of ${input.resource} for ${childOf} ${parent.key}`,
          // A child that is stopped closes its own run row (as cancelled); a terminated one could not.
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
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
      if (continueAsNewSuggested() || pagesThisExecution >= perExecution) {
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

/**
 * Runs `fn` over `items` with at most `limit` in flight (deterministic: workflow promises only). When one
 * fails, no further item starts, the others in flight are cancelled and awaited (so each child run closes
 * its row as cancelled), and then the first failure is thrown.
 */
async function childrenOf<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const scope = new CancellationScope();
  const lane = async () => {
    while (next < items.length && !failure) {
      try {
        await scope.run(() => fn(items[next++]!));
      } catch (error) {
        if (failure) continue;
        failure = { error };
        scope.cancel();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
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
