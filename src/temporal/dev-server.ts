/**
 * The local Temporal dev server (`temporal server start-dev`): server, SQLite persistence and Web UI in
 * one process, with our search attributes registered. Killed with the process that started it.
 */
import { stopChild } from '../child-process.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { defineSearchAttributeKey } from '@temporalio/common';
import type { TemporalCli } from './cli-binary.js';

export class DevServerError extends Error {
  override name = 'DevServerError';
}

/** The dev server exited before it served (its output, when it gave any, is in the message). */
export class DevServerExitedError extends DevServerError {
  override name = 'DevServerExitedError';
}

/** `--dynamic-config-value` settings by key. */
export type DynamicConfig = Record<string, string | number | boolean>;

export interface DevServerOptions {
  cli: TemporalCli;
  port: number;
  /** Web UI port; undefined runs headless. */
  uiPort?: number;
  namespace: string;
  /** SQLite file for persistence; undefined keeps everything in memory. */
  dbFile?: string;
  /** Server output goes here (it is noisy); undefined discards it. */
  logFile?: string;
  searchAttributes: readonly ReturnType<typeof defineSearchAttributeKey>[];
  /** Extra `--dynamic-config-value` entries, e.g. to make continue-as-new suggestions come sooner in tests. */
  dynamicConfig?: DynamicConfig;
  cacheDir: string;
}

export interface RunningDevServer {
  readonly address: string;
  readonly uiUrl: string | undefined;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Settings every dev server started here gets (a caller's `dynamicConfig` may override them).
 *
 * The dev server keeps all workflows in one history shard, and each shard's queue readers fetch their
 * tasks at most `…MaxPollRPS` times a second (default 20). Every activity and workflow task is handed to
 * matching through the transfer queue, so once the reader's small burst is spent each dispatch waited
 * 30–45 ms for the next read: a one-page sync took ~145 ms instead of ~60 (a cluster spreads the same
 * limit over hundreds of shards). Timers (retries, backoff) and visibility go through the other two.
 * Eager activity execution lets a worker that completes a workflow task start the activity it just
 * scheduled at once, instead of after a round trip through matching.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: DynamicConfig = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
};

/** `--dynamic-config-value` arguments: the defaults above, then the caller's. */
function dynamicConfigArgs(extra: DynamicConfig = {}): string[] {
  return Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...extra }).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}

const SA_TYPE_FLAG: Record<string, string> = {
  KEYWORD: 'Keyword',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export function devServerArgs(options: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port)];
  args.push('--namespace', options.namespace, '--log-level', 'warn', '--log-format', 'json');
  if (options.uiPort !== undefined) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  for (const sa of options.searchAttributes) {
    args.push('--search-attribute', `${sa.name}=${SA_TYPE_FLAG[sa.type] ?? 'Keyword'}`);
  }
  args.push(...dynamicConfigArgs(options.dynamicConfig));
  return args;
}

export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  if (options.dbFile) await fs.mkdir(path.dirname(options.dbFile), { recursive: true });
  if (options.cli.kind === 'sdk-download') return startViaSdkDownload(options);

  const args = devServerArgs(options);
  if (options.logFile) await fs.mkdir(path.dirname(options.logFile), { recursive: true });
  // Every listener goes on before the first await after the spawn: output of a server that exits at once
  // was otherwise gone before anyone read it.
  const child = spawn(options.cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const remember = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  if (options.logFile) {
    const out = createWriteStream(options.logFile, { flags: 'a' });
    // Two sources, one file: neither pipe may end it (output after the first stream's end was lost,
    // with the reason a server did not start); it ends when the process and both streams have.
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.once('close', () => out.end());
  }
  // Both streams: the CLI reports some start-up failures (a port taken) on stdout, in its JSON log.
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);
  // After exit, the output still in the pipes arrives until 'close'.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) =>
      reject(
        new DevServerError(
          `cannot run the temporal CLI at ${options.cli.kind === 'binary' ? options.cli.path : ''}: ${e.message}`,
        ),
      ),
    ),
  );
  spawnError.catch(() => undefined);
  // If this process exits without stop(), take the server down with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const address = `127.0.0.1:${options.port}`;
  try {
    await Promise.race([waitUntilServing(address, options.namespace, child, closed, () => tail), spawnError]);
  } catch (error) {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw error;
  }
  return {
    address,
    uiUrl: options.uiPort !== undefined ? `http://127.0.0.1:${options.uiPort}` : undefined,
    pid: child.pid,
    stop: () => stopChild(child, killOnExit, 'SIGTERM', 10_000),
  };
}

/** Tries at starting a dev server on freshly chosen ports (startDevServerOnFreePorts). */
export const DEV_SERVER_START_TRIES = 3;

/**
 * Starts a dev server on the ports `choose` gives, and chooses again when the server exits during
 * start-up, up to DEV_SERVER_START_TRIES times: a port found free can be taken before the server binds
 * it, by another process's connection or by the CLI itself, which picks its HTTP, metrics and internal
 * ports at random. A server that cannot start at all fails every try and reports the last one's output.
 */
export async function startDevServerOnFreePorts(
  options: Omit<DevServerOptions, 'port' | 'uiPort'>,
  choose: () => Promise<{ port: number; uiPort?: number }>,
  onRetry?: (error: DevServerExitedError) => void,
): Promise<RunningDevServer> {
  for (let tries = 1; ; tries++) {
    const ports = await choose();
    try {
      return await startDevServer({ ...options, ...ports });
    } catch (error) {
      if (!(error instanceof DevServerExitedError) || tries >= DEV_SERVER_START_TRIES) throw error;
      onRetry?.(error);
    }
  }
}

async function waitUntilServing(
  address: string,
  namespace: string,
  child: ChildProcess,
  closed: Promise<void>,
  tail: () => string,
): Promise<void> {
  const deadline = Date.now() + 90_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
      throw new DevServerExitedError(
        `the Temporal dev server exited during start-up (code ${child.exitCode ?? child.signalCode}):\n${tail().trim() || '(no output)'}`,
      );
    }
    // Closed whether or not it connected: a failed `Connection.connect` leaves its channel open (and,
    // when something else listens on the port, a socket that keeps this process alive).
    const connection = Connection.lazy({ address, connectTimeout: 1000 });
    try {
      await connection.ensureConnected();
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await connection.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new DevServerError(
    `the Temporal dev server at ${address} did not become ready within 90 s: ${String(lastError)}\n${tail().trim()}`,
  );
}

/** Last resort on machines with internet: the SDK downloads and runs the dev server itself. */
async function startViaSdkDownload(options: DevServerOptions): Promise<RunningDevServer> {
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download', downloadDir: options.cacheDir },
        ip: '127.0.0.1',
        port: options.port,
        namespace: options.namespace,
        ...(options.dbFile ? { dbFilename: options.dbFile } : {}),
        ...(options.uiPort !== undefined ? { ui: true, uiPort: options.uiPort } : {}),
        searchAttributes: [...options.searchAttributes],
        extraArgs: dynamicConfigArgs(options.dynamicConfig),
      },
    });
    return {
      address: env.address,
      uiUrl: options.uiPort !== undefined ? `http://127.0.0.1:${options.uiPort}` : undefined,
      pid: undefined,
      stop: () => env.teardown(),
    };
  } catch (error) {
    throw new DevServerError(
      'no temporal CLI, no Go toolchain, and the SDK could not download the dev server ' +
        `(${error instanceof Error ? error.message : String(error)}): set TEMPORAL_ADDRESS to an existing ` +
        'Temporal server, or install the temporal CLI and set TEMPORAL_CLI',
      { cause: error },
    );
  }
}
