/**
 * The Postgres rate ledger: one budget per (connection, limit), shared by every worker and kept across
 * restarts. Each acquisition is ONE statement: it locks the connection's limit rows, computes GCRA with
 * the database clock, and either moves every limit's theoretical arrival time or none (all-or-nothing
 * across limits). Concurrent callers queue on the row locks, so no two can spend the same slot.
 */
import { CompiledQuery, sql } from 'kysely';
import { poolOf, type Db, type DbOrTx } from '../store/db.js';

export interface RateLimitRule {
  name: string;
  /** Requests allowed per interval. */
  limit: number;
  intervalMs: number;
  /** Requests that may go at once after a quiet spell (default 1: evenly paced). */
  burst?: number;
}

export type Acquired = { admitted: true } | { admitted: false; waitMs: number };

/** Pacing at a little under the provider's rate absorbs network jitter without wasting the budget. */
export const SAFETY = 0.95;
/** Intervals a late caller may catch up (GCRA's τ / T for an unbursty limit). */
const SLACK = 0.25;

const ensured = new Set<string>();

/** Without declared limits a connection still honours the provider's blocks (Retry-After and the like). */
const UNLIMITED: RateLimitRule = { name: 'provider', limit: 1_000_000, intervalMs: 1000, burst: 1_000_000 };
const effective = (rules: readonly RateLimitRule[]) => (rules.length ? rules : [UNLIMITED]);

async function ensureRows(db: DbOrTx, connectionKey: string, rules: readonly RateLimitRule[]): Promise<void> {
  const missing = rules.filter((r) => !ensured.has(`${connectionKey}\u0000${r.name}`));
  if (missing.length === 0) return;
  await db
    .insertInto('rate_limits')
    .values(missing.map((r) => ({ connection_key: connectionKey, limit_name: r.name })))
    .onConflict((oc) => oc.doNothing())
    .execute();
  for (const r of missing) ensured.add(`${connectionKey}\u0000${r.name}`);
}

