/**
 * The webhook receiver's liveness mark in Postgres. Events a provider sent while no receiver listened
 * are lost (providers retry for a while, not forever), so a receiver starting after a silence longer
 * than the threshold records the gap; its reconciliation is started from that record, which stays
 * until the reconciliation was handed to Temporal (a crash in between does not forget it).
 */
import type { Db, DbOrTx } from '../store/db.js';

/** One mark for all replicas: the gap that matters is when none of them listened. */
const NAME = 'receiver';

/** The start of a silence longer than the threshold, or null (none, or a first start). */
export function gapSince(lastSeen: Date | null, now: Date, thresholdMs: number): Date | null {
  if (!lastSeen) return null; // The first start: nothing was subscribed to this receiver before.
  return now.getTime() - lastSeen.getTime() > thresholdMs ? lastSeen : null;
}

/**
 * At start: compares the last mark with now, keeps any gap (an older unreconciled one first) and
 * marks now. Returns the start of the gap still to reconcile, or null.
 */
export async function markStart(db: Db, thresholdMs: number, now = new Date()): Promise<Date | null> {
  return db.transaction().execute(async (tx) => {
    const row = await tx
      .selectFrom('webhook_receiver_liveness')
      .selectAll()
      .where('name', '=', NAME)
      .forUpdate()
      .executeTakeFirst();
    const pending = row?.gap_from ?? gapSince(row?.seen_at ?? null, now, thresholdMs);
    await tx
      .insertInto('webhook_receiver_liveness')
      .values({ name: NAME, seen_at: now, gap_from: pending })
      .onConflict((oc) => oc.column('name').doUpdateSet({ seen_at: now, gap_from: pending }))
      .execute();
    return pending;
  });
}

/** The receiver is listening now. */
export async function markAlive(db: DbOrTx, now = new Date()): Promise<void> {
  await db
    .insertInto('webhook_receiver_liveness')
    .values({ name: NAME, seen_at: now, gap_from: null })
    .onConflict((oc) => oc.column('name').doUpdateSet({ seen_at: now }))
    .execute();
}

/** The gap from `from` was handed to its reconciliation; a newer one found meanwhile stays. */
export async function clearGap(db: DbOrTx, from: Date): Promise<void> {
  await db
    .updateTable('webhook_receiver_liveness')
    .set({ gap_from: null })
    .where('name', '=', NAME)
    .where('gap_from', '=', from)
    .execute();
}
