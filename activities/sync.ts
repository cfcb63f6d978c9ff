import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  commitPage,
  databaseNow,
  EncodedRecords,
  closeRun,
  getRun,
  isRecordKeyConflict,
  startRun,
  type PageCommit,
  type PageCommitResult,
  type SyncRun,
} from '../src/store/runs.js';
import { maxCursor, type OpenPageSource, type Page } from '../src/sync/page-source.js';
import { SpecError } from '../src/spec/errors.js';
import { scalarText, valueAtPath } from '../src/json/path.js';
import { lookupResource } from '../src/spec/registry.js';
import { changedOnlyParent, combine, parentLabel, valueCombinations } from '../src/spec/parent.js';
import { changedSince, isSnapshotMark } from '../src/store/records.js';
import { getConnectionConfig } from '../src/store/connections.js';
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
import { throttledHeartbeat, whileBeating } from './heartbeat.js';
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

  /** Creates the run row (idempotent) and returns its starting summary. */
  async function startSyncRun(input: StartRunInput): Promise<RunSummary> {
    return (await openRun(input)).summary;
  }

  /** startSyncRun, with the run as stored (a page activity that started it pages on without reading it again). */
  async function openRun(input: StartRunInput): Promise<{ summary: RunSummary; run: SyncRun }> {
    let childOf: string | null;
    let isExport: boolean;
    let changeMark: boolean;
    try {
      const { resource } = lookupResource(specs, input.integration, input.resource);
      childOf = resource.parent ? parentLabel(resource.parent) : null;
      isExport = resource.export !== undefined;
      // The run that visits the parents (not one parent's run) marks where the changes it covers end.
      changeMark = changedOnlyParent(resource.parent) !== undefined && !input.parent;
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
      ...(changeMark ? { changeMark } : {}),
    });
    const summary = runSummary(run, null, input.parent ? null : childOf);
    return { summary: isExport ? { ...summary, export: true } : summary, run };
  }

  /** Ends the run once: deletion detection for full runs, high-water mark for incremental ones. */
  async function finishSyncRun(
    input: {
      runId: string;
      status: Exclude<RunStatus, 'running'>;
      error?: string;
      /** Coordinating runs: the sums of their child runs. */
      totals?: RunCounts;
      /** A failed run's error type (AuthError, ClientError…), for metrics and notifications. */
      errorType?: string;
    },
    known?: SyncRun,
  ): Promise<RunSummary> {
    // A run whose row was never created (its spec or resource is unknown) has nothing to close; the
    // workflow fails with the error that stopped it, not with a missing row retried eight times.
    // A page activity closing the run it paged knows it already (a failure reads the row it notifies of).
    const before = known && input.status !== 'failed' ? known : await getRun(db, input.runId);
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
    let appendOnly = false;
    try {
      appendOnly = lookupResource(specs, before.integration, before.resource).resource.appendOnly;
    } catch {
      // An unknown spec or resource (the run's failure says so): closed as usual.
    }
    // Before the row closes: a retry of this activity finds it closed and would not notify again.
    if (notify && input.status === 'failed' && before.status === 'running' && before.parentKey === null) {
      const ctx = Context.current();
      const error = input.error ?? 'failed (no message)';
      for (const event of runFailedEvents(before, input.errorType ?? 'SyncFailed', error, new Date()))
        await startNotification(ctx.client, ctx.info.taskQueue, event);
    }
    const { run, closed, deletedBefore } = await closeRun(db, {
      runId: input.runId,
      status: input.status,
      // Append-only resources keep what a full run did not see (old log entries the API dropped).
      ...(appendOnly ? { sweep: false } : {}),
      ...(input.error ? { error: input.error } : {}),
      ...(input.totals ? { totals: input.totals } : {}),
    });
    // Counted once: a retried close finds the row closed already.
    if (closed) {
      recordRunEnd(
        run,
        input.status,
        input.status === 'failed' ? (input.errorType ?? 'SyncFailed') : undefined,
      );
      if (!input.totals) recordWrites(run, { deleted: run.deleted - deletedBefore }, 'sync');
    }
    return runSummary(run, cursorLabelOf(run.checkpoint));
  }

  /** The stored records of a parent resource (of a product) that have every param, as parents. */
  async function parentRecords(
    target: SyncTarget,
    resource: string,
    mapping: Record<string, string>,
  ): Promise<ParentRef[]> {
    const rows = await db
      .selectFrom('records')
      .select(['record_key', 'data'])
      .where('integration', '=', target.integration)
      .where('connection', '=', target.connection)
      .where('resource', '=', resource)
      .where('deleted_at', 'is', null)
      .orderBy('record_key')
      .execute();
    const out: ParentRef[] = [];
    for (const row of rows) {
      const params = parentParams(row.data, mapping);
      if (params) out.push({ key: row.record_key, params });
    }
    return out;
  }

  const activities = {
    startSyncRun,

    /**
     * The next parent records of a child resource (from the records store), with the path params the
     * child's requests need. Keys and params only: records themselves never enter workflow history.
     */
    async listParents(
      input: SyncTarget & {
        after: string | null;
        limit: number;
        /** The coordinating run: with `parent.changedOnly`, its kind and mark say which parents. */
        runId?: string;
      },
    ): Promise<ParentBatch> {
      let mapping: Record<string, string>;
      let parentResource: string;
      let changedAfter: string | undefined;
      try {
        const { resource } = lookupResource(specs, input.integration, input.resource);
        if (!resource.parent)
          throw new SpecError(input.integration, [`resources.${input.resource} has no parent`]);
        if ('values' in resource.parent) {
          // Listed values (or the connection's lists): every combination, in key order for `after`.
          const config = await getConnectionConfig(db, input.integration, input.connection);
          const all = valueCombinations(resource.parent.values, config ?? {}).sort((a, b) =>
            a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
          );
          const rest = input.after === null ? all : all.filter((c) => c.key > input.after!);
          const page = rest.slice(0, input.limit);
          return {
            parents: page,
            skipped: 0,
            nextAfter: rest.length > input.limit ? (page.at(-1)?.key ?? null) : null,
          };
        }
        if ('product' in resource.parent) {
          // One of each parent: every combination, in key order for `after` (at most 10000).
          const config = (await getConnectionConfig(db, input.integration, input.connection)) ?? {};
          const lists: ParentRef[][] = [];
          for (const item of resource.parent.product)
            lists.push(
              'values' in item
                ? valueCombinations(item.values, config)
                : await parentRecords(input, item.resource, item.params),
            );
          const count = lists.reduce((n, l) => n * l.length, 1);
          if (count > 10_000)
            throw new SpecError(input.integration, [
              `resources.${input.resource}.parent.product: ${count} combinations of parents: at most 10000 runs per sync`,
            ]);
          const all = combine(lists).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
          const rest = input.after === null ? all : all.filter((c) => c.key > input.after!);
          const page = rest.slice(0, input.limit);
          return {
            parents: page,
            skipped: 0,
            nextAfter: rest.length > input.limit ? (page.at(-1)?.key ?? null) : null,
          };
        }
        mapping = resource.parent.params;
        parentResource = resource.parent.resource;
        if (changedOnlyParent(resource.parent) !== undefined && input.runId !== undefined) {
          // An incremental run after a completed one: the parents changed since that run's snapshot
          // (a full run, a first run, or one listed by a workflow from before runId: all of them).
          const run = await loadRun(input.runId);
          if (run.kind === 'incremental' && isSnapshotMark(run.since)) changedAfter = run.since;
        }
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
      if (changedAfter !== undefined) q = q.where(changedSince(changedAfter));
      const rows = await q.execute();
      const page = rows.slice(0, input.limit);
      const parents: ParentRef[] = [];
      let skipped = 0;
      for (const row of page) {
        const params = parentParams(row.data, mapping);
        if (params) parents.push({ key: row.record_key, params });
        else skipped++;
      }
      return {
        parents,
        skipped,
        nextAfter: rows.length > input.limit ? (page.at(-1)?.record_key ?? null) : null,
      };
    },

    /**
     * Fetches and commits up to `maxPages` pages after the run's committed checkpoint (and, when `maxMs`
     * is given, starts no page after that long). The checkpoint in Postgres is the truth: a retry after a
     * crash starts from it, and the page fence makes a page that was committed by an earlier attempt a
     * no-op.
     *
     * The next page is requested while the current one commits (one page ahead, no more): the request
     * needs only the page's pagination state, which the provider's answer already gave. Commits stay in
     * page order, one statement each. A page read ahead of a commit that did not go through (the run was
     * cancelled, or another attempt committed it) is dropped unread.
     */
    async syncPages(
      input: SyncPagesInput,
      started?: SyncRun,
    ): Promise<{ summary: RunSummary; run: SyncRun }> {
      const ctx = Context.current();
      const startedAt = Date.now();
      // A run this activity has just opened is read already.
      let run = started ?? (await loadRun(input.runId));
      if (run.status !== 'running' || run.done)
        return { summary: runSummary(run, cursorLabelOf(run.checkpoint)), run };
      const readAhead = new AbortController();
      const signal = AbortSignal.any([ctx.cancellationSignal, readAhead.signal]);
      let pending: Promise<{ page: Page; records: EncodedRecords; fetchedAt: Date }> | undefined;
      const waits = waitReporter(ctx, `${run.integration}/${run.connection}/${run.resource}`);
      try {
        // Independent reads: the connection (and its secrets) and the database's clock, together.
        const [source, now] = await Promise.all([openPageSource(run), databaseNow(db)]);
        const scope = {
          integration: run.integration,
          connection: run.connection,
          resource: run.resource,
          parentKey: run.parentKey,
        };
        // The latest database time known before a request is sent: records written after it are newer
        // than what the request brings back, and are kept.
        let dbTime = now;
        const pageBeat = throttledHeartbeat(ctx);
        const read = (from: { checkpoint: unknown; pages: number; since: string | null }) => {
          const fetchedAt = dbTime;
          const beat = { pages: from.pages, cursor: cursorLabelOf(from.checkpoint) };
          pageBeat(beat);
          // A request may take up to the spec's timeout, which may be longer than the heartbeat timeout:
          // beat while it is in flight, so a slow provider is not mistaken for a dead worker.
          const p = whileBeating(ctx, beat, () =>
            source.readPage({
              checkpoint: from.checkpoint,
              pagesSoFar: from.pages,
              since: from.since,
              signal,
              onWait: (waitMs, reason) => {
                ctx.heartbeat({ pages: from.pages, waitingMs: waitMs, reason });
                waits.waiting(waitMs, reason);
              },
            }),
          ).then((page) => {
            waits.wentOn();
            // Encoded now, while the page before it commits: its commit can go out as soon as that one
            // returns. The encoding replaces the records, which V8 may then collect young.
            const records = new EncodedRecords(page.records);
            page.records = [];
            return { page, records, fetchedAt };
          });
          // Awaited below; until then a failure must not count as unhandled.
          p.catch(() => undefined);
          return p;
        };
        pending = read(run);
        // A run into an empty scope inserts its pages plainly until one meets a stored record.
        let insertOnly = run.intoEmpty;
        for (let i = 0; pending; i++) {
          const { page, records, fetchedAt } = await pending;
          pending = undefined;
          waits.wentOn();
          const more =
            !page.done &&
            i + 1 < input.maxPages &&
            (input.maxMs === undefined || Date.now() - startedAt < input.maxMs);
          if (more) pending = read({ checkpoint: page.checkpoint, pages: run.pages + 1, since: run.since });
          const spanAttrs = { 'syncwright.run': run.id, 'syncwright.page': run.pages + 1 };
          const expectedPages = run.pages;
          // The page's encoded records move to the commit, which the span's callback takes and commitPage
          // hands to its statement at once: nothing of this loop holds them while the commit's round trip
          // runs (an async function's locals outlive their last use), so V8 collects them young.
          let commit: PageCommit | undefined = detachRecords(page, records, {
            runId: run.id,
            expectedPages,
            checkpoint: page.checkpoint,
            done: page.done,
            total: page.total,
            highWater: maxCursor(run.highWater, page.highWater),
            fetched: page.fetched,
            // A run into an empty scope has nothing to sweep, so nothing to remember.
            trackSeen: run.kind === 'full' && !run.intoEmpty,
            insertOnly,
            fetchedAt,
          });
          let committed: PageCommitResult;
          try {
            committed = await inSpan('page commit', spanAttrs, () => {
              const c = commit!;
              commit = undefined;
              return commitPage(db, scope, c);
            });
          } catch (error) {
            if (!insertOnly || !isRecordKeyConflict(error)) throw error;
            // A record of the page is stored already (a webhook wrote it during this first sync, or the
            // provider listed it twice): nothing of the page was written. It is read again from the last
            // commit and upserted, as are the pages after it; the page read ahead is dropped unread.
            insertOnly = false;
            pending = read(run);
            continue;
          }
          if (!committed.committed) {
            // Cancelled meanwhile, or committed by an attempt that raced us: the stored run says where
            // things stand, and the page read ahead belongs to no one.
            run = await loadRun(input.runId);
            break;
          }
          recordPage(run, page.fetched, committed.counts);
          run = committed.run;
          dbTime = committed.committedAt;
        }
        return { summary: runSummary(run, cursorLabelOf(run.checkpoint)), run };
      } catch (error) {
        waits.deferred(error);
        throw toFailure(error);
      } finally {
        if (pending) readAhead.abort();
      }
    },

    finishSyncRun,
  };

  return {
    ...activities,

    /**
     * The page activity, which may also start the run (`start`) and close it after its last page
     * (`finish`): a run of one page is then one activity instead of three (see workflows/sync-resource.ts).
     */
    async syncPages(input: SyncPagesInput): Promise<RunSummary> {
      let opened: SyncRun | undefined;
      if (input.start) {
        const started = await openRun(input.start);
        // A child resource's run is coordinated by its own workflow, an export's job is submitted and
        // polled first: nothing to page here.
        if (started.summary.childOf !== null || started.summary.export) return started.summary;
        opened = started.run;
      }
      const { summary, run } = await activities.syncPages(input, opened);
      return input.finish && summary.done && summary.status === 'running'
        ? await finishSyncRun({ runId: input.runId, status: 'completed' }, run)
        : summary;
    },
  };
}

/** The page's (encoded) records, quarantined records and deleted keys, moved off the page into its commit. */
function detachRecords(
  page: Page,
  records: EncodedRecords,
  commit: Omit<PageCommit, 'records' | 'quarantined' | 'deletedKeys'>,
): PageCommit {
  const moved: PageCommit = {
    ...commit,
    records,
    quarantined: page.quarantined,
    ...(page.deletedKeys?.length ? { deletedKeys: page.deletedKeys } : {}),
  };
  page.records = [];
  page.quarantined = [];
  delete page.deletedKeys;
  return moved;
}

/** A parent record's path params by the child's mapping, or undefined when any is missing or empty. */
function parentParams(data: unknown, mapping: Record<string, string>): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [name, field] of Object.entries(mapping)) {
    const v = valueAtPath(data, field);
    if (v === undefined || v === null || v === '') return undefined;
    params[name] = scalarText(v);
  }
  return params;
}
