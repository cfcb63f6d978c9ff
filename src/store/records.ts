import { sql } from 'kysely';
import { canonicalJson, hashOfCanonical } from './content-hash.js';
import type { DbOrTx } from './db.js';

/**
 * The value every update that changes a record (its content, or whether it is deleted) gives its
 * change_xid: the writing transaction's id. A child visiting only changed parents (`parent.changedOnly`)
 * reads it against the database snapshot its last run took (changedSince).
 */
export const CHANGE_XID = sql<string>`pg_current_xact_id()`;

/**
 * The database snapshot a run of a child visiting changed parents takes as its mark, as text
 * (`xmin:xmax:xip,…`): what it names as committed is what the run will have seen; every other
 * transaction, in flight then or begun later, is after the mark (changedSince).
 */
export const CURRENT_SNAPSHOT = sql<string>`pg_current_snapshot()::text`;

/** Whether a stored mark is a snapshot's text (a mark of another kind means no usable mark). */
export function isSnapshotMark(mark: string | null | undefined): mark is string {
  return typeof mark === 'string' && /^\d+:\d+:(\d+(,\d+)*)?$/.test(mark);
}

/**
 * Records changed by a transaction the snapshot `mark` did not see as committed: committed after it
 * was taken, or in flight then. Exact where a clock is not: a transaction that began before a mark and
 * commits after it is after the mark, however early its now(). Rows from before change_xid was kept
 * (null) are older than any mark.
 */
export function changedSince(mark: string) {
  return sql<boolean>`(change_xid >= pg_snapshot_xmin(${mark}::pg_snapshot) and not pg_visible_in_snapshot(change_xid, ${mark}::pg_snapshot))`;
}

export interface RecordScope {
  integration: string;
  connection: string;
  resource: string;
  /** Child resources: the parent record these records belong to. */
  parentKey?: string | null;
}

export interface KeyedRecord {
  key: string;
  data: unknown;
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface UpsertOptions {
  /**
   * Database time at which these records were requested from the provider. A stored record written
   * after it (by a webhook, or a sync that fetched later) is newer than what this page says and is
   * kept; it counts as unchanged.
   */
  fetchedAt?: Date;
}

export interface StoredRecord {
  key: string;
  data: unknown;
  contentHash: string;
  firstSeenAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/**
 * The records with one per key, the last one winning, in the order keys first appear: Postgres refuses
 * to touch one row twice in one statement.
 */
export function dedupeByKey(records: readonly KeyedRecord[]): KeyedRecord[] {
  const byKey = new Map<string, KeyedRecord>();
  for (const r of records) byKey.set(r.key, r);
  return byKey.size === records.length ? [...records] : [...byKey.values()];
}

/**
 * Inserts new records and rewrites changed ones; a record whose content hash is unchanged is not
 * written at all. Within one batch the last record with a key wins (Postgres refuses to touch one row
 * twice in one statement).
 */
export async function upsertRecords(
  db: DbOrTx,
  scope: RecordScope,
  records: readonly KeyedRecord[],
  options: UpsertOptions = {},
): Promise<UpsertCounts> {
  if (records.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const rows = dedupeByKey(records).map((r) => {
    const data = canonicalJson(r.data);
    return {
      integration: scope.integration,
      connection: scope.connection,
      resource: scope.resource,
      record_key: r.key,
      data,
      content_hash: hashOfCanonical(data),
      parent_key: scope.parentKey ?? null,
    };
  });
  const written = await db
    .insertInto('records')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['integration', 'connection', 'resource', 'record_key'])
        .doUpdateSet((eb) => ({
          data: eb.ref('excluded.data'),
          content_hash: eb.ref('excluded.content_hash'),
          updated_at: sql<Date>`now()`,
          last_seen_at: sql<Date>`now()`,
          deleted_at: null,
          change_xid: CHANGE_XID,
        }))
        .where((eb) => {
          const changed = eb.or([
            eb('records.content_hash', 'is distinct from', eb.ref('excluded.content_hash')),
            eb('records.deleted_at', 'is not', null),
          ]);
          return options.fetchedAt
            ? eb.and([changed, eb('records.updated_at', '<=', options.fetchedAt)])
            : changed;
        }),
    )
    // xmax = 0 only on rows this statement inserted (not on rows it updated).
    .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
    .execute();
  const inserted = written.filter((w) => w.inserted).length;
  const updated = written.length - inserted;
  return { inserted, updated, unchanged: rows.length - written.length };
}

/**
 * Soft delete, in one place: marks the live records of one resource deleted (deleted_at and updated_at
 * become the database's now; records already deleted are left as they are). Callers narrow the
 * statement with their own predicates, which differ because the evidence differs:
 * - the deletion sweep (runs.ts) marks the records of its scope (parent) a full listing did not see
 *   and that nothing wrote since the run started — absence from a listing is the evidence;
 * - a webhook delete (webhooks/apply.ts) marks one record by key — the event is the evidence, and its
 *   ordering checks ran before, under the entity's lock.
 */
export function markRecordsDeleted(
  db: DbOrTx,
  scope: Pick<RecordScope, 'integration' | 'connection' | 'resource'>,
) {
  return db
    .updateTable('records')
    .set({ deleted_at: sql<Date>`now()`, updated_at: sql<Date>`now()`, change_xid: CHANGE_XID })
    .where('integration', '=', scope.integration)
    .where('connection', '=', scope.connection)
    .where('resource', '=', scope.resource)
    .where('deleted_at', 'is', null);
}

export async function listRecords(
  db: DbOrTx,
  scope: RecordScope,
  options: { limit?: number; includeDeleted?: boolean } = {},
): Promise<StoredRecord[]> {
  let query = db
    .selectFrom('records')
    .select(['record_key', 'data', 'content_hash', 'first_seen_at', 'updated_at', 'deleted_at'])
    .where('integration', '=', scope.integration)
    .where('connection', '=', scope.connection)
    .where('resource', '=', scope.resource)
    .orderBy('record_key');
  if (!options.includeDeleted) query = query.where('deleted_at', 'is', null);
  if (options.limit !== undefined) query = query.limit(options.limit);
  const rows = await query.execute();
  return rows.map((r) => ({
    key: r.record_key,
    data: r.data,
    contentHash: r.content_hash,
    firstSeenAt: r.first_seen_at,
    updatedAt: r.updated_at,
    deletedAt: r.deleted_at,
  }));
}
