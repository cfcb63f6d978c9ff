import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, type Db } from '../../src/store/db.js';
import {
  acquire,
  blockConnection,
  pruneLedger,
  SAFETY,
  SLACK,
  tryAcquire,
  UNBLOCKED_RECHECK_MS,
} from '../../src/ratelimit/ledger.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('rate ledger on Postgres', () => {
  let env: TestEnv;
  let pools: Db[];
  before(async () => {
    env = await testEnv();
    // Eight pools stand in for eight workers: separate connections, one budget.
    pools = Array.from({ length: 8 }, () => createDb(env.databaseUrl, { max: 4 }));
  });
  after(async () => {
    for (const p of pools ?? []) await p.destroy();
    await env?.close();
  });

  /** Admissions per sliding window of `windowMs`, from the ledger (database time). */
  async function maxInWindow(key: string, windowMs: number): Promise<{ max: number; total: number }> {
    const rows = await env.db
      .selectFrom('rate_ledger')
      .select('at')
      .where('connection_key', '=', key)
      .where('kind', '=', 'admitted')
      .orderBy('at')
      .execute();
    const times = rows.map((r) => r.at.getTime());
    let max = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= windowMs) j++;
      max = Math.max(max, i - j + 1);
    }
    return { max, total: times.length };
  }

  it('many concurrent callers across pools never exceed 20/second, and use most of it', async () => {
    const key = uniqueId('conn');
    const rules = [{ name: 'per-second', limit: 20, intervalMs: 1000 }];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        (async () => {
          const db = pools[i % pools.length]!;
          for (let n = 0; n < 2; n++) {
            const r = await acquire(db, key, rules, 1, { maxWaitMs: 60_000 });
            assert.equal(r.admitted, true);
          }
        })(),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const { max, total } = await maxInWindow(key, 1000);
    assert.equal(total, 128);
    assert.ok(max <= 20, `at most 20 in any second, saw ${max}`);
    const rate = total / seconds;
    assert.ok(rate >= 20 * SAFETY * 0.9, `used ${rate.toFixed(1)}/s of 20/s`);
  });

  it('concurrent callers in one process share statements: the budget holds and refusals are staggered', async () => {
    const key = uniqueId('conn');
    // 10 a minute with a burst of 10: one emission interval is 60 s / (10 · SAFETY) ≈ 6.3 s, so the
    // few milliseconds the test takes refill nothing.
    const rules = [{ name: 'per-minute', limit: 10, intervalMs: 60_000, burst: 10 }];
    const interval = 60_000 / (10 * SAFETY);
    assert.equal((await tryAcquire(env.db, key, rules)).admitted, true);
    // Made in one go: they ride in one statement together.
    const results = await Promise.all(Array.from({ length: 39 }, () => tryAcquire(env.db, key, rules)));
    assert.equal(results.filter((r) => r.admitted).length, 9, 'the rest of the burst of 10 is admitted');
    assert.ok(
      results.slice(0, 9).every((r) => r.admitted),
      'the earliest callers are the ones admitted',
    );
    const waits = results.flatMap((r) => (r.admitted ? [] : [r.waitMs]));
    assert.equal(waits.length, 30);
    // Each refused caller is told when its own turn comes, one interval after the previous one's,
    // instead of all coming back at the same moment to be refused again.
    assert.ok(Math.abs(waits[0]! - (1 - SLACK) * interval) < 50, `first refused waits ${waits[0]} ms`);
    for (let i = 1; i < waits.length; i++)
      assert.ok(
        Math.abs(waits[i]! - waits[i - 1]! - interval) < 5,
        `wait ${i}: ${waits[i - 1]} → ${waits[i]}`,
      );
    const { total } = await maxInWindow(key, 60_000);
    assert.equal(total, 10, 'one history row per admitted request');
  });

  it('acquisitions commit asynchronously without leaking the setting into other statements', async () => {
    const single = createDb(env.databaseUrl, { max: 1 });
    try {
      const key = uniqueId('conn');
      const rules = [{ name: 'per-second', limit: 1000, intervalMs: 1000, burst: 1000 }];
      assert.equal((await tryAcquire(single, key, rules)).admitted, true);
      const after = await sql<{ s: string }>`select current_setting('synchronous_commit') as s`.execute(
        single,
      );
      assert.equal(after.rows[0]!.s, 'on', 'the next statement on the same connection commits synchronously');
      // Inside a caller's transaction the acquisition leaves the transaction's commit mode alone.
      await single.transaction().execute(async (tx) => {
        assert.equal((await tryAcquire(tx, key, rules)).admitted, true);
        const inTx = await sql<{ s: string }>`select current_setting('synchronous_commit') as s`.execute(tx);
        assert.equal(inTx.rows[0]!.s, 'on');
      });
    } finally {
      await single.destroy();
    }
  });

  it('several limits are all-or-nothing, and cost counts', async () => {
    const key = uniqueId('conn');
    const rules = [
      { name: 'second', limit: 100, intervalMs: 1000, burst: 100 },
      { name: 'minute', limit: 3, intervalMs: 60_000, burst: 3 },
    ];
    assert.equal((await tryAcquire(env.db, key, rules, 2)).admitted, true);
    assert.equal((await tryAcquire(env.db, key, rules, 1)).admitted, true);
    const refused = await tryAcquire(env.db, key, rules, 1);
    assert.equal(refused.admitted, false);
    assert.ok(!refused.admitted && refused.waitMs > 10_000, 'the minute limit decides the wait');
    // The refused call spent nothing of the per-second budget.
    const rows = await env.db
      .selectFrom('rate_limits')
      .select(['limit_name', 'tat'])
      .where('connection_key', '=', key)
      .orderBy('limit_name')
      .execute();
    const now = (await sql<{ t: Date }>`select clock_timestamp() as t`.execute(env.db)).rows[0]!.t.getTime();
    const secondTat = rows.find((r) => r.limit_name === 'second')!.tat.getTime();
    assert.ok(secondTat - now < 40, 'per-second tat moved by 3 requests (~31.6 ms), not 4');
  });

  it('a lone request (its own statement) gets the decisions of the batch statement', async () => {
    // The same sequence against one limit alone (the lone-request statement) and against that limit plus
    // one that never binds (the batch statement, which handles several limits): same admissions, same
    // waits within the few milliseconds between the calls.
    const limit = { name: 'minute', limit: 10, intervalMs: 60_000, burst: 3 };
    const never = { name: 'never', limit: 1_000_000, intervalMs: 1000, burst: 1_000_000 };
    const lone = uniqueId('lone');
    const batch = uniqueId('batch');
    const costs = [1, 1, 2, 1, 1, 3];
    const outcomes: [boolean, number][] = [];
    for (const cost of costs) {
      const a = await tryAcquire(env.db, lone, [limit], cost);
      const b = await tryAcquire(env.db, batch, [limit, never], cost);
      assert.equal(a.admitted, b.admitted, `cost ${cost}: ${JSON.stringify([a, b])}`);
      if (!a.admitted && !b.admitted) assert.ok(Math.abs(a.waitMs - b.waitMs) < 50, JSON.stringify([a, b]));
      outcomes.push([a.admitted, a.admitted ? 0 : a.waitMs / 1000]);
    }
    // Burst 3 plus SLACK intervals of slack (interval T = 60 s / (10 × SAFETY)): 1 and 1 pass, 2 more would
    // overdraw by (1 − SLACK) T, 1 passes, the next 1 waits (1 − SLACK) T and 3 waits (3 − SLACK) T.
    const t = 60 / (10 * SAFETY);
    const expected: [boolean, number][] = [
      [true, 0],
      [true, 0],
      [false, (1 - SLACK) * t],
      [true, 0],
      [false, (1 - SLACK) * t],
      [false, (3 - SLACK) * t],
    ];
    assert.deepEqual(
      outcomes.map(([admitted]) => admitted),
      expected.map(([admitted]) => admitted),
    );
    // Within the few milliseconds the calls take.
    outcomes.forEach(([, wait], i) =>
      assert.ok(
        Math.abs(wait - expected[i]![1]) < 0.1,
        `call ${i}: waits ${wait} s, not ${expected[i]![1]} s`,
      ),
    );
    // A provider block holds both back for as long.
    const until = new Date(Date.now() + 30_000);
    await blockConnection(env.db, lone, [limit], { until, status: 429 });
    await blockConnection(env.db, batch, [limit, never], { until, status: 429 });
    const a = await tryAcquire(env.db, lone, [limit], 1);
    const b = await tryAcquire(env.db, batch, [limit, never], 1);
    assert.ok(!a.admitted && !b.admitted && Math.abs(a.waitMs - b.waitMs) < 50 && a.waitMs > 25_000);
  });

  it('without declared limits, a provider block is seen at once by its own worker, within a second by others', async () => {
    const key = uniqueId('conn');
    // Both workers find the connection unblocked (and remember it for a moment).
    for (const p of pools.slice(0, 2)) assert.equal((await tryAcquire(p, key, [])).admitted, true);
    await blockConnection(pools[1]!, key, [], { until: new Date(Date.now() + 5000), status: 429 });
    const own = await tryAcquire(pools[1]!, key, []);
    assert.ok(!own.admitted && own.waitMs > 4000, JSON.stringify(own));
    // The other worker may go on for up to UNBLOCKED_RECHECK_MS on its earlier answer, no longer.
    await new Promise((r) => setTimeout(r, UNBLOCKED_RECHECK_MS + 50));
    const other = await tryAcquire(pools[0]!, key, []);
    assert.ok(!other.admitted && other.waitMs > 3000, JSON.stringify(other));
  });

  it('a provider block (Retry-After) stops every caller until then; a bare 429 backs off', async () => {
    const key = uniqueId('conn');
    const rules = [{ name: 'per-second', limit: 1000, intervalMs: 1000, burst: 1000 }];
    assert.equal((await tryAcquire(pools[0]!, key, rules)).admitted, true);
    await blockConnection(pools[1]!, key, rules, {
      until: new Date(Date.now() + 7000),
      status: 429,
      source: 'retry-after',
    });
    for (const p of pools) {
      const r = await tryAcquire(p, key, rules);
      assert.ok(!r.admitted && r.waitMs > 6000 && r.waitMs <= 7100, JSON.stringify(r));
    }
    const key2 = uniqueId('conn');
    await blockConnection(env.db, key2, rules, { status: 429 });
    const first = await tryAcquire(env.db, key2, rules);
    await blockConnection(env.db, key2, rules, { status: 429 });
    const second = await tryAcquire(env.db, key2, rules);
    assert.ok(!first.admitted && !second.admitted);
    assert.ok(
      !first.admitted && first.waitMs <= 1000 && !second.admitted && second.waitMs > 1000,
      'exponential back-off',
    );
    const ledger = await env.db
      .selectFrom('rate_ledger')
      .select('kind')
      .where('connection_key', '=', key)
      .execute();
    assert.ok(ledger.some((l) => l.kind === 'provider-429'));
  });

  it('the budget survives a restart: a new pool continues where the old one left off', async () => {
    const key = uniqueId('conn');
    const rules = [{ name: 'per-second', limit: 5, intervalMs: 1000, burst: 5 }];
    for (let i = 0; i < 5; i++) assert.equal((await tryAcquire(pools[2]!, key, rules)).admitted, true);
    const fresh = createDb(env.databaseUrl, { max: 1 });
    try {
      assert.equal((await tryAcquire(fresh, key, rules)).admitted, false, 'no burst after a restart');
    } finally {
      await fresh.destroy();
    }
    assert.ok((await pruneLedger(env.db, 0)) >= 5);
  });
});
