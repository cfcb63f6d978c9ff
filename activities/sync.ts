import { ApplicationFailure, Context } from '@temporalio/activity';
import { commitPage, databaseNow, finishRun, getRun, startRun, type SyncRun } from '../src/store/runs.js';
import { maxCursor, type OpenPageSource } from '../src/sync/page-source.js';
import { SpecError } from '../src/spec/errors.js';
import { scalarText, valueAtPath } from '../src/json/path.js';
import { lookupResource } from '../src/spec/registry.js';
import {
  noCounts,
  type ParentBatch,
  type ParentRef,
  type RunCounts,
  type RunStatus,
  type RunSummary,
  type StartRunInput,
  type SyncPagesInput,
  type SyncTarget,
} from '../src/sync/types.js';
import { ACTIVITY_FAILURE } from './failure-types.js';
import type { EngineDeps } from '../src/sync/deps.js';
import { toFailure } from './failures.js';
import { whileBeating } from './heartbeat.js';
import { waitReporter } from './waiting.js';
import { inSpan } from '../src/tracing/spans.js';
import { startNotification } from './notify.js';
import { runFailedEvents } from '../src/sync/notifications.js';
import { recordPage, recordRunEnd, recordWrites } from '../src/metrics/metrics.js';

export interface SyncActivityDeps extends Pick<EngineDeps, 'db' | 'specs'> {
  openPageSource: OpenPageSource;
  /** Runs that fail for good start an operator notification. */
  notify?: boolean;
}

export function runSummary(
  run: SyncRun,
  cursor: string | null = null,
  childOf: string | null = null,
): RunSummary {
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
    childOf,
  };
}

function cursorLabelOf(checkpoint: unknown): string | null {
  if (checkpoint && typeof checkpoint === 'object' && 'label' in checkpoint) {
    const label = checkpoint.label;
    return typeof label === 'string' ? label : null;
  }
  return null;
}

