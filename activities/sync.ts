import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../src/store/db.js';
import { commitPage, finishRun, getRun, startRun, type SyncRun } from '../src/store/runs.js';
import { maxCursor, type OpenPageSource } from '../src/sync/page-source.js';
import type { RunStatus, RunSummary, StartRunInput, SyncPagesInput } from '../src/sync/types.js';
import { toFailure } from './failures.js';

export interface SyncActivityDeps {
  db: Db;
  openPageSource: OpenPageSource;
}

export function runSummary(run: SyncRun, cursor: string | null = null): RunSummary {
  return {
    runId: run.id,
    status: run.status,
    pages: run.pages,
    fetched: run.fetched,
    inserted: run.inserted,
    updated: run.updated,
    unchanged: run.unchanged,
    deleted: run.deleted,
    quarantined: run.quarantined,
    total: run.total,
    cursor,
    done: run.done,
    error: run.error,
  };
}

function cursorLabelOf(checkpoint: unknown): string | null {
  if (checkpoint && typeof checkpoint === 'object' && 'label' in checkpoint) {
    const label = checkpoint.label;
    return typeof label === 'string' ? label : null;
  }
  return null;
}

export function createSyncActivities({ db, openPageSource }: SyncActivityDeps) {
  async function loadRun(runId: string): Promise<SyncRun> {
    const run = await getRun(db, runId);
    if (!run) {
      throw ApplicationFailure.create({
        type: 'RunNotFound',
        message: `no sync run ${runId}`,
        nonRetryable: true,
      });
    }
    return run;
  }

  return {
    /** Creates the run row (idempotent) and returns its starting summary. */
    async startSyncRun(input: StartRunInput): Promise<RunSummary> {
      const run = await startRun(db, {
        id: input.runId,
        workflowId: input.workflowId,
        integration: input.integration,
        connection: input.connection,
        resource: input.resource,
        kind: input.kind,
      });
      return runSummary(run);
    },

    /**
     * Fetches and commits up to `maxPages` pages after the run's committed checkpoint. The checkpoint in
     * Postgres is the truth: a retry after a crash starts from it, and the page fence makes a page that
     * was committed by an earlier attempt a no-op.
     */
    async syncPages(input: SyncPagesInput): Promise<RunSummary> {
      const ctx = Context.current();
      let run = await loadRun(input.runId);
      if (run.status !== 'running' || run.done) return runSummary(run, cursorLabelOf(run.checkpoint));
      try {
        const source = await openPageSource(run);
        for (let i = 0; i < input.maxPages && !run.done && run.status === 'running'; i++) {
          ctx.heartbeat({ pages: run.pages, cursor: cursorLabelOf(run.checkpoint) });
          const page = await source.readPage({
            checkpoint: run.checkpoint,
            pagesSoFar: run.pages,
            since: run.since,
            signal: ctx.cancellationSignal,
            onWait: (waitMs, reason) => ctx.heartbeat({ pages: run.pages, waitingMs: waitMs, reason }),
          });
          await commitPage(
            db,
            { integration: run.integration, connection: run.connection, resource: run.resource },
            {
              runId: run.id,
              expectedPages: run.pages,
              checkpoint: page.checkpoint,
              done: page.done,
              total: page.total,
              highWater: maxCursor(run.highWater, page.highWater),
              fetched: page.fetched,
              records: page.records,
              quarantined: page.quarantined,
              trackSeen: run.kind === 'full',
            },
          );
          // Committed by us or by an attempt that raced us: either way the stored run is where we go on from.
          run = await loadRun(input.runId);
        }
        return runSummary(run, cursorLabelOf(run.checkpoint));
      } catch (error) {
        throw toFailure(error);
      }
    },

    /** Ends the run once: deletion detection for full runs, high-water mark for incremental ones. */
    async finishSyncRun(input: { runId: string; status: Exclude<RunStatus, 'running'>; error?: string }) {
      const run = await finishRun(db, {
        runId: input.runId,
        status: input.status,
        ...(input.error ? { error: input.error } : {}),
      });
      return runSummary(run, cursorLabelOf(run.checkpoint));
    },
  };
}
