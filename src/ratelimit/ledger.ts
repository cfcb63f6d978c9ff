/**
 * The Postgres rate ledger: one budget per (connection, limit), shared by every worker and kept across
 * restarts. Each acquisition is ONE statement: it locks the connection's limit rows, computes GCRA with
 * the database clock, and either moves every limit's theoretical arrival time or none (all-or-nothing
 * across limits). Callers in other processes queue on the row locks, so no two can spend the same slot;
 * callers in this process share statements (see tryAcquire).
 */
import { CompiledQuery, sql } from 'kysely';
import type pg from 'pg';
import { sleep } from '../sleep.js';
import { Coalescer } from '../store/coalescer.js';
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

/**
 * Pacing at a little under the provider's rate absorbs the jitter between an admission and the request's
 * arrival at the provider. Against a strict fixed window W of `limit` requests, requests arriving up to
 * W·(1/SAFETY − 1) − τ late stay within it: 58 ms for 20 a second (0.95 and a quarter interval of slack
 * allowed 39 ms, which a loaded 2-core machine exceeded now and then: one 429 in four runs of four
 * concurrent syncs with two busy loops beside them, none in fourteen at these settings).
 */
export const SAFETY = 0.94;
/** Intervals a late caller may catch up (GCRA's τ / T for an unbursty limit): small, see SAFETY. */
export const SLACK = 0.1;

/** The (connection, limit) rows known to exist, per database (a process may use several). */
const ensured = new WeakMap<object, Set<string>>();

/** Without declared limits a connection still honours the provider's blocks (Retry-After and the like). */
const UNLIMITED: RateLimitRule = { name: 'provider', limit: 1_000_000, intervalMs: 1000, burst: 1_000_000 };
const effective = (rules: readonly RateLimitRule[]) => (rules.length ? rules : [UNLIMITED]);

/**
 * Connections without declared limits found unblocked, per database, until when (performance.now()). A
 * block another worker records is seen within this; one recorded through the same database at once.
 */
export const UNBLOCKED_RECHECK_MS = 1000;
const unblocked = new WeakMap<object, Map<string, number>>();
function unblockedFor(db: DbOrTx): Map<string, number> {
  const owner = poolOf(db) ?? db;
  let m = unblocked.get(owner);
  if (!m) unblocked.set(owner, (m = new Map<string, number>()));
  return m;
}

async function ensureRows(db: DbOrTx, connectionKey: string, rules: readonly RateLimitRule[]): Promise<void> {
  // Keyed by the pool (a transaction's rows are known only to that transaction).
  const owner = poolOf(db) ?? db;
  let known = ensured.get(owner);
  if (!known) ensured.set(owner, (known = new Set()));
  const missing = rules.filter((r) => !known.has(`${connectionKey}\u0000${r.name}`));
  if (missing.length === 0) return;
  await db
    .insertInto('rate_limits')
    .values(missing.map((r) => ({ connection_key: connectionKey, limit_name: r.name })))
    .onConflict((oc) => oc.doNothing())
    .execute();
  for (const r of missing) known.add(`${connectionKey}\u0000${r.name}`);
}

/**
 * One try: admitted now, or how long to wait before the next try can succeed.
 *
 * Concurrent tries for the same connection and limits from one process are coalesced: while one
 * acquisition statement is in flight, the tries that arrive wait and then go together in the next,
 * which admits the longest prefix of them the budget allows. The budget is still decided by one atomic
 * statement in Postgres, so workers in other processes stay exactly as bounded; callers here just stop
 * queueing on the row lock and the commit one by one.
 */
