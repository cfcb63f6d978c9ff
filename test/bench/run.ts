/**
 * `npm run bench`: each benchmark runs its subject and a baseline in the same process and prints the
 * ratio. Uses DATABASE_URL / TEMPORAL_ADDRESS when set, otherwise starts an embedded Postgres and a
 * Temporal dev server itself.
 *   npm run bench                 sync (100,000 records), rate ledger and webhooks, each in its own process
 *   npm run bench -- sync 20000   only the sync benchmark, on 20,000 records
 *   npm run bench -- ledger       only the ledger benchmark
 *   npm run bench -- webhooks N   only the webhook benchmark, N events per round (default 10,000)
 *   npm run bench -- exports N    streamed JSONL/CSV exports (gzip too), N records (default 1,000,000 ≈ 200 MB)
 *   npm run bench -- exports N jsonl,csvgz   only those files (jsonl, jsonlgz, csv, csvgz)
 */
import { spawnSync } from 'node:child_process';
import { testEnv } from '../helpers/stack.js';
import { exportBenchmark } from './export.bench.js';
import { ledgerBenchmark } from './ledger.bench.js';
import { syncBenchmark } from './sync.bench.js';
import { webhookBenchmark } from './webhook.bench.js';

const BENCHMARKS = {
  sync: (n?: string) => syncBenchmark(Number(n ?? 100_000)),
  ledger: () => ledgerBenchmark(),
  webhooks: (n?: string) => webhookBenchmark(n ? Number(n) : undefined),
  exports: (n?: string, files?: string) => exportBenchmark(Number(n ?? 1_000_000), files?.split(',')),
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
const bench = BENCHMARKS[which as keyof typeof BENCHMARKS] as
  ((n?: string, extra?: string) => Promise<void>) | undefined;
if (!bench) {
  console.error(`unknown benchmark "${which}": use ${Object.keys(BENCHMARKS).join(', ')} or nothing for all`);
  process.exit(2);
}
try {
  await bench(n, extra);
} finally {
  await (await testEnv()).close();
}
process.exit(0);