/** One try: admitted now, or how long to wait before the next try can succeed. */
export async function tryAcquire(
  db: DbOrTx,
  connectionKey: string,
  rules: readonly RateLimitRule[],
  cost = 1,
): Promise<Acquired> {
  if (rules.length === 0) {
    // No declared limits: only a block the provider imposed can hold a request back. A plain read.
    const r = await sql<{ wait_ms: number | null }>`
      select (extract(epoch from (max(blocked_until) - clock_timestamp())) * 1000)::float8 as wait_ms
      from rate_limits where connection_key = ${connectionKey}`.execute(db);
    const wait = r.rows[0]?.wait_ms ?? null;
    return wait !== null && wait > 0 ? { admitted: false, waitMs: Math.ceil(wait) } : { admitted: true };
  }
  await ensureRows(db, connectionKey, rules);
  if (rules.length === 1) return tryAcquireOne(db, connectionKey, rules[0]!, cost);
  const names = rules.map((r) => r.name);
  // Emission interval T (µs per request) and capacity (µs of burst) per limit. A little slack τ lets a
  // caller that woke late keep the pace instead of losing the time. GCRA admits at most
  // floor((W + τ) / T) + 1 in any window W; with T = W / (SAFETY·limit) that stays ≤ limit while
  // τ/T < (1 − SAFETY)·limit, hence the slack of min(SLACK, 0.9·(1 − SAFETY)·limit) intervals; SLACK is kept small because
  // requests also bunch up on the way to the provider.
  const emission = rules.map((r) => (r.intervalMs * 1000) / (r.limit * SAFETY));
  const capacity = rules.map(
    (r, i) => emission[i]! * (Math.max(1, r.burst ?? 1) + Math.min(SLACK, 0.9 * (1 - SAFETY) * r.limit)),
  );
  const result = await sql<{ ok: boolean; wait_ms: number | null }>`
    with req as (
      select * from unnest(${names}::text[], ${emission}::float8[], ${capacity}::float8[]) as r(limit_name, emission_us, capacity_us)
    ),
    locked as (
      select s.limit_name, s.tat, s.blocked_until
      from rate_limits s
      where s.connection_key = ${connectionKey} and s.limit_name = any(${names}::text[])
      order by s.limit_name
      for update
    ),
    calc as materialized (
      -- clock_timestamp() here, after the row locks are held, so time never runs behind a waiting caller.
      select r.limit_name, r.capacity_us, l.blocked_until, clock_timestamp() as now,
             greatest(l.tat, clock_timestamp()) + make_interval(secs => r.emission_us * ${cost} / 1e6) as new_tat
      from req r join locked l using (limit_name)
    ),
    decision as (
      select
        count(*) = ${rules.length}
          and bool_and(new_tat - now <= make_interval(secs => capacity_us / 1e6)
                       and (blocked_until is null or blocked_until <= now)) as ok,
        max(greatest(
          extract(epoch from (new_tat - now)) * 1000 - capacity_us / 1000,
          coalesce(extract(epoch from (blocked_until - now)) * 1000, 0)
        )) as wait_ms
      from calc
    ),
    moved as (
      update rate_limits s set tat = c.new_tat, backoff_count = 0
      from calc c, decision d
      where d.ok and s.connection_key = ${connectionKey} and s.limit_name = c.limit_name
      returning 1
    ),
    logged as (
      insert into rate_ledger (connection_key, kind, cost)
      select ${connectionKey}, 'admitted', ${cost} from decision d where d.ok
      returning 1
    )
    select d.ok, d.wait_ms::float8 as wait_ms from decision d, (select count(*) from moved) m, (select count(*) from logged) g
  `.execute(db);
  const row = result.rows[0];
  if (row?.ok) return { admitted: true };
  return { admitted: false, waitMs: Math.max(1, Math.ceil(row?.wait_ms ?? 1)) };
}

/**
 * The common case, one limit: a single UPDATE whose WHERE is the GCRA test. Postgres re-checks the WHERE
 * on the locked, latest row version, so concurrent callers cannot both take the same slot. The same
 * statement appends the admission to the history and, when refused, says how long to wait (read from
 * the statement's snapshot: at worst a little short, which only costs an extra try). It runs as a named
 * prepared statement, planned once per connection.
 */
const ACQUIRE_ONE = `
  with moved as (
    update rate_limits
    set tat = greatest(tat, clock_timestamp()) + make_interval(secs => $3::float8), backoff_count = 0
    where connection_key = $1 and limit_name = $2
      and greatest(tat, clock_timestamp()) + make_interval(secs => $3::float8) - clock_timestamp()
          <= make_interval(secs => $4::float8)
      and (blocked_until is null or blocked_until <= clock_timestamp())
    returning 1
  ),
  logged as (
    insert into rate_ledger (connection_key, kind, cost) select $1, 'admitted', $5::int from moved returning 1
  )
  select (select count(*) from logged)::int as admitted,
    (select greatest(
       extract(epoch from (greatest(tat, clock_timestamp()) - clock_timestamp())) * 1000 + $6::float8,
       coalesce(extract(epoch from (blocked_until - clock_timestamp())) * 1000, 0))::float8
     from rate_limits where connection_key = $1 and limit_name = $2) as wait_ms`;

