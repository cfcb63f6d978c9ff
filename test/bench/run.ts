/**
 * `npm run bench`: each benchmark runs its subject and a baseline in the same process and prints the
 * ratio. Uses DATABASE_URL / TEMPORAL_ADDRESS when set, otherwise starts an embedded Postgres and a
 * Temporal dev server itself.
 *   npm run bench                 sync (50,000 records), rate ledger and webhooks, each in its own process
 *   npm run bench -- sync 20000   only the sync benchmark, on 20,000 records (BENCH_ROUNDS=n rounds, default 5;
 *                                 BENCH_PAGES=100 or 1000 for one page size)
 *   npm run bench -- sync-memory  a worker's RSS (its own process) through a 1,000,000-record sync (not part of `all`)
 *   npm run bench -- ledger       only the ledger benchmark
 *   npm run bench -- webhooks N   only the webhook benchmark, N events per round (default 10,000)
 *   npm run bench -- fanout N     only the fan-out benchmark, N one-page syncs at once (default 200)
 *   npm run bench -- cli          only the CLI start-up benchmark
 *   npm run bench -- exports N    streamed JSONL/CSV exports (gzip too), N records (default 1,000,000 ≈ 200 MB;
 *                                 not part of `all`)
 *   npm run bench -- exports N jsonl,csvgz   only those files (jsonl, jsonlgz, csv, csvgz)
 *   npm run bench -- export-job N [heapMiB]  a bulk export job (Shopify-style, N records, default
 *                                 1,000,000) by a worker in its own process (RSS sampled), against a
 *                                 hand-written download → decode → COPY loop; heapMiB caps the worker's heap
 *                                 (BENCH_WORKER_NODE_ARGS: more flags for the worker, e.g. the memory probe's
 *                                 `--import ./test/bench/memory-probe.mjs` with MEMORY_PROBE=<file>)
 */
import { spawnSync } from 'node:child_process';
import { closeTestEnv } from '../helpers/stack.js';
import { cliBenchmark } from './cli.bench.js';
import { exportBenchmark } from './export.bench.js';
import { exportJobBenchmark } from './export-job.bench.js';
import { fanoutBenchmark } from './fanout.bench.js';
import { ledgerBenchmark } from './ledger.bench.js';
import { syncBenchmark } from './sync.bench.js';
import { syncMemoryBenchmark } from './sync-memory.bench.js';
import { webhookBenchmark } from './webhook.bench.js';

const BENCHMARKS = {
  sync: (n?: string) => syncBenchmark(Number(n ?? 50_000)),
  ledger: () => ledgerBenchmark(),
  webhooks: (n?: string) => webhookBenchmark(n ? Number(n) : undefined),
  fanout: (n?: string) => fanoutBenchmark(n ? Number(n) : undefined),
  cli: () => cliBenchmark(),
};

/** Run only when asked for by name. */
const ON_REQUEST = {
  'sync-memory': (n?: string) => syncMemoryBenchmark(Number(n ?? 1_000_000)),
  exports: (n?: string, files?: string) => exportBenchmark(Number(n ?? 1_000_000), files?.split(',')),
  'export-job': (n?: string, heap?: string) =>
    exportJobBenchmark(Number(n ?? 1_000_000), heap ? Number(heap) : undefined),
};

const [which = 'all', n, extra] = process.argv.slice(2);
if (which === 'all') {
  // One process each: the sync benchmark's heap (and its worker's threads) would otherwise slow the
  // ones after it, and a figure would depend on what ran before it.
  for (const name of Object.keys(BENCHMARKS)) {
    const run = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, name], {
      stdio: 'inherit',
    });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
  process.exit(0);
}
const bench = { ...BENCHMARKS, ...ON_REQUEST }[which as keyof typeof BENCHMARKS] as
  ((n?: string, extra?: string) => Promise<void>) | undefined;
if (!bench) {
  console.error(
    `unknown benchmark "${which}": use ${[...Object.keys(BENCHMARKS), ...Object.keys(ON_REQUEST)].join(', ')} or nothing for all`,
  );
  process.exit(2);
}
try {
  await bench(n, extra);
} finally {
  await closeTestEnv();
}
process.exit(0);
