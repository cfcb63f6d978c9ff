/**
 * Sync benchmark: the engine (a sync workflow and its activities, run through the public testing kit's
 * stack) against the independent hand-written loops of sync-baseline.ts — sequential and pipelined —
 * over the same provider simulator and the same Postgres, in the same process.
 *
 * Cases, each at 100 and at 1,000 records per page: a first full sync into an empty store; a full re-sync
 * where nothing changed; a full re-sync where 10% of the records changed. Each case runs in rounds; a
 * round runs the engine and both loops once each, in an order that rotates from round to round, and
 * yields the round's ratios. The figures printed are the medians over the rounds, which a noisy shared
 * machine moves far less than any single time. Each variant's CPU time per record is printed too (this
 * process, the database's Postgres backends and, for the engine, the Temporal dev server, from /proc).
 */
import pg from 'pg';
import { defineIntegration } from '../../src/spec/define.js';
import type { RunSummary } from '../../src/sync/types.js';
import { createTestStack } from '../../src/testing/test-stack.js';
import { generateRecords, startProviderSimulator, type SimRecord } from '../../src/testing/simulator.js';
import { createBaselineTables, pipelinedLoop, sequentialLoop, type BaselineTarget } from './sync-baseline.js';
import { cpuBetween, cpuSnapshot } from './cpu-usage.js';

const TOKEN = 'bench-token';
const PAGE_SIZES = [100, 1000] as const;

/** Seven fields, as a ticketing API's issues have them. */
function benchRecords(count: number): SimRecord[] {
  return generateRecords(count).map((r, i) => ({
    ...r,
    assignee: i % 4 === 0 ? null : `user${i % 97}`,
    created_at: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
  }));
}

