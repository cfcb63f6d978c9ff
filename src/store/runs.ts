/**
 * Sync runs and their page commits. A page's records, quarantined records, counts and the new
 * checkpoint commit in ONE transaction, fenced by the run's page number, so a retried, resumed or
 * duplicated page attempt never double-counts and never loses records.
 */
import { sql, type Selectable } from 'kysely';
import type { DbOrTx } from './db.js';
import {
  markRecordsDeleted,
  upsertRecords,
  type KeyedRecord,
  type RecordScope,
  type UpsertCounts,
} from './records.js';
import type { RunCounts, RunStatus, SyncKind } from './run-types.js';
import type { SyncRunsTable } from './tables.js';

export interface SyncRun extends RecordScope, RunCounts {
  id: string;
  workflowId: string;
  kind: SyncKind;
  status: RunStatus;
  startedAt: Date;
  endedAt: Date | null;
  total: number | null;
  checkpoint: unknown;
  done: boolean;
  since: string | null;
  highWater: string | null;
  error: string | null;
  parentKey: string | null;
  parentParams: Record<string, string> | null;
}

type RunRow = Selectable<SyncRunsTable>;

function toRun(r: RunRow): SyncRun {
  return {
    id: r.id,
    workflowId: r.workflow_id,
    integration: r.integration,
    connection: r.connection,
    resource: r.resource,
    kind: r.kind,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    pages: r.pages,
    fetched: r.fetched,
    inserted: r.inserted,
    updated: r.updated,
    unchanged: r.unchanged,
    deleted: r.deleted,
    quarantined: r.quarantined,
    total: r.total,
    checkpoint: r.checkpoint,
    done: r.done,
    since: r.since,
    highWater: r.high_water,
    error: r.error,
    parentKey: r.parent_key,
    parentParams: r.parent_params,
  };
}

export interface StartRun extends RecordScope {
  id: string;
  workflowId: string;
  kind: SyncKind;
  parentParams?: Record<string, string> | null;
}

/**
 * Creates the run (idempotent: a retried start returns the existing row). An incremental run starts
 * from the resource's stored high-water mark.
 */
