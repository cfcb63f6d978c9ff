/**
 * Sync runs and their page commits. A page's records, quarantined records, counts and the new
 * checkpoint commit in ONE transaction, fenced by the run's page number, so a retried, resumed or
 * duplicated page attempt never double-counts and never loses records.
 */
import { sql, type RawBuilder, type Selectable } from 'kysely';
import type pg from 'pg';
import { poolOf, type DbOrTx } from './db.js';
import { canonicalJson } from './content-hash.js';
import {
  hasUnstorableText,
  holdsNul,
  storableJson,
  storableText,
  UNSTORABLE_REASON,
} from './storable-json.js';
import {
  CHANGE_XID,
  CURRENT_SNAPSHOT,
  dedupeByKey,
  isSnapshotMark,
  markRecordsDeleted,
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
  /**
   * The scope held no record when the run started (a first sync): its pages may be plain inserts, and it
   * has no earlier records to sweep (see startRun).
   */
  intoEmpty: boolean;
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
    intoEmpty: r.into_empty,
  };
}

export interface StartRun extends RecordScope {
  id: string;
  workflowId: string;
  kind: SyncKind;
  parentParams?: Record<string, string> | null;
  /**
   * The coordinating run of a child that visits changed parents only: its mark is the database snapshot
   * at its start (CURRENT_SNAPSHOT), and an incremental run's `since` the mark of the last completed run.
   */
  changeMark?: boolean;
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
  const inserted = await db
    .insertInto('sync_runs')
    .values({
      id: run.id,
      workflow_id: run.workflowId,
      integration: run.integration,
      connection: run.connection,
      resource: run.resource,
      kind: run.kind,
      since: run.changeMark && !isSnapshotMark(state?.high_water) ? null : (state?.high_water ?? null),
      // Taken once: a retried start finds the row and keeps the first snapshot.
      high_water: run.changeMark ? CURRENT_SNAPSHOT : (state?.high_water ?? null),
      parent_key: run.parentKey ?? null,
      parent_params: run.parentParams ?? null,
      into_empty: scopeIsEmpty(run),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return toRun(inserted);
  // Started before (a retried activity): the row as it stands.
  const found = await getRun(db, run.id);
  if (!found) throw new Error(`sync run ${run.id} vanished right after it was created`);
  return found;
}

/**
 * Whether a scope holds no record, in the statement that creates the run. A top-level scope is a prefix of
 * the primary key (any row, live or deleted, ends the scan); a parent's records are read through
 * records_live_child_idx, which holds live ones only: a deleted child coming back then meets a plain
 * insert, which the page commit's caller turns into an upsert (isRecordKeyConflict).
 *
 * What it buys: a run into an empty scope has nothing to sweep. A record a webhook writes while the run
 * lists is newer than the listing and never swept anyway; so such a run keeps no seen keys, and its
 * pages insert without ON CONFLICT (a third less Postgres time per record).
 */
function scopeIsEmpty(scope: RecordScope) {
  const parent =
    scope.parentKey == null
      ? sql`parent_key is null`
      : sql`parent_key = ${scope.parentKey} and deleted_at is null`;
  return sql<boolean>`not exists (
    select 1 from records where integration = ${scope.integration} and connection = ${scope.connection}
      and resource = ${scope.resource} and ${parent})`;
}

/** The database's clock (the one every stored timestamp uses). */
/**
 * Replaces a running run's checkpoint outside a page commit (an export job submitted, or found complete),
 * only if it still holds `expected` (compared as JSON): of two attempts racing, one wins. Returns whether
 * it was written.
 */
export async function setRunCheckpoint(
  db: DbOrTx,
  runId: string,
  expected: unknown,
  checkpoint: unknown,
  total?: number | null,
): Promise<boolean> {
  const result = await sql`
    update sync_runs set checkpoint = ${JSON.stringify(checkpoint)}::jsonb
      ${total !== undefined ? sql`, total = ${total}::int` : sql``}
    where id = ${runId} and status = 'running'
      and checkpoint is not distinct from ${expected === null ? null : JSON.stringify(expected)}::jsonb`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0) > 0;
}

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
  /** The records, or their encoding done ahead (encodePageRecords) while an earlier page committed. */
  records: readonly KeyedRecord[] | EncodedRecords;
  quarantined: readonly QuarantinedRecord[];
  /** Keys of records the provider reports as deleted in their content (the resource's deletedWhen). */
  deletedKeys?: readonly string[];
  /** Full syncs remember the keys they saw, for deletion detection at the end. */
  trackSeen: boolean;
  /**
   * Insert the records without ON CONFLICT: for a run into an empty scope (SyncRun.intoEmpty), where a
   * stored record is the exception. A record already stored fails the whole commit, which then writes
   * nothing: isRecordKeyConflict tells the caller to commit the page again as an upsert.
   */
  insertOnly?: boolean;
  /** Database time just before the page was requested: newer writes of its records are kept. */
  fetchedAt?: Date;
}

