/** A Temporal dev server of a test's own (to stop and restart it, or to serve its Web UI). */
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { resolveTemporalCli, type TemporalCli } from '../../src/temporal/cli-binary.js';
import { freePort } from '../../src/net.js';
import {
  startDevServer,
  startDevServerOnFreePorts,
  type DevServerOptions,
  type RunningDevServer,
} from '../../src/temporal/dev-server.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';

/** The Temporal CLI the tests use (TEMPORAL_CLI, the cache, or a build), resolved quietly. */
export async function testTemporalCli(): Promise<TemporalCli> {
  const config = loadConfig();
  return resolveTemporalCli({
    cliPath: config.temporal.cliPath,
    cacheDir: config.cacheDir,
    log: createLogger('silent'),
  });
}

/** A test's dev server options apart from its ports: its log (and SQLite file) in `dir`. */
export function testDevServerOptions(
  cli: TemporalCli,
  dir: string,
  options: { persistent?: boolean; dynamicConfig?: Record<string, string | number | boolean> } = {},
): Omit<DevServerOptions, 'port' | 'uiPort'> {
  return {
    cli,
    namespace: 'default',
    ...(options.persistent ? { dbFile: path.join(dir, 'temporal.sqlite') } : {}),
    logFile: path.join(dir, 'temporal.log'),
    searchAttributes: SEARCH_ATTRIBUTES,
    ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
    cacheDir: loadConfig().cacheDir,
  };
}

export async function startOwnDevServer(options: {
  /** Directory for its log and, when persistent, its SQLite file (history survives a restart). */
  dir: string;
  /** A fixed port (to restart the server on it); without one, free ports, chosen again if taken. */
  port?: number;
  /** Serve the Web UI (on a free port). */
  ui?: boolean;
  persistent?: boolean;
  /** `--dynamic-config-value` entries, e.g. a small history limit so Temporal suggests continue-as-new. */
  dynamicConfig?: Record<string, string | number | boolean>;
}): Promise<RunningDevServer> {
  const server = testDevServerOptions(await testTemporalCli(), options.dir, options);
  const { port } = options;
  if (port !== undefined)
    return startDevServer({ ...server, port, ...(options.ui ? { uiPort: await freePort() } : {}) });
  return startDevServerOnFreePorts(server, async () => ({
    port: await freePort(),
    ...(options.ui ? { uiPort: await freePort() } : {}),
  }));
}
