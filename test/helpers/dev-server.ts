/** A Temporal dev server of a test's own (to stop and restart it, or to serve its Web UI). */
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { resolveTemporalCli } from '../../src/temporal/cli-binary.js';
import { startDevServer, type RunningDevServer } from '../../src/temporal/dev-server.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';

export async function startOwnDevServer(options: {
  /** Directory for its log and, when persistent, its SQLite file (history survives a restart). */
  dir: string;
  port: number;
  uiPort?: number;
  persistent?: boolean;
  /** `--dynamic-config-value` entries, e.g. a small history limit so Temporal suggests continue-as-new. */
  dynamicConfig?: Record<string, string | number | boolean>;
}): Promise<RunningDevServer> {
  const config = loadConfig();
  return startDevServer({
    cli: await resolveTemporalCli({
      cliPath: config.temporal.cliPath,
      cacheDir: config.cacheDir,
      log: createLogger('silent'),
    }),
    port: options.port,
    ...(options.uiPort !== undefined ? { uiPort: options.uiPort } : {}),
    namespace: 'default',
    ...(options.persistent ? { dbFile: path.join(options.dir, 'temporal.sqlite') } : {}),
    logFile: path.join(options.dir, 'temporal.log'),
    searchAttributes: SEARCH_ATTRIBUTES,
    ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
    cacheDir: config.cacheDir,
  });
}
