/**
 * The sequence state of each connection and scope in Postgres (webhook_sequences) and the gaps found
 * (webhook_sequence_gaps). One row lock per scope orders concurrent deliveries; time is the database's,
 * so receivers with skewed clocks agree on when a hole is due.
 */
import { sql } from 'kysely';
import type { Db, DbOrTx } from '../store/db.js';
import {
  expire,
  holesFromJson,
  holesJson,
  nextDue,
  observe,
  type Hole,
  type Observed,
  type SequenceMark,
  type SequenceState,
} from './sequence.js';

interface Key {
  integration: string;
  connection: string;
  scope: string;
}

async function save(tx: DbOrTx, key: Key, observed: Observed): Promise<void> {
  const due = nextDue(observed.state);
  await tx
    .updateTable('webhook_sequences')
    .set({
      high: observed.state.high === null ? null : String(observed.state.high),
      holes: JSON.stringify(holesJson(observed.state.holes)),
      due_at: due === null ? null : new Date(due),
      updated_at: sql<Date>`now()`,
    })
    .where('integration', '=', key.integration)
    .where('connection', '=', key.connection)
    .where('scope', '=', key.scope)
    .execute();
  if (observed.lost.length > 0)
    await tx
      .insertInto('webhook_sequence_gaps')
      .values(
        observed.lost.map((h) => ({
          ...key,
          from_seq: String(h.from),
          to_seq: String(h.to),
        })),
      )
      .execute();
}

/** The database's clock, in ms since the epoch. */
const nowMs = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::float8`;

/**
 * Records a delivery's numbers; returns the holes found lost by it (too many holes at once). A number
 * skipped over is given `reorderMs` to arrive before the sweep counts it as lost.
 */
export async function recordSequence(
  db: Db,
  integration: string,
  connection: string,
  mark: SequenceMark,
  reorderMs: number,
): Promise<Hole[]> {
  const key = { integration, connection, scope: mark.scope };
  return db.transaction().execute(async (tx) => {
    await tx
      .insertInto('webhook_sequences')
      .values({ ...key, holes: '[]' })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await tx
      .selectFrom('webhook_sequences')
      .select(['high', 'holes', nowMs.as('now_ms')])
      .where('integration', '=', integration)
      .where('connection', '=', connection)
      .where('scope', '=', mark.scope)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const state: SequenceState = {
      high: row.high === null ? null : BigInt(row.high),
      holes: holesFromJson(row.holes),
    };
    const observed = observe(state, mark, Number(row.now_ms), reorderMs);
    await save(tx, key, observed);
    return observed.lost;
  });
}

/**
 * Counts the holes past their due time as lost (gaps to reconcile); any receiver may run it, rows
 * another one holds are skipped. Returns how many gaps it recorded.
 */
export async function sweepSequences(db: Db, limit = 100): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom('webhook_sequences')
      .select(['integration', 'connection', 'scope', 'high', 'holes', nowMs.as('now_ms')])
      .where('due_at', '<=', sql<Date>`clock_timestamp()`)
      .orderBy('due_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    let gaps = 0;
    for (const row of rows) {
      const state = { high: row.high === null ? null : BigInt(row.high), holes: holesFromJson(row.holes) };
      const observed = expire(state, Number(row.now_ms));
      await save(
        tx,
        { integration: row.integration, connection: row.connection, scope: row.scope },
        observed,
      );
      gaps += observed.lost.length;
    }
    return gaps;
  });
}

export interface SequenceGap {
  id: string;
  integration: string;
  connection: string;
  scope: string;
  from: string;
  to: string;
  detectedAt: Date;
  reconciledAt: Date | null;
}

const toGap = (r: {
  id: string;
  integration: string;
  connection: string;
  scope: string;
  from_seq: string;
  to_seq: string;
  detected_at: Date;
  reconciled_at: Date | null;
}): SequenceGap => ({
  id: String(r.id),
  integration: r.integration,
  connection: r.connection,
  scope: r.scope,
  from: r.from_seq,
  to: r.to_seq,
  detectedAt: r.detected_at,
  reconciledAt: r.reconciled_at,
});

/** Gaps found, newest first; `pending`: only those whose reconciliation has not been started. */
export async function listSequenceGaps(
  db: DbOrTx,
  filter: {
    integration?: string;
    integrations?: readonly string[];
    connection?: string;
    pending?: boolean;
    limit?: number;
  } = {},
): Promise<SequenceGap[]> {
  let q = db
    .selectFrom('webhook_sequence_gaps')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100);
  if (filter.integration) q = q.where('integration', '=', filter.integration);
  if (filter.integrations) q = q.where('integration', 'in', [...filter.integrations, '']);
  if (filter.connection) q = q.where('connection', '=', filter.connection);
  if (filter.pending) q = q.where('reconciled_at', 'is', null);
  return (await q.execute()).map(toGap);
}

/**
 * Hands the pending gaps of these integrations to `reconcile`, one call per connection, and marks them
 * reconciled in the same transaction; a call that throws leaves every gap pending for the next pass
 * (rows locked by another receiver are skipped). Returns the connections reconciled.
 */
export async function handOverSequenceGaps(
  db: Db,
  integrations: readonly string[],
  reconcile: (integration: string, connection: string, gaps: SequenceGap[]) => Promise<void>,
  limit = 500,
): Promise<{ integration: string; connection: string; gaps: SequenceGap[] }[]> {
  if (integrations.length === 0) return [];
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom('webhook_sequence_gaps')
      .selectAll()
      .where('reconciled_at', 'is', null)
      .where('integration', 'in', integrations)
      .orderBy('id')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    const byConnection = new Map<string, SequenceGap[]>();
    for (const r of rows) {
      const k = `${r.integration}\u0000${r.connection}`;
      const list = byConnection.get(k) ?? [];
      list.push(toGap(r));
      byConnection.set(k, list);
    }
    const done: { integration: string; connection: string; gaps: SequenceGap[] }[] = [];
    for (const gaps of byConnection.values()) {
      const { integration, connection } = gaps[0]!;
      await reconcile(integration, connection, gaps);
      await tx
        .updateTable('webhook_sequence_gaps')
        .set({ reconciled_at: sql<Date>`now()` })
        .where(
          'id',
          'in',
          gaps.map((g) => g.id),
        )
        .execute();
      done.push({ integration, connection, gaps });
    }
    return done;
  });
}

/** Forgets a removed connection's sequence state (its gaps stay as history). */
export async function deleteSequences(db: DbOrTx, integration: string, connection: string): Promise<void> {
  await db
    .deleteFrom('webhook_sequences')
    .where('integration', '=', integration)
    .where('connection', '=', connection)
    .execute();
}
