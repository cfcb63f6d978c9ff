/**
 * The export benchmark's file server, in its own process (`node --import tsx export-server.ts N PAD`)
 * so its memory is not counted as the worker's. Prints its URL on stdout, then serves until killed.
 */
import { startExportFileServer } from '../helpers/export-files.js';

const [records = '1000000', pad = '0'] = process.argv.slice(2);
const server = await startExportFileServer({ records: Number(records), pad: Number(pad) });
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