export function createSyncActivities({ db, specs, openPageSource, notify = false }: SyncActivityDeps) {
  async function loadRun(runId: string): Promise<SyncRun> {
    const run = await getRun(db, runId);
    if (!run) {
      throw ApplicationFailure.create({
        type: ACTIVITY_FAILURE.runNotFound,
        message: `no sync run ${runId}`,
        nonRetryable: true,
      });
    }
    return run;
  }

  return {
    /** Creates the run row (idempotent) and returns its starting summary. */
    async startSyncRun(input: StartRunInput): Promise<RunSummary> {
      let childOf: string | null;
      try {
        childOf = lookupResource(specs, input.integration, input.resource).resource.parent?.resource ?? null;
      } catch (error) {
        throw toFailure(error);
      }
      const run = await startRun(db, {
        id: input.runId,
        workflowId: input.workflowId,
        integration: input.integration,
        connection: input.connection,
        resource: input.resource,
        kind: input.kind,
        parentKey: input.parent?.key ?? null,
        parentParams: input.parent?.params ?? null,
      });
      return runSummary(run, null, input.parent ? null : childOf);
    },

    /**
     * The next parent records of a child resource (from the records store), with the path params the
     * child's requests need. Keys and params only: records themselves never enter workflow history.
     */
    async listParents(input: SyncTarget & { after: string | null; limit: number }): Promise<ParentBatch> {
      let mapping: Record<string, string>;
      let parentResource: string;
      try {
        const { resource } = lookupResource(specs, input.integration, input.resource);
        if (!resource.parent)
          throw new SpecError(input.integration, [`resources.${input.resource} has no parent`]);
        mapping = resource.parent.params;
        parentResource = resource.parent.resource;
      } catch (error) {
        throw toFailure(error);
      }
      let q = db
        .selectFrom('records')
        .select(['record_key', 'data'])
        .where('integration', '=', input.integration)
        .where('connection', '=', input.connection)
        .where('resource', '=', parentResource)
        .where('deleted_at', 'is', null)
        .orderBy('record_key')
        .limit(input.limit + 1);
      if (input.after !== null) q = q.where('record_key', '>', input.after);
      const rows = await q.execute();
      const page = rows.slice(0, input.limit);
      const parents: ParentRef[] = [];
      let skipped = 0;
      for (const row of page) {
        const params: Record<string, string> = {};
        for (const [name, field] of Object.entries(mapping)) {
          const v = valueAtPath(row.data, field);
          if (v === undefined || v === null || v === '') break;
          params[name] = scalarText(v);
        }
        if (Object.keys(params).length === Object.keys(mapping).length)
          parents.push({ key: row.record_key, params });
        else skipped++;
      }
      return {
        parents,
        skipped,
        nextAfter: rows.length > input.limit ? (page.at(-1)?.record_key ?? null) : null,
      };
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
      const waits = waitReporter(ctx, `${run.integration}/${run.connection}/${run.resource}`);
      try {
        const source = await openPageSource(run);
        for (let i = 0; i < input.maxPages && !run.done && run.status === 'running'; i++) {
          const beat = { pages: run.pages, cursor: cursorLabelOf(run.checkpoint) };
          ctx.heartbeat(beat);
          const fetchedAt = await databaseNow(db);
          const current = run;
          // A request may take up to the spec's timeout, which may be longer than the heartbeat timeout:
          // beat while it is in flight, so a slow provider is not mistaken for a dead worker.
          const page = await whileBeating(ctx, beat, () =>
            source.readPage({
              checkpoint: current.checkpoint,
              pagesSoFar: current.pages,
              since: current.since,
              signal: ctx.cancellationSignal,
              onWait: (waitMs, reason) => {
                ctx.heartbeat({ pages: current.pages, waitingMs: waitMs, reason });
                waits.waiting(waitMs, reason);
              },
            }),
          );
          waits.wentOn();
          const commit = await inSpan(
            'page commit',
            { 'syncwright.run': run.id, 'syncwright.page': run.pages + 1 },
            () =>
              commitPage(
                db,
                {
                  integration: run.integration,
                  connection: run.connection,
                  resource: run.resource,
                  parentKey: run.parentKey,
                },
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
                  fetchedAt,
                },
              ),
          );
          if (commit.committed) recordPage(run, page.fetched, commit.counts);
          // Committed by us or by an attempt that raced us: either way the stored run is where we go on from.
          run = await loadRun(input.runId);
        }
        return runSummary(run, cursorLabelOf(run.checkpoint));
      } catch (error) {
        waits.deferred(error);
        throw toFailure(error);
      }
    },

    /** Ends the run once: deletion detection for full runs, high-water mark for incremental ones. */
    async finishSyncRun(input: {
      runId: string;
      status: Exclude<RunStatus, 'running'>;
      error?: string;
      /** Coordinating runs: the sums of their child runs. */
      totals?: RunCounts;
      /** A failed run's error type (AuthError, ClientError…), for metrics and notifications. */
      errorType?: string;
    }): Promise<RunSummary> {
      // A run whose row was never created (its spec or resource is unknown) has nothing to close; the
      // workflow fails with the error that stopped it, not with a missing row retried eight times.
      const before = await getRun(db, input.runId);
      if (!before) {
        return {
          runId: input.runId,
          status: input.status,
          ...noCounts(),
          total: null,
          cursor: null,
          done: false,
          error: input.error ?? null,
          childOf: null,
        };
      }
      // Before the row closes: a retry of this activity finds it closed and would not notify again.
      if (notify && input.status === 'failed' && before.status === 'running' && before.parentKey === null) {
        const ctx = Context.current();
        const error = input.error ?? 'failed (no message)';
        for (const event of runFailedEvents(before, input.errorType ?? 'SyncFailed', error, new Date()))
          await startNotification(ctx.client, ctx.info.taskQueue, event);
      }
      const run = await finishRun(db, {
        runId: input.runId,
        status: input.status,
        ...(input.error ? { error: input.error } : {}),
        ...(input.totals ? { totals: input.totals } : {}),
      });
      // Counted once: a retried close finds the row closed already.
      if (before.status === 'running') {
        recordRunEnd(
          run,
          input.status,
          input.status === 'failed' ? (input.errorType ?? 'SyncFailed') : undefined,
        );
        if (!input.totals) recordWrites(run, { deleted: run.deleted - before.deleted }, 'sync');
      }
      return runSummary(run, cursorLabelOf(run.checkpoint));
    },
  };
}