export async function tryAcquire(
  db: DbOrTx,
  connectionKey: string,
  rules: readonly RateLimitRule[],
  cost = 1,
  options: DurabilityOptions = {},
): Promise<Acquired> {
  if (rules.length === 0) {
    // No declared limits: only a block the provider imposed can hold a request back. A plain read, and
    // not on every request: a "not blocked" answer holds for UNBLOCKED_RECHECK_MS (a block this process
    // records clears it at once), so a fast sync does not pay a round trip per page for a budget it
    // does not have.
    const known = unblockedFor(db);
    const until = known.get(connectionKey);
    if (until !== undefined && performance.now() < until) return { admitted: true };
    const r = await sql<{ wait_ms: number | null }>`
      select (extract(epoch from (max(blocked_until) - clock_timestamp())) * 1000)::float8 as wait_ms
      from rate_limits where connection_key = ${connectionKey}`.execute(db);
    const wait = r.rows[0]?.wait_ms ?? null;
    if (wait !== null && wait > 0) {
      known.delete(connectionKey);
      return { admitted: false, waitMs: Math.ceil(wait) };
    }
    known.set(connectionKey, performance.now() + UNBLOCKED_RECHECK_MS);
    return { admitted: true };
  }
  await ensureRows(db, connectionKey, rules);
  const pool = poolOf(db);
  // Inside a transaction there is nothing to share the statement with.
  if (!pool) return (await acquireBatch({ tx: db }, connectionKey, rules, [cost], true))[0]!;
  return coalescerFor(pool, connectionKey, rules, options.syncCommit ?? false).submit(cost);
}

export interface DurabilityOptions {
  /**
   * Wait for the acquisition's WAL flush before answering (default false). Acquisitions commit
   * asynchronously by default: every other session sees the new budget at once and a worker crash
   * loses nothing, but a crash of Postgres itself may forget the last few hundred milliseconds of
   * admissions (up to 3 × wal_writer_delay), so after such a crash a connection could be allowed that
   * many requests again. The flush would otherwise be most of an acquisition's cost.
   */
  syncCommit?: boolean;
}

const coalescers = new WeakMap<pg.Pool, Map<string, Coalescer<number, Acquired>>>();

function coalescerFor(
  pool: pg.Pool,
  connectionKey: string,
  rules: readonly RateLimitRule[],
  syncCommit: boolean,
): Coalescer<number, Acquired> {
  let byKey = coalescers.get(pool);
  if (!byKey) coalescers.set(pool, (byKey = new Map<string, Coalescer<number, Acquired>>()));
  const key = `${connectionKey}\u0000${syncCommit}\u0000${JSON.stringify(rules)}`;
  let c = byKey.get(key);
  if (!c) {
    const map = byKey;
    c = new Coalescer((costs) => acquireBatch({ pool }, connectionKey, rules, costs, syncCommit), {
      maxBatch: MAX_BATCH,
      onIdle: () => map.delete(key),
    });
    byKey.set(key, c);
  }
  return c;
}

const MAX_BATCH = 256;

/** GCRA parameters of a limit, in seconds: emission interval T per unit of cost, and capacity. */
function gcraParams(rule: RateLimitRule): { emissionS: number; capacityS: number } {
  // Emission interval T and capacity (burst) of a limit. A little slack τ lets a caller that woke late
  // keep the pace instead of losing the time. GCRA admits at most floor((W + τ) / T) + 1 in any window W;
  // with T = W / (SAFETY·limit) that stays ≤ limit while τ/T < (1 − SAFETY)·limit, hence the slack of
  // min(SLACK, 0.9·(1 − SAFETY)·limit) intervals; SLACK is kept small because requests also bunch up on
  // the way to the provider.
  const emissionS = rule.intervalMs / 1000 / (rule.limit * SAFETY);
  const capacityS =
    emissionS * (Math.max(1, rule.burst ?? 1) + Math.min(SLACK, 0.9 * (1 - SAFETY) * rule.limit));
  return { emissionS, capacityS };
}

/**
 * What both acquisition statements answer, before their waits: admissions, and the commit mode applied
 * to the statement ($6, see DurabilityOptions; selecting it is what runs set_config).
 */