export type PageCommitResult =
  | {
      committed: true;
      counts: UpsertCounts & { quarantined: number };
      /** The run as this commit left it. */
      run: SyncRun;
      /** The database's clock during the commit: a request sent after it returned was sent later. */
      committedAt: Date;
    }
  | { committed: false; reason: 'already-committed' | 'run-not-running' };

type CommitRow = RunRow & { page_inserted: number; page_updated: number; committed_at: Date };

/**
 * Commits a page in ONE statement (one round trip, atomic on its own): the fence, the records, the seen
 * keys, the quarantined records and the run's counts and checkpoint. The fence takes the run row's lock
 * only if the run is still at the page this one was read at; every write is conditional on it, so a
 * second attempt at the same page (which waits on that lock, then sees the page count moved) writes
 * nothing.
 */
export function commitPage(db: DbOrTx, scope: RecordScope, page: PageCommit): Promise<PageCommitResult> {
  // Encoded now, before anything is awaited: from here on nothing of this function holds the page's
  // records, so the caller's letting go of them lets V8 collect them young (see OnceParam).
  const { statement, rows, quarantined } = commitStatement(scope, page);
  return runCommit(db, statement, { runId: page.runId, rows, quarantined });
}

/**
 * A parameter the driver reads once, when it writes the statement to the socket; this side then holds
 * nothing of it. A page's JSON text (hundreds of KB) and its key and hash arrays would otherwise live
 * through the commit's round trip, outlive V8's young generation and sit in the old one as garbage
 * until a full collection: most of what grew a worker's heap during a large export.
 */
class OnceParam {
  constructor(private value: unknown) {}

  toPostgres(): unknown {
    if (this.value === OnceParam.taken) throw new Error('a page commit parameter was read twice');
    const v = this.value;
    this.value = OnceParam.taken;
    return v;
  }

  private static readonly taken = Symbol('taken');
}

/**
 * A page's records as the commit sends them: keys, and the records as ONE JSON array of their canonical
 * texts (the last of a key wins). Postgres hashes each element's text (json_array_elements keeps it
 * byte for byte), which gives the same sha256 as contentHash and takes the digest off this thread, the
 * one a sync's pages queue on. Encoding is most of a commit's CPU on this side; a sync encodes a page as
 * soon as it is read, while the page before it commits, so the commit goes out the moment its turn
 * comes. Handed over once (take): from then on only the statement holds the text.
 */
export class EncodedRecords {
  private parts: { keys: string[]; data: string } | undefined;
  /**
   * Records jsonb cannot hold (storable-json.ts), left out of the page and quarantined with it instead,
   * with those characters replaced so the quarantine can show them.
   */
  readonly unstorable: QuarantinedRecord[] = [];

  constructor(records: readonly KeyedRecord[]) {
    const keys: string[] = [];
    // The records travel as ONE JSON array text rather than a jsonb[]: the driver writes an array literal
    // by quoting and escaping every element (two copies of each record's JSON, most of a page's garbage),
    // and Postgres unescapes them again.
    let data = '[';
    for (const row of dedupeByKey(records)) {
      const json = canonicalJson(row.data);
      // A key holding a NUL cannot be a text column's value (a lone surrogate becomes U+FFFD on the wire).
      if (hasUnstorableText(json) || holdsNul(row.key)) {
        this.unstorable.push({
          key: row.key,
          raw: JSON.parse(storableJson(json)),
          reason: UNSTORABLE_REASON,
        });
        continue;
      }
      data += keys.length === 0 ? json : `,${json}`;
      keys.push(row.key);
    }
    data += ']';
    this.parts = { keys, data };
  }