function benchSpec(baseUrl: string) {
  const resource = (pageSize: number) => ({
    request: { path: '/issues' },
    recordsPath: 'data',
    primaryKey: 'id',
    fields: {
      id: { from: 'id', type: 'integer' as const },
      title: 'title',
      state: 'state',
      priority: { type: 'integer' as const },
      assignee: 'assignee',
      created_at: { type: 'timestamp' as const },
      updated_at: { type: 'timestamp' as const },
    },
    pagination: {
      type: 'page' as const,
      pageParam: 'page',
      sizeParam: 'per_page',
      pageSize,
      totalPath: 'total',
    },
  });
  return defineIntegration({
    id: 'bench',
    baseUrl,
    secrets: { token: 'API token' },
    auth: { type: 'bearer', token: 'token' },
    resources: { issues_100: resource(100), issues_1000: resource(1000) },
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

type Variant = 'engine' | 'pipelined' | 'sequential';
const VARIANTS: Variant[] = ['engine', 'pipelined', 'sequential'];

interface CpuPerRecord {
  self: number;
  postgres: number;
  temporal: number;
}

interface CaseResult {
  name: string;
  pageSize: number;
  /** Records/s per variant, one per round. */
  rates: Record<Variant, number[]>;
  /** CPU µs per record per variant, one per round: this process, Postgres backends, Temporal server. */
  cpu: Record<Variant, CpuPerRecord[]>;
}

export async function syncBenchmark(records: number, rounds = Number(process.env.BENCH_ROUNDS ?? 5)) {
  const sim = await startProviderSimulator({
    auth: { type: 'bearer', token: TOKEN },
    resources: { issues: { records: benchRecords(records), pagination: 'page' } },
  });
  const spec = benchSpec(sim.url);
  const stack = await createTestStack({ specs: [spec] });
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  const databaseName = new URL(stack.databaseUrl).pathname.slice(1);
  const target = (pageSize: number, variant: Variant): BaselineTarget => ({
    url: `${sim.url}/issues`,
    token: TOKEN,
    pageSize,
    table: `baseline_${variant}_${pageSize}`,
  });
  for (const size of PAGE_SIZES)
    for (const v of ['pipelined', 'sequential'] as const)
      await createBaselineTables(pool, target(size, v).table);

  let connections = 0;
  const newConnection = async () => {
    const id = `bench-${++connections}`;
    await stack.addConnection('bench', id, { secrets: { token: TOKEN } });
    return id;
  };
  const engineSync = (connection: string, pageSize: number): Promise<RunSummary> =>
    stack.sync('bench', `issues_${pageSize}`, { connection });
  /** Wall time, and CPU µs per record (this process; Postgres backends and the Temporal server). */
  const timed = async <T>(fn: () => Promise<T>) => {
    const cpuBefore = await cpuSnapshot(pool, [databaseName]);
    const start = performance.now();
    const out = await fn();
    const seconds = (performance.now() - start) / 1000;
    const c = cpuBetween(cpuBefore, await cpuSnapshot(pool, [databaseName]));
    const perRecord = (ms: number) => (ms * 1000) / records;
    const used: CpuPerRecord = {
      self: perRecord(c.self),
      postgres: perRecord(c.postgres),
      temporal: perRecord(c.children),
    };
    return { seconds, out, used };
  };
  const check = (what: string, got: number, want: number) => {
    if (got !== want) throw new Error(`${what}: ${got}, expected ${want}`);
  };

  // Warm-up on a few pages: JIT, pools, the workflow cache, both loops.
  {
    const all = sim.records('issues');
    sim.setRecords('issues', all.slice(0, 5_000));
    const c = await newConnection();
    for (const size of PAGE_SIZES) {
      await engineSync(c, size);
      await pipelinedLoop(pool, target(size, 'pipelined'));
      await sequentialLoop(pool, target(size, 'sequential'));
    }
    await stack.db.deleteFrom('records').execute();
    for (const size of PAGE_SIZES)
      for (const v of ['pipelined', 'sequential'] as const)
        await pool.query(`truncate ${target(size, v).table}`);
    sim.setRecords('issues', all);
  }

  /**
   * Runs a case: `prepare` before each round (untimed), then each variant once in this round's order.
   * `run` returns the engine's summary or the loop's record count, checked by `verify`.
   */
  const runCase = async (
    name: string,
    pageSize: number,
    hooks: {
      prepare?: (round: number) => Promise<void>;
      engineConnection: () => Promise<string>;
      afterEngine?: (connection: string) => Promise<void>;
      beforeLoop?: (table: string) => Promise<void>;
      verify: (s: RunSummary) => void;
    },
  ): Promise<CaseResult> => {
    const rates: CaseResult['rates'] = { engine: [], pipelined: [], sequential: [] };
    const cpu: CaseResult['cpu'] = { engine: [], pipelined: [], sequential: [] };
    for (let round = 0; round < rounds; round++) {
      await hooks.prepare?.(round);
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
      for (const v of order) {
        global.gc?.();
        if (v === 'engine') {
          const connection = await hooks.engineConnection();
          const { seconds, out, used } = await timed(() => engineSync(connection, pageSize));
          hooks.verify(out);
          rates.engine.push(records / seconds);
          cpu.engine.push(used);
          await hooks.afterEngine?.(connection);
        } else {
          const t = target(pageSize, v);
          await hooks.beforeLoop?.(t.table);
          const loop = v === 'pipelined' ? pipelinedLoop : sequentialLoop;
          const { seconds, out, used } = await timed(() => loop(pool, t));
          check(`${v} loop records`, out, records);
          rates[v].push(records / seconds);
          cpu[v].push(used);
        }
      }
    }
    return { name, pageSize, rates, cpu };
  };

  let worst = Infinity;
  const report = (r: CaseResult) => {
    const ratio = (v: Variant) => median(r.rates.engine.map((e, i) => e / r.rates[v][i]!));
    const vsPipe = ratio('pipelined');
    worst = Math.min(worst, vsPipe);
    console.log(
      `  ${r.name.padEnd(27)} ${String(r.pageSize).padStart(5)}  ${median(r.rates.engine).toFixed(0).padStart(12)}  ` +
        `${median(r.rates.pipelined).toFixed(0).padStart(15)}  ${median(r.rates.sequential).toFixed(0).padStart(16)}  ` +
        `${vsPipe.toFixed(2).padStart(15)}x  ${ratio('sequential').toFixed(2).padStart(16)}x  ` +
        `${cpuOf('engine')}  ${cpuOf('pipelined')}`,
    );
    function cpuOf(v: Variant) {
      const m = (k: keyof CpuPerRecord) => median(r.cpu[v].map((c) => c[k])).toFixed(0);
      const text =
        v === 'engine'
          ? `${m('self')} + ${m('postgres')} + ${m('temporal')}`
          : `${m('self')} + ${m('postgres')}`;
      return text.padStart(v === 'engine' ? 14 : 17);
    }
  };
  console.log(
    `sync: ${records.toLocaleString('en')} records, engine (testing kit stack) against hand-written loops; ` +
      `medians of ${rounds} rounds`,
  );
  console.log(
    '  case                        page   engine rec/s  pipelined rec/s  sequential rec/s  engine/pipelined  engine/sequential' +
      '  CPU/rec engine  CPU/rec pipelined',
  );
  console.log(
    '  (CPU µs per record: this process (the engine or the loop, and the simulator) + Postgres backends' +
      ' [+ the Temporal dev server])',
  );
  try {
    // BENCH_PAGES=1000 runs the cases of one page size only.
    const measured = PAGE_SIZES.filter(
      (p) => !process.env.BENCH_PAGES || String(p) === process.env.BENCH_PAGES,
    );
    for (const pageSize of measured) {
      report(
        await runCase('first full sync', pageSize, {
          engineConnection: newConnection,
          // Every round starts from an empty store: the engine's rows go, the loops' tables are emptied.
          // The engine's table is vacuumed too (untimed), as a truncate leaves the loop's: otherwise the
          // next round inserts among the dead rows and index entries of this one, and autovacuum's work
          // on them lands in whichever variant runs next.
          afterEngine: async (c) => {
            await stack.db.deleteFrom('records').where('connection', '=', c).execute();
            await pool.query('vacuum records');
          },
          beforeLoop: async (table) => void (await pool.query(`truncate ${table}`)),
          verify: (s) => check('engine inserted', s.inserted, records),
        }),
      );
      // The re-sync cases work on one synced copy each: the engine's connection and each loop's table.
      const steady = await newConnection();
      await engineSync(steady, pageSize);
      for (const v of ['pipelined', 'sequential'] as const) await pipelinedLoop(pool, target(pageSize, v));
      report(
        await runCase('re-sync, nothing changed', pageSize, {
          engineConnection: () => Promise.resolve(steady),
          verify: (s) => check('engine unchanged', s.unchanged, records),
        }),
      );
      report(
        await runCase('re-sync, 10% changed', pageSize, {
          // A different tenth of the records changes before each round; every variant then syncs it once.
          prepare: (round) => {
            sim.setRecords(
              'issues',
              sim
                .records('issues')
                .map((r, i) =>
                  i % 10 === round % 10 ? { ...r, title: `Issue ${r.id} (${pageSize}/${round})` } : r,
                ),
            );
            return Promise.resolve();
          },
          engineConnection: () => Promise.resolve(steady),
          verify: (s) => check('engine updated', s.updated, records / 10),
        }),
      );
      await stack.db.deleteFrom('records').execute();
    }
  } finally {
    await pool.end();
    await stack.close();
    await sim.close();
  }

  console.log(`  lowest engine/pipelined: ${worst.toFixed(2)}x (target >= 0.80x)`);
}
