/** Resolves Temporal: TEMPORAL_ADDRESS when set, otherwise a local dev server from the temporal CLI. */
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { freePort, preferredOrFreePort } from '../net.js';
import { resolveTemporalCli } from '../temporal/cli-binary.js';
import { connectTemporal } from '../temporal/client.js';
import {
  startDevServerOnFreePorts,
  type DynamicConfig,
  type RunningDevServer,
} from '../temporal/dev-server.js';
import { ensureSearchAttributes } from '../temporal/register-search-attributes.js';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';

export interface ResolvedTemporal {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  source: 'TEMPORAL_ADDRESS' | 'dev-server';
  devServer?: RunningDevServer;
  stop(): Promise<void>;
}

export interface TemporalStackOptions {
  /** Keep history in a SQLite file under SYNCWRIGHT_HOME (default) or only in memory (tests). */
  persistent?: boolean;
  /** Serve the Web UI (default true). */
  ui?: boolean;
  /** Use the configured ports when free (default) or any free ports (tests). */
  fixedPorts?: boolean;
  dynamicConfig?: DynamicConfig;
}

export async function resolveTemporal(
  config: Config,
  log: Logger,
  options: TemporalStackOptions = {},
): Promise<ResolvedTemporal> {
  const { namespace } = config.temporal;
  if (config.temporal.address) {
    const connection = await connectTemporal(config.temporal.address);
    try {
      const added = await ensureSearchAttributes(connection, namespace);
      if (added.length) log.info({ added }, 'registered search attributes');
    } finally {
      await connection.close();
    }
    return {
      address: config.temporal.address,
      namespace,
      uiUrl: undefined,
      source: 'TEMPORAL_ADDRESS',
      stop: async () => {},
    };
  }
  const cli = await resolveTemporalCli({ cliPath: config.temporal.cliPath, cacheDir: config.cacheDir, log });
  const fixed = options.fixedPorts ?? true;
  const ui = options.ui ?? true;
  const devServer = await startDevServerOnFreePorts(
    {
      cli,
      namespace,
      ...((options.persistent ?? true) ? { dbFile: path.join(config.homeDir, 'temporal.sqlite') } : {}),
      logFile: path.join(config.homeDir, 'temporal.log'),
      searchAttributes: SEARCH_ATTRIBUTES,
      ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
      cacheDir: config.cacheDir,
    },
    async () => {
      const port = fixed ? await preferredOrFreePort(config.temporal.port) : await freePort();
      const uiPort = ui
        ? fixed
          ? await preferredOrFreePort(config.temporal.uiPort)
          : await freePort()
        : undefined;
      log.info(
        { cli: cli.kind === 'binary' ? `${cli.path} (${cli.source})` : cli.kind, port, uiPort },
        'starting Temporal dev server',
      );
      return { port, ...(uiPort !== undefined ? { uiPort } : {}) };
    },
    (error) =>
      log.warn(
        { error: error.message },
        'the Temporal dev server exited during start-up; trying other ports',
      ),
  );
  return {
    address: devServer.address,
    namespace,
    uiUrl: devServer.uiUrl,
    source: 'dev-server',
    devServer,
    stop: () => devServer.stop(),
  };
}