  take(): { keys: string[]; data: string } {
    const parts = this.parts;
    if (!parts) throw new Error("a page's encoded records were committed twice");
    this.parts = undefined;
    return parts;
  }
}

function commitStatement(scope: RecordScope, page: PageCommit) {
  const encoded = page.records instanceof EncodedRecords ? page.records : new EncodedRecords(page.records);
  const { keys, data } = encoded.take();
  const q = encoded.unstorable.length ? [...page.quarantined, ...encoded.unstorable] : page.quarantined;
  // Keys and reasons go to text columns: a NUL in one would fail the whole page.
  const qKeys = q.map((x) => (x.key === null ? null : storableText(x.key)));
  const fetchedAt = page.fetchedAt ?? null;
  // A key with a NUL names no stored record (and no text parameter can hold it).
  const deletedKeys = [...new Set(page.deletedKeys ?? [])].filter((k) => !holdsNul(k));
  // `=` / `is null` rather than `is not distinct from`, which no index can serve.
  const parentMatch =
    scope.parentKey == null ? sql`r.parent_key is null` : sql`r.parent_key = ${scope.parentKey}`;
  // Only a page that names deleted keys has this statement: with no statistics yet (a table loaded by
  // this very run) the planner once read `record_key = any('{}')` through the scope's index, which
  // scans the whole scope on every page, a sync quadratic in its size.
  const deletions =
    deletedKeys.length === 0
      ? sql`select 1 where false`
      : sql`
      update records as r set deleted_at = now(), updated_at = now(), change_xid = ${CHANGE_XID}
      where r.integration = ${scope.integration} and r.connection = ${scope.connection}
        and r.resource = ${scope.resource} and r.deleted_at is null and ${parentMatch}
        and r.record_key = any(${deletedKeys}::text[])
        and (${fetchedAt}::timestamptz is null or r.updated_at <= ${fetchedAt}::timestamptz)
        and exists (select 1 from run)
      returning 1`;
  const upsert = sql`
      on conflict (integration, connection, resource, record_key) do update
        set data = excluded.data, content_hash = excluded.content_hash, updated_at = now(),
            last_seen_at = now(), deleted_at = null, change_xid = ${CHANGE_XID}
        where (r.content_hash is distinct from excluded.content_hash or r.deleted_at is not null)
          and (${fetchedAt}::timestamptz is null or r.updated_at <= ${fetchedAt}::timestamptz)`;
  // A record stored live with the same content hash is left out before the upsert: ON CONFLICT would
  // lock its row (a WAL record and a dirtied page per unchanged record) only to write nothing, and
  // parse its JSON into jsonb first; on a re-sync where little changed that was most of Postgres's work
  // per page. The check reads the statement's snapshot: a write to the row committed after it began
  // (a webhook in flight while the page was fetched) is not seen, and stays until the next sync or
  // event, where the upsert's lock would have let an older webhook write lose to the page.
  // A correlated scalar subquery (a SubPlan) probes the primary key once per record; NOT EXISTS lets the
  // planner hash the whole scope instead, on every page.
  const unchangedSkipped = sql`
        and coalesce((
          select s.content_hash = x.h and s.deleted_at is null from records s
          where s.integration = ${scope.integration} and s.connection = ${scope.connection}
            and s.resource = ${scope.resource} and s.record_key = u.k), false) = false`;
  const keysParam = new OnceParam(keys);
  // A quarantined record the provider still lists is seen: the sweep must not take its stored copy for
  // deleted (a record that turned invalid keeps its last valid version).
  const quarantinedKeys = q.flatMap((x) => (x.key === null || holdsNul(x.key) ? [] : [x.key]));
  const seenKeys =
    quarantinedKeys.length === 0 ? sql`args.keys` : sql`args.keys || ${quarantinedKeys}::text[]`;
  const statement = sql<CommitRow>`
    with args as (select ${keysParam}::text[] as keys),
    run as materialized (
      select id from sync_runs
      where id = ${page.runId} and pages = ${page.expectedPages} and status = 'running'
      for update
    ),
    up as (
      insert into records as r (integration, connection, resource, record_key, data, content_hash, parent_key)
      select ${scope.integration}, ${scope.connection}, ${scope.resource}, u.k, u.e::jsonb, x.h,
             ${scope.parentKey ?? null}::text
      -- ROWS FROM zips the two lists in order (same length by construction), with no array built and
      -- sorted. json (not jsonb) elements keep their canonical text, which is what the hash is of.
      from args, rows from (
        unnest(args.keys),
        json_array_elements(${new OnceParam(data)}::json)
      ) as u(k, e),
      lateral (select encode(sha256(convert_to(u.e::text, 'UTF8')), 'hex') as h) as x
      where exists (select 1 from run)
      ${page.insertOnly ? sql`` : unchangedSkipped}
      ${page.insertOnly ? sql`` : upsert}
      returning (xmax = 0) as inserted
    ),
    seen as (
      insert into sync_run_seen_pages (run_id, page, keys)
      select run.id, ${page.expectedPages + 1}, ${seenKeys} from run, args
      where ${page.trackSeen && keys.length + quarantinedKeys.length > 0}::boolean
    ),
    quarantined as (
      insert into quarantine (run_id, integration, connection, resource, page, record_key, raw, reason)
      select ${page.runId}, ${scope.integration}, ${scope.connection}, ${scope.resource},
             ${page.expectedPages + 1}, x.k, x.raw, x.reason
      from unnest(${qKeys}::text[], ${q.map((x) => storableJson(JSON.stringify(x.raw ?? null)))}::jsonb[],
                  ${q.map((x) => storableText(x.reason))}::text[]) as x(k, raw, reason)
      where exists (select 1 from run)
    ),
    -- The record says it is deleted (Zendesk's status: deleted, Salesforce's IsDeleted): evidence as good
    -- as a webhook's. A newer write (a webhook after this page was fetched) is left alone.
    del as (${deletions}),
    counts as (
      select (count(*) filter (where inserted))::int as ins, (count(*) filter (where not inserted))::int as upd,
             (select count(*) from del)::int as del
      from up
    )
    update sync_runs set
      pages = sync_runs.pages + 1,
      checkpoint = ${JSON.stringify(page.checkpoint ?? null)}::jsonb,
      done = ${page.done},
      total = ${page.total}::int,
      high_water = ${page.highWater}::text,
      fetched = sync_runs.fetched + ${page.fetched}::int,
      inserted = sync_runs.inserted + counts.ins,
      updated = sync_runs.updated + counts.upd,
      unchanged = sync_runs.unchanged + ${keys.length}::int - counts.ins - counts.upd,
      quarantined = sync_runs.quarantined + ${q.length}::int,
      deleted = sync_runs.deleted + counts.del
    from counts
    where sync_runs.id = (select id from run)
    returning sync_runs.*, counts.ins as page_inserted, counts.upd as page_updated,
              clock_timestamp() as committed_at`;
  return { statement, rows: keys.length, quarantined: q.length };
}