const ANSWERED = `
    (select count(*) from logged)::int as admitted,
    set_config('synchronous_commit', coalesce($6::text, current_setting('synchronous_commit')), true) as commit_mode,
    (select count(*) from moved)::int as moved,`;

/**
 * The acquisition, for a batch of requests (their costs, in arrival order) against all of a
 * connection's limits at once. It locks the connection's limit rows, reads the database clock only
 * once it holds them (so time never runs behind a caller that waited for the lock), admits the longest
 * prefix of the batch that every limit allows (all-or-nothing across limits for each request), moves
 * each limit's theoretical arrival time by what was admitted, appends one history row per admitted
 * request, and says how long each refused request should wait (later ones in the batch wait longer,
 * so they do not all come back at once). Run as a named prepared statement: planned once per
 * connection. $6 = 'off' commits it asynchronously (DurabilityOptions); null leaves the session's
 * setting (and an enclosing transaction's) alone.
 */
const ACQUIRE = `
  with req as (
    select * from unnest($2::text[], $3::float8[], $4::float8[]) as r(limit_name, emission_s, capacity_s)
  ),
  asks as (
    select a.ord, a.cost, sum(a.cost) over (order by a.ord) as cum
    from unnest($5::int[]) with ordinality as a(cost, ord)
  ),
  locked as (
    select s.limit_name, s.tat, s.blocked_until from rate_limits s
    where s.connection_key = $1 and s.limit_name = any($2::text[])
    order by s.limit_name
    for update
  ),
  clock as materialized (
    select clock_timestamp() as now from (select count(*) from locked) held
  ),
  per_limit as materialized (
    select l.limit_name, r.emission_s, r.capacity_s, k.now,
      extract(epoch from greatest(l.tat, k.now) - k.now)::float8 as ahead_s,
      coalesce(extract(epoch from l.blocked_until - k.now)::float8, 0) as blocked_s
    from locked l join req r using (limit_name) cross join clock k
  ),
  decision as materialized (
    select coalesce(max(a.cum), 0) as admitted_cost
    from asks a
    where (select count(*) from per_limit) = cardinality($2::text[])
      and not exists (
        select 1 from per_limit p where p.blocked_s > 0 or p.ahead_s + p.emission_s * a.cum > p.capacity_s)
  ),
  moved as (
    update rate_limits s
    set tat = p.now + make_interval(secs => p.ahead_s + p.emission_s * d.admitted_cost), backoff_count = 0
    from per_limit p cross join decision d
    where d.admitted_cost > 0 and s.connection_key = $1 and s.limit_name = p.limit_name
    returning 1
  ),
  logged as (
    insert into rate_ledger (connection_key, kind, cost)
    select $1, 'admitted', a.cost from asks a cross join decision d where a.cum <= d.admitted_cost order by a.ord
    returning 1
  )
  select ${ANSWERED}
    array(
      select max(greatest(p.blocked_s, p.ahead_s + p.emission_s * a.cum - p.capacity_s)) * 1000
      from asks a cross join per_limit p cross join decision d
      where a.cum > d.admitted_cost
      group by a.ord order by a.ord
    )::float8[] as waits_ms`;

/**
 * The same decision for the commonest batch, one request against one limit, without the batch
 * machinery (windows, arrays, anti-joins): a third less Postgres CPU per acquisition, which is what a
 * lone caller pays. $2 limit name, $3 emission (s), $4 capacity (s), $5 cost, $6 as in ACQUIRE. The
 * clock is read once the row is held, as above.
 */
