/**
 * What every workflow that drives a `sync_runs` row shares: the sync activities and their retry policy,
 * the pause/resume/cancel signals and the progress query, closing the row however the run ends, and the
 * failure the workflow ends with. The page loop (sync-resource.ts) and the coordinator of child runs
 * (sync-children.ts) each hold one SyncRun.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  ContinueAsNew,
  isCancellation,
  proxyActivities,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { SyncWaiting } from '../src/temporal/search-attributes.js';
import { NON_RETRYABLE_TYPES } from '../activities/failure-types.js';
import type { Activities } from '../activities/index.js';
import type { RunCounts, RunSummary, SyncWorkflowInput } from '../src/sync/types.js';
import {
  cancelSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  waitingSignal,
  type SyncProgress,
  type WaitingNotice,
} from './definitions.js';
import { progressDetails, progressOf, waitingLine } from './progress.js';

/** Runs that show what they wait on (current details, SyncWaiting); earlier histories replay without. */
export const WAITING_VISIBLE_PATCH = 'waiting-visible';

const DEFAULT_RETRY = { maxAttempts: 8, initialIntervalMs: 1000, maxIntervalMs: 60_000 };

/** Default heartbeat timeout of the page activity; it heartbeats every third of it, even mid-request. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

/** The sync activities with the integration's retry settings (spec `retry`, passed in the input). */
export function syncActivities(input: SyncWorkflowInput) {
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
      nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
    },
  });
}

type Carry = NonNullable<SyncWorkflowInput['carry']>;

/** One sync run as a workflow sees it: its row's id, its signals, its progress, and how it closes. */
export class SyncRun {
  readonly startedAtMs: number;
  paused: boolean;
  cancelReason: string | undefined;
  /** The latest summary: what the progress query and the UI's current details show. */
  summary: RunSummary | undefined;
  /** Coordinating runs: the sums of their child runs, written to the row when it closes. */
  totals: RunCounts | undefined;
  /** What the run's activity says it waits on (a rate budget, a slot, Retry-After), if anything. */
  waiting: WaitingNotice | null = null;
  /** A line about what the run is doing beyond its pages (an export job's state), for current details. */
  note: string | undefined;
  /** The SyncWaiting values last upserted, to skip upserts that change nothing. */
  private shownWaiting = '';
  private readonly finishSyncRun: ReturnType<typeof syncActivities>['finishSyncRun'];

  /** Sets the signal and query handlers: call once, at the start of the workflow. */
  constructor(
    readonly input: SyncWorkflowInput,
    readonly runId: string,
  ) {
    this.startedAtMs = input.carry?.startedAtMs ?? Date.now();
    this.paused = input.carry?.paused ?? false;
    this.totals = input.carry?.totals;
    this.finishSyncRun = syncActivities(input).finishSyncRun;
    setHandler(pauseSignal, () => void (this.paused = true));
    setHandler(resumeSignal, () => void (this.paused = false));
    setHandler(cancelSignal, (reason) => void (this.cancelReason = reason ?? 'cancelled by signal'));
    setHandler(progressQuery, () => this.progress());
    setHandler(waitingSignal, (notice) => {
      this.waiting = notice;
      this.showWaiting();
      this.report();
    });
  }

  /**
   * SyncWaiting: `provider` and the kind while the activity waits on a provider, `paused` while paused,
   * nothing otherwise. Only upserted when it changes, and only in runs started with this code.
   */
  showWaiting(): void {
    const values = this.paused ? ['paused'] : this.waiting ? ['provider', this.waiting.on] : [];
    const key = values.join(',');
    if (key === this.shownWaiting || !patched(WAITING_VISIBLE_PATCH)) return;
    this.shownWaiting = key;
    upsertSearchAttributes([{ key: SyncWaiting, value: values }]);
  }

  /** The activity returned: whatever it waited on is over. */
  clearWaiting(): void {
    if (this.waiting === null) return;
    this.waiting = null;
    this.showWaiting();
  }

  progress(): SyncProgress {
    return progressOf(this.runId, this.summary, this.paused, this.startedAtMs, Date.now());
  }

  /** Shows the progress as the run's current details in the Temporal UI. */
  report(): void {
    const waiting = this.paused
      ? 'waiting: **paused** by an operator (send the resume signal to go on)'
      : this.waiting
        ? waitingLine(this.waiting, Date.now())
        : undefined;
    const extra = [this.note, waiting].filter(Boolean).join('\n\n');
    setCurrentDetails(progressDetails(this.input, this.progress(), extra || undefined));
  }

  /** Closes the run row, even while the workflow itself is being cancelled. */
  finish(
    status: 'completed' | 'failed' | 'cancelled',
    error?: string,
    errorType?: string,
  ): Promise<RunSummary> {
    const totals = this.totals;
    return CancellationScope.nonCancellable(() =>
      this.finishSyncRun.executeWithOptions({ summary: `close run as ${status}` }, [
        {
          runId: this.runId,
          status,
          ...(error ? { error } : {}),
          ...(totals ? { totals } : {}),
          ...(errorType ? { errorType } : {}),
        },
      ]),
    );
  }

  /** Returns at once unless paused; then waits for a resume or a cancel. */
  async waitWhilePaused(): Promise<void> {
    if (!this.paused) return;
    this.report();
    this.showWaiting();
    await condition(() => !this.paused || this.cancelReason !== undefined);
    this.showWaiting();
  }

  /** What the next execution of this run needs (continue-as-new). */
  carry(more: Omit<Carry, 'runId' | 'startedAtMs' | 'paused'> = {}): Carry {
    return { runId: this.runId, startedAtMs: this.startedAtMs, paused: this.paused, ...more };
  }

  /**
   * Runs the workflow's body and closes the row however it ends: a workflow cancellation closes it as
   * cancelled and rethrows; any other failure closes it as failed and ends the workflow with a
   * non-retryable failure of the cause's type (`SyncFailed` when it has none). Continue-as-new passes.
   */
  async closing(body: () => Promise<RunSummary>): Promise<RunSummary> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof ContinueAsNew) throw error;
      if (isCancellation(error)) {
        await this.finish('cancelled', 'workflow cancelled');
        throw error;
      }
      const message = failureMessage(error);
      await this.finish('failed', message, failureType(error) ?? 'SyncFailed');
      const { integration, connection, resource } = this.input;
      throw ApplicationFailure.create({
        type: failureType(error) ?? 'SyncFailed',
        message: `sync ${integration}/${connection}/${resource} failed: ${message}`,
        nonRetryable: true,
        cause: error instanceof Error ? error : undefined,
      });
    }
  }
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