async function runCommit(
  db: DbOrTx,
  statement: RawBuilder<CommitRow>,
  { runId, rows, quarantined }: { runId: string; rows: number; quarantined: number },
): Promise<PageCommitResult> {
  const row = (await runPrepared(db, statement)).rows[0];
  if (!row) {
    const current = await db
      .selectFrom('sync_runs')
      .select(['status'])
      .where('id', '=', runId)
      .executeTakeFirst();
    return {
      committed: false,
      reason: current?.status === 'running' ? 'already-committed' : 'run-not-running',
    };
  }
  const { page_inserted: inserted, page_updated: updated, committed_at: committedAt, ...run } = row;
  return {
    committed: true,
    counts: { inserted, updated, unchanged: rows - inserted - updated, quarantined },
    run: toRun(run),
    committedAt,
  };
}

/**
 * Whether an insert-only page commit failed on a record already stored (the primary key's unique
 * violation): nothing of the page was written, and it commits as an upsert instead.
 */
export function isRecordKeyConflict(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'records_pkey';
}

/** Statement names by text: the commit has a few forms (parent or none, deleted keys or none). */
const preparedNames = new Map<string, string>();

/**
 * Runs a statement as a named prepared statement when `db` is a pool made by createDb: planning the
 * commit's CTEs cost more Postgres time than upserting a page of 100 records. In a transaction (or a
 * foreign Kysely) it runs as usual.
 */
