/**
 * `npm run bench`: each benchmark runs its subject and a baseline in the same process and prints the
 * ratio. Uses DATABASE_URL / TEMPORAL_ADDRESS when set, otherwise starts an embedded Postgres and a
 * Temporal dev server itself.  `npm run bench -- 20000` runs the sync benchmark on 20,000 records.
 */
import { syncBenchmark } from './sync.bench.js';

const records = Number(process.argv[2] ?? 100_000);
await syncBenchmark(records);
process.exit(0);
