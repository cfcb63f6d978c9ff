/**
 * Max concurrent requests per connection, shared by every worker: a request holds one of `max` slots
 * (rows in rate_leases) while it is in flight. Taking a slot is one atomic statement on the database
 * clock; a slot whose lease has expired (its holder died) is taken over. No table lock, no
 * read-modify-write race: two callers after the same free slot meet on its primary key, and the
 * loser's conditional update finds the lease live and gets nothing.
 */
import { sleep } from '../sleep.js';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, DbOrTx } from '../store/db.js';

export interface Lease {
  connectionKey: string;
  slot: number;
  holder: string;
}

/** One try: a free or expired slot, or null when all `max` are held. */
export async function tryLease(
  db: DbOrTx,
  connectionKey: string,
  max: number,
  ttlMs: number,
): Promise<Lease | null> {
  const holder = randomUUID();
  const r = await sql<{ slot: number }>`
    insert into rate_leases (connection_key, slot, holder, expires_at)
    select ${connectionKey}, s, ${holder}, clock_timestamp() + make_interval(secs => ${ttlMs / 1000})
    from generate_series(0, ${max - 1}::int) s
    where not exists (
      select 1 from rate_leases l
      where l.connection_key = ${connectionKey} and l.slot = s and l.expires_at > clock_timestamp()
    )
    order by random()
    limit 1
    on conflict (connection_key, slot) do update
      set holder = excluded.holder, expires_at = excluded.expires_at
      where rate_leases.expires_at <= clock_timestamp()
    returning slot`.execute(db);
  const slot = r.rows[0]?.slot;
  return slot === undefined ? null : { connectionKey, slot, holder };
}

export async function releaseLease(db: DbOrTx, lease: Lease): Promise<void> {
  await db
    .deleteFrom('rate_leases')
    .where('connection_key', '=', lease.connectionKey)
    .where('slot', '=', lease.slot)
    .where('holder', '=', lease.holder)
    .execute();
}

export interface LeaseOptions {
  /** Longest wait here; null is returned after it so the caller can reschedule (Temporal retry). */
  maxWaitMs: number;
  signal?: AbortSignal;
  onWait?: (waitMs: number) => void;
}

const POLL_MS = 20;

/** Takes a slot, polling while all are held (slots free up within one request's time). */
export async function lease(
  db: Db,
  connectionKey: string,
  max: number,
  ttlMs: number,
  options: LeaseOptions,
): Promise<Lease | null> {
  const started = Date.now();
  for (let tries = 0; ; tries++) {
    const got = await tryLease(db, connectionKey, max, ttlMs);
    if (got) return got;
    const waited = Date.now() - started;
    if (waited >= options.maxWaitMs) return null;
    options.signal?.throwIfAborted();
    if (tries % 25 === 0) options.onWait?.(POLL_MS);
    // A little jitter so waiting workers do not retry in lockstep.
    await sleep(POLL_MS + Math.random() * POLL_MS, options.signal);
  }
}