async function runPrepared<R>(db: DbOrTx, statement: RawBuilder<R>): Promise<{ rows: R[] }> {
  const pool = poolOf(db);
  if (!pool) return statement.execute(db);
  const compiled = statement.compile(db);
  let name = preparedNames.get(compiled.sql);
  if (name === undefined) {
    // Every value is a parameter, so the forms are few; more would mean a value in the text.
    if (preparedNames.size >= 16) return statement.execute(db);
    name = `syncwright-commit-page-${preparedNames.size + 1}`;
    preparedNames.set(compiled.sql, name);
  }
  return pool.query<R & pg.QueryResultRow>({ name, text: compiled.sql, values: [...compiled.parameters] });
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

interface SweepScope {
  runId: string;
  integration: string;
  connection: string;
  resource: string;
  parentKey: string | null;
}

/**
 * The keys a completed full run did not see and may mark deleted: the live keys of its scope (its
 * parent's, for a child run) written before the run started (deletionSweep marks no others), read through
 * the primary key (a top-level scope is a prefix of it) or records_live_child_idx, without the keys it
 * saw (a row of them per page, and the per-key rows of runs that began before pages held them).
 *
 * An anti-join, to be run as a hash join (unseenRecordKeys): one hash of one side, probed by the other,
 * about 6 ms for 10,000 keys where a hashed EXCEPT of the same sets took 17 ms. Left to row estimates, the
 * planner would pick a nested loop over a freshly loaded table, which is quadratic. When no live key
 * predates the run (every record was written by it) the hash join ends before reading the other side.
 */
export function unseenKeys(scope: SweepScope) {
  // `=` / `is null` rather than `is not distinct from`, which no index can serve (records_live_child_idx).
  const parent = scope.parentKey === null ? sql`parent_key is null` : sql`parent_key = ${scope.parentKey}`;
  return sql<{ record_key: string }>`
    select r.record_key from records r
    where integration = ${scope.integration} and connection = ${scope.connection}
      and resource = ${scope.resource} and deleted_at is null and ${parent}
      and updated_at < (select started_at from sync_runs where id = ${scope.runId})
      and not exists (
        select from (
          select unnest(keys) as k from sync_run_seen_pages where run_id = ${scope.runId}
          union all
          select record_key from sync_run_seen where run_id = ${scope.runId}
        ) seen
        where seen.k = r.record_key)`;
}

/**
 * The planner settings under which unseenKeys runs as a hash join: nested loops and merge joins (a sort
 * of every key) off. Set for the rest of the transaction (they must be set before the statement is
 * planned); finishRun puts them back with its last statement.
 */
const HASH_JOIN_ONLY = sql`
  case when r.status = 'running' then set_config('enable_nestloop', 'off', true) end as nestloop_off,
  case when r.status = 'running' then set_config('enable_mergejoin', 'off', true) end as mergejoin_off`;

/**
 * The deletion sweep of a completed full run: marks the given unseen records (unseenKeys) that nothing
 * wrote since the run started as deleted, each reached by its primary key.
 */
export function deletionSweep(db: DbOrTx, scope: SweepScope, keys: readonly string[]) {
  return (
    markRecordsDeleted(db, scope)
      .where('record_key', '=', sql<string>`any(${keys}::text[])`)
      .where('parent_key', scope.parentKey === null ? 'is' : '=', scope.parentKey)
      // Missing from a listing proves a deletion only for records written before the listing began:
      // one a webhook created or changed meanwhile may simply not have been listed yet.
      // Compared in the database, at its microsecond precision (a JS Date keeps milliseconds).
      .where('updated_at', '<', sql<Date>`(select started_at from sync_runs where id = ${scope.runId})`)
  );
}

/** Unseen keys marked per statement: a mass deletion does not become one huge parameter. */
const SWEEP_BATCH = 10_000;

/**
 * Ends a run once (later calls return the stored outcome). A completed full run marks records it did
 * not see, and that nothing wrote since it started, as deleted; any completed run advances the
 * resource's high-water mark.
 */
export async function finishRun(db: DbOrTx, finish: FinishRun): Promise<SyncRun> {
  return (await closeRun(db, finish)).run;
}

/** What closing a run did. */
export interface ClosedRun {
  run: SyncRun;
  /** False when the run had ended already (a retried close, or another one won): nothing changed. */
  closed: boolean;
  /** Records the run had marked deleted before it closed (its pages' deletions), for the sweep's share. */
  deletedBefore: number;
}

/** finishRun, also telling whether this call closed the run. */
export async function closeRun(db: DbOrTx, finish: FinishRun): Promise<ClosedRun> {
  // Few round trips: the run's row (locked) comes with the planner settings the sweep needs, and
  // everything after the sweep is one statement. The settings last to the end of this transaction; the
  // last statement puts them back too, for a caller whose transaction goes on.
  const work = async (tx: DbOrTx) => {
    // The settings as they were are read (materialized) before the row's set_config turns them off; a
    // run that has ended already is returned as it is and changes no setting.
    const run = (
      await sql<RunRow & { nestloop: string; mergejoin: string }>`
        with was as materialized (
          select current_setting('enable_nestloop') as nestloop, current_setting('enable_mergejoin') as mergejoin)
        select r.*, was.nestloop, was.mergejoin, ${HASH_JOIN_ONLY}
        from sync_runs r, was where r.id = ${finish.runId} for update of r`.execute(tx)
    ).rows[0];
    if (!run) throw new Error(`no sync run ${finish.runId}`);
    if (run.status !== 'running') return { run: toRun(run), closed: false, deletedBefore: run.deleted };
    const settings = { nestloop: run.nestloop, mergejoin: run.mergejoin };
    let deleted = 0;
    // A run into an empty scope (into_empty) has no record from before it to sweep.
    if (finish.status === 'completed' && run.kind === 'full' && finish.sweep !== false && !run.into_empty) {
      const scope = {
        runId: finish.runId,
        integration: run.integration,
        connection: run.connection,
        resource: run.resource,
        parentKey: run.parent_key,
      };
      const unseen = (await unseenKeys(scope).execute(tx)).rows.map((r) => r.record_key);
      for (let i = 0; i < unseen.length; i += SWEEP_BATCH) {
        const result = await deletionSweep(tx, scope, unseen.slice(i, i + SWEEP_BATCH)).executeTakeFirst();
        deleted += Number(result.numUpdatedRows);
      }
    }
    // Any completed run (full or incremental) read everything up to its high-water mark.
    // A child run advances its parent's mark only: its siblings read their own ranges.
    const markState =
      finish.status === 'completed' && run.high_water !== null
        ? sql`, mark as (
            insert into sync_state (integration, connection, resource, parent_key, high_water, last_run_id)
            values (${run.integration}, ${run.connection}, ${run.resource}, ${run.parent_key ?? ''},
              ${run.high_water}, ${run.id})
            on conflict (integration, connection, resource, parent_key)
            do update set high_water = excluded.high_water, last_run_id = excluded.last_run_id, updated_at = now())`
        : sql``;
    const t = finish.totals;
    // Pages may have marked records deleted from their content already.
    const counts = t
      ? sql`pages = ${t.pages}, fetched = ${t.fetched}, inserted = ${t.inserted}, updated = ${t.updated},
          unchanged = ${t.unchanged}, deleted = ${t.deleted}, quarantined = ${t.quarantined}`
      : sql`deleted = deleted + ${deleted}`;
    const ended = await sql<RunRow>`
      with forget_pages as (delete from sync_run_seen_pages where run_id = ${finish.runId}),
      forget_keys as (delete from sync_run_seen where run_id = ${finish.runId})${markState},
      closed as (
        update sync_runs set status = ${finish.status}, ended_at = now(), error = ${finish.error ?? null}, ${counts}
        where id = ${finish.runId}
        returning *)
      select closed.*, set_config('enable_nestloop', ${settings.nestloop}, true) as nestloop,
        set_config('enable_mergejoin', ${settings.mergejoin}, true) as mergejoin
      from closed`.execute(tx);
    const row = ended.rows[0];
    if (!row) throw new Error(`no sync run ${finish.runId}`);
    return { run: toRun(row), closed: true, deletedBefore: run.deleted };
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