const ACQUIRE_ONE = `
  with locked as (
    select s.tat, s.blocked_until from rate_limits s
    where s.connection_key = $1 and s.limit_name = $2
    for update
  ),
  clock as materialized (
    select clock_timestamp() as now from (select count(*) from locked) held
  ),
  state as materialized (
    select k.now,
      extract(epoch from greatest(l.tat, k.now) - k.now)::float8 as ahead_s,
      coalesce(extract(epoch from l.blocked_until - k.now)::float8, 0) as blocked_s
    from locked l cross join clock k
  ),
  decision as materialized (
    select s.*, s.blocked_s <= 0 and s.ahead_s + $3::float8 * $5::int <= $4::float8 as admit from state s
  ),
  moved as (
    update rate_limits s
    set tat = d.now + make_interval(secs => d.ahead_s + $3::float8 * $5::int), backoff_count = 0
    from decision d
    where d.admit and s.connection_key = $1 and s.limit_name = $2
    returning 1
  ),
  logged as (
    insert into rate_ledger (connection_key, kind, cost)
    select $1, 'admitted', $5::int from decision d where d.admit
    returning 1
  )
  select ${ANSWERED}
    array(
      select greatest(d.blocked_s, d.ahead_s + $3::float8 * $5::int - $4::float8) * 1000
      from decision d where not d.admit
    )::float8[] as waits_ms`;

/** Where the statement runs: the pool (as a named prepared statement) or the caller's transaction. */
type Target = { pool: pg.Pool } | { tx: DbOrTx };

async function acquireBatch(
  target: Target,
  connectionKey: string,
  rules: readonly RateLimitRule[],
  costs: number[],
  syncCommit: boolean,
): Promise<Acquired[]> {
  const params = rules.map(gcraParams);
  const one = rules.length === 1 && costs.length === 1;
  const commitMode = syncCommit ? null : 'off';
  const values = one
    ? [connectionKey, rules[0]!.name, params[0]!.emissionS, params[0]!.capacityS, costs[0], commitMode]
    : [
        connectionKey,
        rules.map((r) => r.name),
        params.map((p) => p.emissionS),
        params.map((p) => p.capacityS),
        costs,
        commitMode,
      ];
  const [name, text] = one
    ? ['syncwright-rate-acquire-one', ACQUIRE_ONE]
    : ['syncwright-rate-acquire', ACQUIRE];
  type Row = { admitted: number; moved: number; waits_ms: number[] };
  const row: Row | undefined =
    'pool' in target
      ? (await target.pool.query<Row>({ name, text, values })).rows[0]
      : (await target.tx.executeQuery<Row>(CompiledQuery.raw(text, values))).rows[0];
  const admitted = row?.admitted ?? 0;
  return costs.map((_, i) =>
    i < admitted
      ? { admitted: true }
      : { admitted: false, waitMs: Math.max(1, Math.ceil(row?.waits_ms[i - admitted] ?? 1)) },
  );
}

export interface AcquireOptions extends DurabilityOptions {
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
    const r = await tryAcquire(db, connectionKey, rules, cost, options);
    if (r.admitted) return r;
    if (waited + r.waitMs > options.maxWaitMs) return r;
    options.onWait?.(r.waitMs);
    await sleep(r.waitMs, options.signal);
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
  // Forgotten before and after: a check that read the row before this write must not keep its answer.
  unblockedFor(db).delete(connectionKey);
  try {
    await writeBlock(db, connectionKey, rules, feedback);
  } finally {
    unblockedFor(db).delete(connectionKey);
  }
}

async function writeBlock(
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

/**
 * The statement that deletes ledger entries older than `olderThanMs` (database time). The cutoff uses
 * `now()`, which is stable within the statement, so rate_ledger_at_brin can serve it; `clock_timestamp()`
 * is volatile and would make Postgres read the whole ledger.
 */
export function pruneLedgerQuery(db: DbOrTx, olderThanMs: number) {
  return db
    .deleteFrom('rate_ledger')
    .where('at', '<', sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`);
}

/** Deletes ledger entries older than `olderThanMs`; returns how many. */
export async function pruneLedger(db: DbOrTx, olderThanMs: number): Promise<number> {
  const r = await pruneLedgerQuery(db, olderThanMs).executeTakeFirst();
  return Number(r.numDeletedRows);
}