export async function startRun(db: DbOrTx, run: StartRun): Promise<SyncRun> {
  const state =
    // A child run (one per parent record) starts from its parent's own mark.
    run.kind === 'incremental'
      ? await db
          .selectFrom('sync_state')
          .select('high_water')
          .where('integration', '=', run.integration)
          .where('connection', '=', run.connection)
          .where('resource', '=', run.resource)
          .where('parent_key', '=', run.parentKey ?? '')
          .executeTakeFirst()
      : undefined;
  await db
    .insertInto('sync_runs')
    .values({
      id: run.id,
      workflow_id: run.workflowId,
      integration: run.integration,
      connection: run.connection,
      resource: run.resource,
      kind: run.kind,
      since: state?.high_water ?? null,
      high_water: state?.high_water ?? null,
      parent_key: run.parentKey ?? null,
      parent_params: run.parentParams ?? null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const found = await getRun(db, run.id);
  if (!found) throw new Error(`sync run ${run.id} vanished right after it was created`);
  return found;
}

/** The database's clock (the one every stored timestamp uses). */
export async function databaseNow(db: DbOrTx): Promise<Date> {
  const r = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(db);
  return r.rows[0]!.now;
}

export async function getRun(db: DbOrTx, id: string): Promise<SyncRun | undefined> {
  const row = await db.selectFrom('sync_runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRun(row) : undefined;
}

export interface QuarantinedRecord {
  key: string | null;
  raw: unknown;
  reason: string;
}

export interface PageCommit {
  runId: string;
  /** The run's page count when this page was fetched; the commit is refused if it moved on. */
  expectedPages: number;
  checkpoint: unknown;
  done: boolean;
  total: number | null;
  highWater: string | null;
  fetched: number;
  records: readonly KeyedRecord[];
  quarantined: readonly QuarantinedRecord[];
  /** Keys of records the provider reports as deleted in their content (the resource's deletedWhen). */
  deletedKeys?: readonly string[];
  /** Full syncs remember the keys they saw, for deletion detection at the end. */
  trackSeen: boolean;
  /** Database time just before the page was requested: newer writes of its records are kept. */
  fetchedAt?: Date;
}

export type PageCommitResult =
  | { committed: true; counts: UpsertCounts & { quarantined: number } }
  | { committed: false; reason: 'already-committed' | 'run-not-running' };

export async function commitPage(
  db: DbOrTx,
  scope: RecordScope,
  page: PageCommit,
): Promise<PageCommitResult> {
  const run = (tx: DbOrTx) => commitPageIn(tx, scope, page);
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

async function commitPageIn(tx: DbOrTx, scope: RecordScope, page: PageCommit): Promise<PageCommitResult> {
  // The fence: takes the run row's lock and moves it one page on, or touches nothing.
  const fenced = await tx
    .updateTable('sync_runs')
    .set({
      pages: sql`pages + 1`,
      checkpoint: JSON.stringify(page.checkpoint ?? null),
      done: page.done,
      total: page.total,
      high_water: page.highWater,
    })
    .where('id', '=', page.runId)
    .where('pages', '=', page.expectedPages)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  if (!fenced) {
    const current = await tx
      .selectFrom('sync_runs')
      .select(['status'])
      .where('id', '=', page.runId)
      .executeTakeFirst();
    return {
      committed: false,
      reason: current?.status === 'running' ? 'already-committed' : 'run-not-running',
    };
  }
  const counts = await upsertRecords(
    tx,
    scope,
    page.records,
    page.fetchedAt ? { fetchedAt: page.fetchedAt } : {},
  );
  let deleted = 0;
  if (page.deletedKeys && page.deletedKeys.length > 0) {
    // The record says it is deleted (Zendesk's status: deleted, Salesforce's IsDeleted): evidence as
    // good as a webhook's. A newer write (a webhook after this page was fetched) is left alone.
    let q = markRecordsDeleted(tx, scope)
      .where('parent_key', scope.parentKey == null ? 'is' : '=', scope.parentKey ?? null)
      .where('record_key', 'in', [...new Set(page.deletedKeys)]);
    if (page.fetchedAt) q = q.where('updated_at', '<=', page.fetchedAt);
    deleted = Number((await q.executeTakeFirst()).numUpdatedRows);
  }
  if (page.trackSeen && page.records.length > 0) {
    await tx
      .insertInto('sync_run_seen')
      .values(
        [...new Set(page.records.map((r) => r.key))].map((key) => ({ run_id: page.runId, record_key: key })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  if (page.quarantined.length > 0) {
    await tx
      .insertInto('quarantine')
      .values(
        page.quarantined.map((q) => ({
          run_id: page.runId,
          integration: scope.integration,
          connection: scope.connection,
          resource: scope.resource,
          page: page.expectedPages + 1,
          record_key: q.key,
          raw: JSON.stringify(q.raw ?? null),
          reason: q.reason,
        })),
      )
      .execute();
  }
  await tx
    .updateTable('sync_runs')
    .set({
      fetched: sql`fetched + ${page.fetched}`,
      inserted: sql`inserted + ${counts.inserted}`,
      updated: sql`updated + ${counts.updated}`,
      unchanged: sql`unchanged + ${counts.unchanged}`,
      quarantined: sql`quarantined + ${page.quarantined.length}`,
      deleted: sql`deleted + ${deleted}`,
    })
    .where('id', '=', page.runId)
    .execute();
  return { committed: true, counts: { ...counts, quarantined: page.quarantined.length } };
}

export interface FinishRun {
  runId: string;
  status: Exclude<RunStatus, 'running'>;
  error?: string;
  /** Coordinating runs of child resources record the sums of their children. */
  totals?: RunCounts;
  /** False for append-only resources: a full run never marks records deleted (default true). */
  sweep?: boolean;
}

/**
 * The deletion sweep of a completed full run: marks the live records of its scope (its parent's, for a
 * child run) that it did not see, and that nothing wrote since it started, as deleted. Served by
 * records_live_parent_idx.
 */
export function deletionSweep(
  db: DbOrTx,
  scope: {
    runId: string;
    integration: string;
    connection: string;
    resource: string;
    parentKey: string | null;
  },
) {
  return (
    markRecordsDeleted(db, scope)
      // `=` / `is null` rather than `is not distinct from`, which no index can serve (records_live_parent_idx).
      .where('parent_key', scope.parentKey === null ? 'is' : '=', scope.parentKey)
      // Missing from a listing proves a deletion only for records written before the listing began:
      // one a webhook created or changed meanwhile may simply not have been listed yet.
      // Compared in the database, at its microsecond precision (a JS Date keeps milliseconds).
      .where('updated_at', '<', sql<Date>`(select started_at from sync_runs where id = ${scope.runId})`)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('sync_run_seen')
              .select(sql`1`.as('one'))
              .where('sync_run_seen.run_id', '=', scope.runId)
              .whereRef('sync_run_seen.record_key', '=', 'records.record_key'),
          ),
        ),
      )
  );
}

/**
 * Ends a run once (later calls return the stored outcome). A completed full run marks records it did
 * not see, and that nothing wrote since it started, as deleted; any completed run advances the
 * resource's high-water mark.
 */
export async function finishRun(db: DbOrTx, finish: FinishRun): Promise<SyncRun> {
  const work = async (tx: DbOrTx) => {
    const run = await tx
      .selectFrom('sync_runs')
      .selectAll()
      .where('id', '=', finish.runId)
      .forUpdate()
      .executeTakeFirst();
    if (!run) throw new Error(`no sync run ${finish.runId}`);
    if (run.status !== 'running') return toRun(run);
    let deleted = 0;
    if (finish.status === 'completed' && run.kind === 'full' && finish.sweep !== false) {
      const result = await deletionSweep(tx, {
        runId: finish.runId,
        integration: run.integration,
        connection: run.connection,
        resource: run.resource,
        parentKey: run.parent_key,
      }).executeTakeFirst();
      deleted = Number(result.numUpdatedRows);
    }
    // Any completed run (full or incremental) read everything up to its high-water mark.
    // A child run advances its parent's mark only: its siblings read their own ranges.
    if (finish.status === 'completed' && run.high_water !== null) {
      await tx
        .insertInto('sync_state')
        .values({
          integration: run.integration,
          connection: run.connection,
          resource: run.resource,
          parent_key: run.parent_key ?? '',
          high_water: run.high_water,
          last_run_id: run.id,
        })
        .onConflict((oc) =>
          oc.columns(['integration', 'connection', 'resource', 'parent_key']).doUpdateSet({
            high_water: run.high_water,
            last_run_id: run.id,
            updated_at: sql`now()`,
          }),
        )
        .execute();
    }
    await tx.deleteFrom('sync_run_seen').where('run_id', '=', finish.runId).execute();
    const ended = await tx
      .updateTable('sync_runs')
      .set({
        status: finish.status,
        ended_at: sql`now()`,
        // Pages may have marked records deleted from their content already.
        deleted: sql`deleted + ${deleted}`,
        error: finish.error ?? null,
        ...(finish.totals ?? {}),
      })
      .where('id', '=', finish.runId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRun(ended);
  };
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

export async function listRuns(
  db: DbOrTx,
  filter: { integration?: string; status?: RunStatus; limit?: number } = {},
): Promise<SyncRun[]> {
  let q = db.selectFrom('sync_runs').selectAll().orderBy('started_at', 'desc');
  if (filter.integration) q = q.where('integration', '=', filter.integration);
  if (filter.status) q = q.where('status', '=', filter.status);
  const rows = await q.limit(filter.limit ?? 50).execute();
  return rows.map((r) => toRun(r));
}
