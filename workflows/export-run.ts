/**
 * The run of an export resource (spec `export`): submit the provider's job, poll it on durable timers
 * with the provider's suggested interval and back-off, then download its results through the page
 * activity, which commits them in checkpointed chunks. No activity sleeps: between polls the workflow
 * holds a timer, so a worker restart during a long job costs nothing, and the job id (in the run's
 * checkpoint and in this workflow's state, carried over continue-as-new) is never submitted twice.
 * Entered only for export resources: histories of other runs never reach this code.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  makeContinueAsNewFunc,
  workflowInfo,
} from '@temporalio/workflow';
import {
  EXPORT_FAILURE,
  exportLine,
  freshExport,
  nextPollDelay,
  type ExportCarry,
} from '../src/sync/export-poll.js';
import type { RunSummary } from '../src/sync/types.js';
import { syncActivities, type SyncRun } from './sync-run.js';

/** How long one download call goes on committing chunks before it reports back (progress moves). */
const DOWNLOAD_CALL_MS = 5_000;

export async function exportRun(run: SyncRun, carried: ExportCarry | undefined): Promise<RunSummary> {
  const input = run.input;
  const { exportSubmit, exportPoll, exportCancel, syncPages } = syncActivities(input);
  const e: ExportCarry = carried ? { ...carried } : freshExport();
  let nextPollAtMs: number | null = null;
  const show = () => {
    const inS = nextPollAtMs === null ? null : Math.max(0, Math.ceil((nextPollAtMs - Date.now()) / 1000));
    run.note = exportLine(e, inS);
    run.report();
  };
  // Only a job still working at the provider is cancelled; a finished one has nothing to stop.
  const cancelJob = async () => {
    if (e.jobId === null || e.phase !== 'poll') return;
    await CancellationScope.nonCancellable(() =>
      exportCancel.executeWithOptions({ summary: `cancel export job ${e.jobId}` }, [{ runId: run.runId }]),
    );
  };
  const perCall = input.pagesPerActivity ?? 100_000;
  const perExecution = input.pagesPerExecution ?? 500;
  let pagesThisExecution = 0;
  show();
  try {
    for (;;) {
      await run.waitWhilePaused();
      if (run.cancelReason !== undefined) {
        await cancelJob();
        run.summary = await run.finish('cancelled', run.cancelReason);
        run.report();
        return run.summary;
      }
      if (workflowInfo().continueAsNewSuggested || pagesThisExecution >= perExecution) {
        await condition(allHandlersFinished);
        return await makeContinueAsNewFunc({ workflowType: 'syncResource' })({
          ...input,
          carry: run.carry({ export: e }),
        });
      }
      if (e.phase === 'submit') {
        const replace = e.jobId;
        const { jobId } = await exportSubmit.executeWithOptions(
          { summary: replace ? `submit the export again (job ${replace} expired)` : 'submit the export job' },
          [{ runId: run.runId, ...(replace !== null ? { replace } : {}) }],
        );
        Object.assign(e, { jobId, phase: 'poll', delayMs: null, polls: 0, submittedAtMs: Date.now() });
        e.submits++;
        show();
        continue;
      }
      if (e.phase === 'poll') {
        const p = await exportPoll.executeWithOptions({ summary: `poll export job ${e.jobId}` }, [
          { runId: run.runId },
        ]);
        e.polls++;
        e.providerState = p.providerState;
        if (p.state === 'completed') {
          e.phase = 'download';
          if (run.summary) run.summary = { ...run.summary, total: p.records };
          show();
          continue;
        }
        if (p.state === 'failed')
          throw ApplicationFailure.create({
            type: EXPORT_FAILURE.failed,
            nonRetryable: true,
            message: `export job ${e.jobId} ${p.providerState}: ${p.message ?? 'the provider gave no message'}`,
          });
        if (p.state === 'expired') {
          e.phase = 'submit';
          show();
          continue;
        }
        if (e.submittedAtMs !== null && Date.now() - e.submittedAtMs >= p.timeoutMs) {
          await cancelJob();
          throw ApplicationFailure.create({
            type: EXPORT_FAILURE.timedOut,
            nonRetryable: true,
            message: `export job ${e.jobId} is still ${p.providerState} after ${Math.round(p.timeoutMs / 1000)} s (export.status.timeoutSeconds)`,
          });
        }
        const delay = nextPollDelay(p.interval, e.delayMs, p.suggestedMs);
        e.delayMs = delay;
        nextPollAtMs = Date.now() + delay;
        show();
        // A durable timer, cut short by a cancel or a pause.
        await condition(() => run.cancelReason !== undefined || run.paused, delay);
        nextPollAtMs = null;
        continue;
      }
      const pagesBefore = run.summary?.pages ?? 0;
      try {
        run.summary = await syncPages.executeWithOptions(
          {
            summary: `download export job ${e.jobId}${run.summary?.cursor ? ` after ${run.summary.cursor}` : ''}`,
          },
          [
            {
              runId: run.runId,
              maxPages: perCall,
              ...(input.pagesPerActivity === undefined ? { maxMs: DOWNLOAD_CALL_MS } : {}),
              finish: true,
            },
          ],
        );
      } catch (error) {
        // The results are gone (expired URLs, a deleted job): the same export is submitted again.
        if (
          error instanceof ActivityFailure &&
          error.cause instanceof ApplicationFailure &&
          error.cause.type === EXPORT_FAILURE.expired
        ) {
          e.phase = 'submit';
          show();
          continue;
        }
        throw error;
      }
      pagesThisExecution += run.summary.pages - pagesBefore;
      run.clearWaiting();
      show();
      if (run.summary.done) {
        if (run.summary.status === 'running') run.summary = await run.finish('completed');
        run.note = undefined;
        run.report();
        return run.summary;
      }
    }
  } catch (error) {
    if (isCancellation(error)) await cancelJob();
    throw error;
  }
}