async function tryAcquireOne(
  db: DbOrTx,
  connectionKey: string,
  rule: RateLimitRule,
  cost: number,
): Promise<Acquired> {
  const t = (rule.intervalMs * 1000) / (rule.limit * SAFETY);
  const capacity = t * (Math.max(1, rule.burst ?? 1) + Math.min(SLACK, 0.9 * (1 - SAFETY) * rule.limit));
  const values = [
    connectionKey,
    rule.name,
    (t * cost) / 1e6,
    capacity / 1e6,
    cost,
    (t * cost - capacity) / 1000,
  ];
  const pool = poolOf(db);
  type Row = { admitted: number; wait_ms: number | null };
  const row: Row | undefined = pool
    ? (await pool.query<Row>({ name: 'syncwright-rate-acquire-one', text: ACQUIRE_ONE, values })).rows[0]
    : // Inside a transaction there is no pool to prepare on: the same text, unnamed.
      (await db.executeQuery<Row>(CompiledQuery.raw(ACQUIRE_ONE, values))).rows[0];
  if (row && row.admitted > 0) return { admitted: true };
  return { admitted: false, waitMs: Math.max(1, Math.ceil(row?.wait_ms ?? 1)) };
}

export interface AcquireOptions {
  /** Longest wait slept here; a longer one is returned so the caller can reschedule (Temporal retry). */
  maxWaitMs: number;
  signal?: AbortSignal;
  onWait?: (waitMs: number) => void;
}

/** Acquires, sleeping short waits; returns the wait when it is longer than `maxWaitMs`. */
export async function acquire(
  db: Db,
  connectionKey: string,
  rules: readonly RateLimitRule[],
  cost: number,
  options: AcquireOptions,
): Promise<Acquired> {
  let waited = 0;
  for (;;) {
    const r = await tryAcquire(db, connectionKey, rules, cost);
    if (r.admitted) return r;
    if (waited + r.waitMs > options.maxWaitMs) return r;
    options.onWait?.(r.waitMs);
    await new Promise<void>((resolve, reject) => {
      // One listener per wait, removed when the wait ends: an activity may wait many times on one signal.
      const onAbort = () => {
        clearTimeout(timer);
        reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
      };
      const timer = setTimeout(() => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, r.waitMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    waited += r.waitMs;
  }
}

/**
 * Applies what the provider said: block the connection's every limit until `until`, or (a 429 with no
 * hint) back off exponentially — 1 s, 2 s, 4 s … up to 60 s — counted in the row, shared by all workers.
 */
export async function blockConnection(
  db: DbOrTx,
  connectionKey: string,
  rules: readonly RateLimitRule[],
  feedback: { until?: Date; status?: number; source?: string },
): Promise<void> {
  rules = effective(rules);
  const names = rules.map((r) => r.name);
  await ensureRows(db, connectionKey, rules);
  const kind = feedback.status === 429 ? 'provider-429' : 'provider-block';
  if (feedback.until) {
    const until = feedback.until.toISOString();
    await sql`
      with b as (
        update rate_limits set blocked_until = greatest(coalesce(blocked_until, ${until}::timestamptz), ${until}::timestamptz)
        where connection_key = ${connectionKey} and limit_name = any(${names}::text[])
        returning 1
      )
      insert into rate_ledger (connection_key, kind, cost, details)
      select ${connectionKey}, ${kind}, 0, ${JSON.stringify({ until, source: feedback.source ?? null })}::jsonb
      from (select count(*) from b) x`.execute(db);
    return;
  }
  await sql`
    with b as (
      update rate_limits
      set backoff_count = backoff_count + 1,
          blocked_until = clock_timestamp() + make_interval(secs => least(60, power(2, backoff_count)))
      where connection_key = ${connectionKey} and limit_name = any(${names}::text[])
      returning blocked_until
    )
    insert into rate_ledger (connection_key, kind, cost, details)
    select ${connectionKey}, ${kind}, 0, jsonb_build_object('until', max(blocked_until), 'source', 'backoff') from b`.execute(
    db,
  );
}

/** Deletes ledger entries older than `olderThanMs` (database time). */
export async function pruneLedger(db: DbOrTx, olderThanMs: number): Promise<number> {
  const r = await db
    .deleteFrom('rate_ledger')
    .where('at', '<', sql<Date>`clock_timestamp() - make_interval(secs => ${olderThanMs / 1000})`)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
