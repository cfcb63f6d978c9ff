/**
 * Rate-ledger benchmark: our GCRA ledger against rate-limiter-flexible's Postgres limiter, on the same
 * Postgres, in the same run. Throughput: acquisitions per second at 1, 8 and 32 concurrent callers with
 * a limit that never refuses (median of five 1 s rounds per variant, taken in turn). Strictness: 32 callers hammer a 50-per-second limit for 3 s; we report the
 * most admissions seen in any sliding second (over 50 is over-admission).
 */
import pg from 'pg';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { createDb } from '../../src/store/db.js';
import { tryAcquire } from '../../src/ratelimit/ledger.js';
import { testEnv, uniqueId } from '../helpers/stack.js';

type Attempt = (key: string) => Promise<boolean>;

async function hammer(
  callers: number,
  ms: number,
  attempt: Attempt,
  key: string,
): Promise<{ perSecond: number; admittedAt: number[] }> {
  const admittedAt: number[] = [];
  let calls = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        calls++;
        if (await attempt(key)) admittedAt.push(performance.now());
      }
    }),
  );
  return { perSecond: calls / (ms / 1000), admittedAt: admittedAt.sort((a, b) => a - b) };
}

function maxInSlidingSecond(times: number[]): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

function limiter(pool: pg.Pool, points: number): Promise<RateLimiterPostgres> {
  return new Promise((resolve, reject) => {
    const l: RateLimiterPostgres = new RateLimiterPostgres(
      { storeClient: pool, points, duration: 1, tableName: `rlflx_${points}`, keyPrefix: 'bench' },
      (err?: unknown) =>
        err ? reject(err instanceof Error ? err : new Error('cannot create the limiter table')) : resolve(l),
    );
  });
}

export async function ledgerBenchmark(): Promise<void> {
  const env = await testEnv();
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 32 });
  const db = createDb(env.databaseUrl, { max: 32 });
  try {
    const ours =
      (limit: number, burst: number, syncCommit = false): Attempt =>
      async (key) =>
        (await tryAcquire(db, key, [{ name: 'bench', limit, intervalMs: 1000, burst }], 1, { syncCommit }))
          .admitted;
    const theirs =
      (l: RateLimiterPostgres): Attempt =>
      async (key) => {
        try {
          await l.consume(key, 1);
          return true;
        } catch (e) {
          if (e instanceof Error) throw e;
          return false;
        }
      };
    const open = await limiter(pool, 1_000_000_000);
    const strict = await limiter(pool, 50);

    console.log('rate ledger vs rate-limiter-flexible (RateLimiterPostgres), same Postgres');
    console.log(
      '  ledger: default (asynchronous commit); ledger-sync: waits for the WAL flush, as rate-limiter-flexible does',
    );
    const rate = (n: number) => `${n.toFixed(0).padStart(6)}/s`;
    // Five rounds of 1 s per variant, taken in turn (the order rotates), medians compared: one 2 s sample
    // each swung the single-caller ratio by ±30% on a noisy machine.
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    for (const callers of [1, 8, 32]) {
      const variants = [
        { key: uniqueId('o'), attempt: ours(1_000_000_000, 1_000_000_000), rates: [] as number[] },
        { key: uniqueId('s'), attempt: ours(1_000_000_000, 1_000_000_000, true), rates: [] as number[] },
        { key: uniqueId('t'), attempt: theirs(open), rates: [] as number[] },
      ];
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < variants.length; i++) {
          const v = variants[(i + round) % variants.length]!;
          v.rates.push((await hammer(callers, 1000, v.attempt, v.key)).perSecond);
        }
      }
      const [a, s, b] = variants.map((v) => ({ perSecond: median(v.rates) })) as [
        { perSecond: number },
        { perSecond: number },
        { perSecond: number },
      ];
      console.log(
        `  ${String(callers).padStart(2)} callers: ledger ${rate(a.perSecond)}, ledger-sync ${rate(s.perSecond)}, ` +
          `rate-limiter-flexible ${rate(b.perSecond)}, ratio ${(a.perSecond / b.perSecond).toFixed(2)}x ` +
          `(sync ${(s.perSecond / b.perSecond).toFixed(2)}x)`,
      );
    }
    const a = await hammer(32, 3000, ours(50, 1), uniqueId('o'));
    const b = await hammer(32, 3000, theirs(strict), uniqueId('t'));
    console.log(
      `  strict 50/s, 32 callers, 3 s: most admitted in any second: ledger ${maxInSlidingSecond(a.admittedAt)}, ` +
        `rate-limiter-flexible ${maxInSlidingSecond(b.admittedAt)} (over 50 is over-admission)`,
    );
  } finally {
    await pool.end();
    await db.destroy();
  }
}
