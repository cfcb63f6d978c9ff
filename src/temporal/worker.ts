import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Context as ActivityContext } from '@temporalio/activity';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type WorkflowBundleOption,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Activities } from '../../activities/index.js';
import { pruneLedger } from '../ratelimit/ledger.js';
import type { Db } from '../store/db.js';
import { Client } from '@temporalio/client';
import { startNotification } from '../../activities/notify.js';
import { resourceFreshness } from '../store/status.js';
import { staleEvent } from '../sync/notifications.js';

/** Activities one worker runs at once unless told otherwise. */
export const DEFAULT_ACTIVITY_CONCURRENCY = 16;

/**
 * Connections a worker's pool needs: an activity holds at most one at a time (a page commit is one
 * transaction; the rate ledger's statements run between them), plus one for ledger pruning and one
 * spare. A smaller pool makes activities queue for a connection; a larger one idles.
 */
export function workerPoolSize(activityConcurrency = DEFAULT_ACTIVITY_CONCURRENCY): number {
  return activityConcurrency + 2;
}

/** The append-only rate ledger is for operators and benchmarks: a day of it is enough. */
export const LEDGER_RETENTION_MS = 24 * 3600 * 1000;
const LEDGER_PRUNE_EVERY_MS = 3600 * 1000;

/** The workflows' TypeScript source, bundled by the worker (also from the CLI's build in dist/cli/). */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** Temporal's OpenTelemetry workflow interceptors: spans for workflows, context into activities. */
export const TRACING_WORKFLOW_MODULE = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

/**
 * Bundles workflows once; tests and benchmarks reuse the bundle across workers to skip webpack. A
 * worker that traces needs a bundle made with `{ tracing: true }`.
 */
export function bundleWorkflows(options: { tracing?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietBundlerLogger,
    ...(options.tracing ? { workflowInterceptorModules: [TRACING_WORKFLOW_MODULE] } : {}),
  });
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A bundle built in this process, or the path of a prebuilt one. */
  workflowBundle?: WorkflowBundleOption;
  /** Default DEFAULT_ACTIVITY_CONCURRENCY; size the activities' pool with workerPoolSize() of it. */
  maxConcurrentActivityTaskExecutions?: number;
  /**
   * When given, the worker prunes rate-ledger rows older than LEDGER_RETENTION_MS at start and hourly
   * (off the sync path; rate_ledger_at_brin makes the age scan cheap).
   */
  maintenance?: { db: Db; onError?: (error: unknown) => void };
  /**
   * When given, the worker checks every `everyMs` (default a minute) for resources whose last
   * successful sync is older than `staleAfterMs`, and notifies operators once per stale spell.
   */
  staleWatch?: { db: Db; staleAfterMs: number; everyMs?: number; onError?: (error: unknown) => void };
  /**
   * OpenTelemetry (src/tracing/setup.ts): Temporal's interceptors trace workflows and activities and
   * carry the trace from whoever started or signalled the workflow; workflow spans go out through a sink.
   */
  tracing?: { resource: Resource; spanProcessor: SpanProcessor };
}

export interface RunningWorker {
  readonly worker: Worker;
  /**
   * The worker's connection, closed when it stops. A Client made on it (`workerClient`) can start
   * workflows eagerly: the server hands the first workflow task back with the start, to this worker.
   */
  readonly connection: NativeConnection;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  readonly done: Promise<void>;
  shutdown(): Promise<void>;
}

/** Creates a worker on its own connection and starts polling at once. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    maxConcurrentActivityTaskExecutions:
      options.maxConcurrentActivityTaskExecutions ?? DEFAULT_ACTIVITY_CONCURRENCY,
    ...(options.tracing ? tracingOptions(options.tracing, !options.workflowBundle) : {}),
  });
  const stopPruning = options.maintenance ? pruneLedgerPeriodically(options.maintenance) : () => undefined;
  const stopWatching =
    options.staleWatch && worker.client
      ? watchStaleness(worker.client, options.taskQueue, options.staleWatch)
      : () => undefined;
  const done = worker
    .run()
    .finally(stopPruning)
    .finally(stopWatching)
    .finally(() => connection.close());
  return {
    worker,
    connection,
    done,
    shutdown: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/**
 * A client on a running worker's connection, for a process that starts workflows on its own worker's
 * task queue (the testing kit): `startSync(…, { eager: true })` then skips a trip through matching for
 * the first workflow task. It lives as long as the worker.
 */
export function workerClient(running: RunningWorker, namespace: string): Client {
  return new Client({ connection: running.connection, namespace });
}

function pruneLedgerPeriodically({ db, onError }: NonNullable<WorkerOptions['maintenance']>): () => void {
  const prune = () => void pruneLedger(db, LEDGER_RETENTION_MS).catch((error: unknown) => onError?.(error));
  prune();
  const timer = setInterval(prune, LEDGER_PRUNE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function watchStaleness(
  client: Client,
  taskQueue: string,
  { db, staleAfterMs, everyMs = 60_000, onError }: NonNullable<WorkerOptions['staleWatch']>,
): () => void {
  const check = async () => {
    const now = new Date();
    for (const r of await resourceFreshness(db)) {
      if (r.lastSuccessAt === null || r.ageSeconds === null || r.ageSeconds * 1000 <= staleAfterMs) continue;
      const event = staleEvent(
        { ...r, lastSuccessAt: r.lastSuccessAt, ageSeconds: r.ageSeconds },
        staleAfterMs / 1000,
        now,
      );
      await startNotification(client, taskQueue, event);
    }
  };
  const run = () => void check().catch((error: unknown) => onError?.(error));
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

function tracingOptions(tracing: NonNullable<WorkerOptions['tracing']>, bundling: boolean) {
  return {
    interceptors: {
      ...(bundling ? { workflowModules: [TRACING_WORKFLOW_MODULE] } : {}),
      activity: [
        (ctx: ActivityContext) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
