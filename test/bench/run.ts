/**
 * `npm run bench`: each benchmark runs its subject and a baseline in the same process and prints the
 * ratio. Uses DATABASE_URL / TEMPORAL_ADDRESS when set, otherwise starts an embedded Postgres and a
 * Temporal dev server itself.
 *   npm run bench                 sync (100,000 records), rate ledger and webhooks
 *   npm run bench -- sync 20000   only the sync benchmark, on 20,000 records
 *   npm run bench -- ledger       only the ledger benchmark
 *   npm run bench -- webhooks N   only the webhook benchmark, N events per round (default 10,000)
 */
import { ledgerBenchmark } from './ledger.bench.js';
import { syncBenchmark } from './sync.bench.js';
import { webhookBenchmark } from './webhook.bench.js';

const [which = 'all', n] = process.argv.slice(2);
if (which === 'all' || which === 'sync') await syncBenchmark(Number(n ?? 100_000));
if (which === 'all' || which === 'ledger') await ledgerBenchmark();
if (which === 'all' || which === 'webhooks') await webhookBenchmark(n ? Number(n) : undefined);
process.exit(0);
