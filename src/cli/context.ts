/**
 * What CLI commands share: configuration, logs, shutdown, and connections to the stack — from
 * DATABASE_URL / TEMPORAL_ADDRESS, or from a running `syncwright up` (its stack.json).
 */
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import { readStackFile } from '../stack/stack-file.js';
import type { Db } from '../store/db.js';
import { ShutdownScope } from './shutdown.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliContext {
  config: Config;
  log: Logger;
  scope: ShutdownScope;
  verbose: boolean;
  json: boolean;
  out(line: string): void;
  /** A remark for the person at the terminal (stderr), never mixed into the output. */
  note(line: string): void;
}

export function createContext(opts: { verbose?: boolean; json?: boolean }): CliContext {
  const config = loadConfig();
  const verbose = Boolean(opts.verbose);
  const log = createLogger(verbose ? 'debug' : process.env.LOG_LEVEL ? config.logLevel : 'warn');
  const scope = new ShutdownScope((name, error) => log.error({ err: error }, `stopping ${name} failed`));
  scope.handleSignals();
  return {
    config,
    log,
    scope,
    verbose,
    json: Boolean(opts.json),
    out: (line) => console.log(line),
    note: (line) => console.error(line),
  };
}

/**
 * The Temporal SDK's own logs (worker state changes, bundling) only when asked for. Called by commands
 * that run a worker or a dev server, before either starts; the others never load the worker SDK.
 */
export async function installSdkLogger(ctx: CliContext): Promise<void> {
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  Runtime.install({ logger: new DefaultLogger(ctx.verbose ? 'DEBUG' : 'WARN') });
}

/** Syncwright's database: DATABASE_URL, or the embedded one of a running `syncwright up`. */
export async function openDatabase(ctx: CliContext, poolSize = 4): Promise<Db> {
  const url = ctx.config.postgres.url ?? (await readStackFile(ctx.config.homeDir))?.databaseUrl;
  if (!url) {
    throw new UsageError(
      'no database: set DATABASE_URL, or start the local stack with `syncwright up` in another terminal',
    );
  }
  const [{ checkConnection }, { createDb }] = await Promise.all([
    import('../stack/postgres.js'),
    import('../store/db.js'),
  ]);
  await checkConnection(url, ctx.config.postgres.url ? 'DATABASE_URL' : 'the database of `syncwright up`');
  const db = createDb(url, {
    max: poolSize,
    onError: (message, error) => ctx.log.warn({ err: error }, message),
  });
  ctx.scope.add('database', () => db.destroy());
  return db;
}

/**
 * Where Temporal is. Each setting comes from its environment variable when it is set, else from the
 * stack.json of a running `syncwright up`, else its default: TEMPORAL_ADDRESS (no default: an error),
 * TEMPORAL_TASK_QUEUE ("syncwright").
 */
export async function temporalTarget(
  ctx: CliContext,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<{ address: string; taskQueue: string; uiUrl: string | null }> {
  const stack = ctx.config.temporal.address ? undefined : await readStackFile(ctx.config.homeDir);
  const address = ctx.config.temporal.address ?? stack?.temporalAddress;
  if (!address) {
    throw new UsageError(
      'no Temporal: set TEMPORAL_ADDRESS, or start the local stack with `syncwright up` in another terminal',
    );
  }
  return {
    address,
    taskQueue: env.TEMPORAL_TASK_QUEUE
      ? ctx.config.temporal.taskQueue
      : (stack?.taskQueue ?? ctx.config.temporal.taskQueue),
    uiUrl: stack?.uiUrl ?? null,
  };
}

/** A Temporal client: TEMPORAL_ADDRESS, or the dev server of a running `syncwright up`. */
export async function openTemporal(
  ctx: CliContext,
): Promise<{ client: Client; address: string; taskQueue: string; uiUrl: string | null }> {
  const { address, taskQueue, uiUrl } = await temporalTarget(ctx);
  const { connectClient } = await import('../temporal/client.js');
  const client = await connectClient(address, ctx.config.temporal.namespace);
  ctx.scope.add('temporal client', () => client.connection.close());
  return { client, address, taskQueue, uiUrl };
}
