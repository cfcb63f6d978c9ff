import {
  allHandlersFinished,
  condition,
  continueAsNew,
  makeContinueAsNewFunc,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunSummary, SyncWorkflowInput } from '../src/sync/types.js';
import { coordinateChildren, type syncChildren } from './sync-children.js';
import { exportRun } from './export-run.js';
import { SyncRun, syncActivities } from './sync-run.js';

/**
 * Marks runs of a child resource that hand over to the `syncChildren` workflow type. Histories recorded
 * before it (the coordinator ran inside this workflow) replay through the inline coordinator.
 */
export const COORDINATOR_OWN_TYPE_PATCH = 'coordinator-own-workflow-type';

/**
 * Marks runs whose page calls are bounded by time (PAGE_CALL_MS) when the input gives no page count.
 * Histories recorded before it called for ten pages at a time, and replay so.
 */
export const PAGE_CALLS_BY_TIME_PATCH = 'page-calls-by-time';
/** How long one page call goes on starting pages before it reports back (and the UI's progress moves). */
const PAGE_CALL_MS = 5_000;
/** A bound that time reaches first on any real provider; it keeps a call finite all the same. */
const PAGES_PER_TIMED_CALL = 100_000;

/**
 * Marks runs whose page activity also creates the run row (the first call) and closes it (the call that
 * commits the last page): a run of one page is one activity, not three. Histories recorded before it
 * replay through separate startSyncRun and finishSyncRun activities.
 */
export const START_AND_FINISH_IN_PAGE_ACTIVITY_PATCH = 'start-and-finish-in-page-activity';

/**
 * Whether Temporal asks this page-syncing execution to continue as new. `workflowInfo()` is read afresh:
 * the object it returns is replaced at every activation, so a copy taken at start never sees the server's
 * suggestion. Histories recorded when the page loop read such a copy (and so ignored the suggestion)
 * replay unchanged through the patch.
 */
function continueAsNewSuggested(): boolean {
  return workflowInfo().continueAsNewSuggested && patched('continue-as-new-when-suggested');
}

/**
 * Syncs one resource of a connection into Postgres. Each activity call fetches and commits a bounded
 * number of pages; the run's checkpoint lives in Postgres, so a crash anywhere resumes from the last
 * committed page. Records never enter workflow history — only counts and a short cursor do. The run of a
 * child resource is handed over to `syncChildren` once its row exists.
 */
export async function syncResource(input: SyncWorkflowInput): Promise<RunSummary> {
  const info = workflowInfo();
  const { startSyncRun, syncPages } = syncActivities(input);
  const run = new SyncRun(input, input.carry?.runId ?? info.runId);
  return run.closing(async () => {
    const inPageActivity = patched(START_AND_FINISH_IN_PAGE_ACTIVITY_PATCH);
    const startInput = { ...input, runId: run.runId, workflowId: info.workflowId };
    // The first page activity starts the run, unless a pause or cancel came first: then the row is
    // created at once, as before the patch, so `runs` shows a paused run and a cancelled one closes.
    let start = !input.carry && inPageActivity && !run.paused && run.cancelReason === undefined;
    run.summary =
      input.carry || start
        ? undefined
        : await startSyncRun.executeWithOptions({ summary: `start ${input.kind} run` }, [startInput]);
    const childOf = input.carry ? (input.carry.childOf ?? null) : (run.summary?.childOf ?? null);
    if (childOf !== null) return await coordinate(run, childOf);
    // Export resources: a job to submit and poll before anything is downloaded (export-run.ts).
    if (input.carry?.export) return await exportRun(run, input.carry.export);
    if (run.summary?.export) return await exportRun(run, undefined);
    run.report();
    // Without a page count from the caller, a call runs for a time instead: a workflow task and an
    // activity per ten pages cost more than the pages themselves on a fast provider.
    const byTime = input.pagesPerActivity === undefined && patched(PAGE_CALLS_BY_TIME_PATCH);
    const perCall = byTime ? PAGES_PER_TIMED_CALL : (input.pagesPerActivity ?? 10);
    const perExecution = input.pagesPerExecution ?? 500;
    let pagesThisExecution = 0;
    while (!run.summary?.done) {
      await run.waitWhilePaused();
      if (run.cancelReason !== undefined) {
        run.summary = await run.finish('cancelled', run.cancelReason);
        run.report();
        return run.summary;
      }
      if (continueAsNewSuggested() || pagesThisExecution >= perExecution) {
        await condition(allHandlersFinished);
        return await continueAsNew<typeof syncResource>({ ...input, carry: run.carry() });
      }
      const from = run.summary?.cursor ? ` after ${run.summary.cursor}` : '';
      const what = start ? `start ${input.kind} run, fetch` : 'fetch';
      const pagesBefore = run.summary?.pages ?? 0;
      run.summary = await syncPages.executeWithOptions(
        {
          summary: byTime
            ? `${what} pages for up to ${PAGE_CALL_MS / 1000} s${from}`
            : `${what} up to ${perCall} pages${from}`,
        },
        [
          {
            runId: run.runId,
            maxPages: perCall,
            ...(byTime ? { maxMs: PAGE_CALL_MS } : {}),
            ...(start ? { start: startInput } : {}),
            ...(inPageActivity ? { finish: true } : {}),
          },
        ],
      );
      if (start) {
        start = false;
        if (run.summary.childOf !== null) return await coordinate(run, run.summary.childOf);
        if (run.summary.export) return await exportRun(run, undefined);
      }
      pagesThisExecution += byTime ? run.summary.pages - pagesBefore : perCall;
      run.clearWaiting();
      run.report();
    }
    // Patched runs were closed by the activity that committed their last page.
    if (!inPageActivity || run.summary.status === 'running') run.summary = await run.finish('completed');
    run.report();
    return run.summary;
  });
}

/** A run of a child resource: one execution per parent record, coordinated by `syncChildren`. */
function coordinate(run: SyncRun, childOf: string): Promise<RunSummary> {
  return patched(COORDINATOR_OWN_TYPE_PATCH)
    ? handOverToCoordinator(run, childOf)
    : coordinateChildren(run, childOf);
}

/**
 * Continues as `syncChildren` under the same workflow id, carrying the run (and its pause); a run
 * cancelled before the hand-over closes here. A carried execution of the inline coordinator (started
 * before the patch) resumes after the parent it had reached.
 */
async function handOverToCoordinator(run: SyncRun, childOf: string): Promise<RunSummary> {
  if (run.cancelReason !== undefined) return await run.finish('cancelled', run.cancelReason);
  await condition(allHandlersFinished);
  const carried = run.input.carry;
  return await makeContinueAsNewFunc<typeof syncChildren>({ workflowType: 'syncChildren' })({
    ...run.input,
    carry: {
      ...run.carry({
        parentAfter: carried?.parentAfter ?? null,
        ...(run.totals ? { totals: run.totals } : {}),
      }),
      childOf,
    },
  });
}
