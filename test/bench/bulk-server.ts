/**
 * The export-job benchmark's Shopify bulk-operation simulator, in its own process so its memory is not
 * counted as the worker's. Prints `{ url, storageUrl }` on stdout, then serves until killed.
 */
import { startShopifyBulkSimulator } from '../../src/testing/providers/index.js';

const [records = '1000000'] = process.argv.slice(2);
const sim = await startShopifyBulkSimulator({ records: Number(records) });
process.stdout.write(`${JSON.stringify({ url: sim.url, storageUrl: sim.storageUrl })}\n`);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
