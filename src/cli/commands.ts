/** The `syncwright` commands: each is a small function over a CliContext. */
import { createActivities } from '../../activities/index.js';
import { SpecError } from '../spec/errors.js';
import { loadSpecs } from '../spec/load.js';
import type { IntegrationSpec } from '../spec/schema.js';
import { startLocalStack } from '../stack/local-stack.js';
import { removeStackFile, writeStackFile } from '../stack/stack-file.js';
import { listConnections } from '../store/connections.js';
import type { Db } from '../store/db.js';
import { listRuns } from '../store/runs.js';
import type { SecretBox } from '../store/secret-box.js';
import {
  addConnection,
  configFromStrings,
  ConnectionConfigError,
  connectionProblems,
  removeConnection,
} from '../sync/connections.js';
import type { RunStatus } from '../store/run-types.js';
import { lookupResource } from '../spec/registry.js';
import type { SyncKind, SyncWorkflowInput } from '../sync/types.js';
import {
  createSyncSchedule,
  listSyncSchedules,
  startSync,
  syncHandle,
  syncProgress,
} from '../temporal/sync-client.js';
import { startWorker, workerPoolSize } from '../temporal/worker.js';
import { connectClient } from '../temporal/client.js';
import type { Client } from '@temporalio/client';
import {
  startWebhookService,
  type WebhookService,
  type WebhookServiceOptions,
} from '../temporal/webhook-service.js';
import { listEvents, replayEvent, ReplayError, type EventSummary } from '../webhooks/inbox-queries.js';
import type { WebhookEventStatus } from '../store/tables.js';
import { openDatabase, openTemporal, temporalTarget, UsageError, type CliContext } from './context.js';
import { openSecretBox } from './keys.js';
import { failureLine, failureOf } from './failures.js';
import { readRecords } from './records.js';
import { createProgressDisplay } from './progress-display.js';

export async function specsFor(ctx: CliContext, path?: string): Promise<Map<string, IntegrationSpec>> {
  return loadSpecs(path ?? ctx.config.specsPath);
}

/** SYNCWRIGHT_ENCRYPTION_KEY; only the local `up` (local = true) may generate a key file. */
async function secretBox(ctx: CliContext, local = false): Promise<SecretBox> {
  return openSecretBox(ctx, { local });
}

function print(ctx: CliContext, value: unknown, human: () => string[]): void {
  if (ctx.json) ctx.out(JSON.stringify(value, null, 2));
  else for (const line of human()) ctx.out(line);
}

export async function validateCommand(ctx: CliContext, files: string[]): Promise<void> {
  const targets = files.length ? files : [ctx.config.specsPath];
  const problems: string[] = [];
  const ok: string[] = [];
  for (const file of targets) {
    try {
      const specs = await loadSpecs(file);
      for (const [id, spec] of specs) ok.push(`${id}: ${Object.keys(spec.resources).length} resource(s) OK`);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      problems.push(...error.problems.map((p) => (p.startsWith(error.source) ? p : `${error.source}: ${p}`)));
    }
  }
  print(ctx, { ok, problems }, () => [...ok, ...problems]);
  if (problems.length) throw new UsageError(`${problems.length} problem(s) in the specs`);
}

function runWorker(
  ctx: CliContext,
  db: Db,
  specs: Map<string, IntegrationSpec>,
  box: SecretBox,
  address: string,
  taskQueue: string,
) {
  return startWorker({
    address,
    namespace: ctx.config.temporal.namespace,
    taskQueue,
    activities: createActivities({ db, specs, secretBox: box, env: process.env, log: ctx.log }),
    maintenance: { db, onError: (error) => ctx.log.warn({ err: error }, 'rate ledger pruning failed') },
  });
}

export async function workerCommand(ctx: CliContext, opts: { specs?: string }): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  const db = await openDatabase(ctx, workerPoolSize());
  const { taskQueue, address } = await openTemporal(ctx);
  const worker = await runWorker(ctx, db, specs, await secretBox(ctx), address, taskQueue);
  ctx.scope.add('worker', () => worker.shutdown());
  ctx.out(`worker polling "${taskQueue}" with ${specs.size} integration(s): ${[...specs.keys()].join(', ')}`);
  await Promise.race([ctx.scope.untilSignal(), worker.done]);
}

export async function upCommand(ctx: CliContext, opts: { specs?: string }): Promise<void> {
  const specs = await specsFor(ctx, opts.specs).catch((error: unknown) => {
    if (error instanceof SpecError && error.problems.every((p) => /no such file/.test(p))) return new Map();
    throw error;
  });
  const stack = await startLocalStack(ctx.config, ctx.log, { ui: true, persistent: true });
  ctx.scope.add('local stack', () => stack.stop());
  const taskQueue = ctx.config.temporal.taskQueue;
  const worker = await runWorker(
    ctx,
    stack.db,
    specs,
    await secretBox(ctx, true),
    stack.temporal.address,
    taskQueue,
  );
  ctx.scope.add('worker', () => worker.shutdown());
  const webhooks = await startWebhooks(ctx, {
    db: stack.db,
    specs,
    secretBox: await secretBox(ctx, true),
    env: process.env,
    log: ctx.log,
    connect: reconnecting(ctx, stack.temporal.address, stack.temporal.namespace),
    taskQueue,
  });
  ctx.scope.add('webhooks', () => webhooks.close());
  await writeStackFile(ctx.config.homeDir, {
    pid: process.pid,
    databaseUrl: stack.postgres.url,
    temporalAddress: stack.temporal.address,
    namespace: stack.temporal.namespace,
    taskQueue,
    uiUrl: stack.temporal.uiUrl ?? null,
    webhookUrl: webhooks.receiver.url,
  });
  ctx.scope.add('stack file', () => removeStackFile(ctx.config.homeDir));
  ctx.out(
    `Postgres:    ${stack.postgres.source === 'embedded' ? `embedded on 127.0.0.1:${stack.postgres.embedded?.port}` : 'DATABASE_URL'}`,
  );
  ctx.out(`Temporal:    ${stack.temporal.address}`);
  if (stack.temporal.uiUrl) ctx.out(`Temporal UI: ${stack.temporal.uiUrl}`);
  ctx.out(`Worker:      task queue "${taskQueue}", integrations: ${[...specs.keys()].join(', ') || 'none'}`);
  ctx.out(`Webhooks:    ${webhooks.receiver.url} (health: ${webhooks.receiver.url}/healthz)`);
  for (const r of webhooks.routes) ctx.out(`             POST ${r.url}`);
  ctx.out('Other terminals can now run syncwright commands here. Ctrl-C stops everything.');
  await Promise.race([ctx.scope.untilSignal(), worker.done]);
}

export function pairs(values: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${what} "${v.split('=')[0]}…" must look like name=value`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export async function connectionAddCommand(
  ctx: CliContext,
  integration: string,
  opts: { id: string; config: string[]; secret: string[]; specs?: string },
): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  const spec = specs.get(integration);
  if (!spec)
    throw new UsageError(
      `unknown integration "${integration}" (known: ${[...specs.keys()].join(', ') || 'none'})`,
    );
  const config = configFromStrings(spec, pairs(opts.config, 'config'));
  const secrets = pairs(opts.secret, 'secret');
  const input = { integration, id: opts.id, config, secrets };
  // Checked before the key and the database are needed; addConnection checks again.
  const problems = connectionProblems(spec, input);
  if (problems.length)
    throw new UsageError(new ConnectionConfigError(`${integration}/${opts.id}`, problems).message);
  const box = await secretBox(ctx);
  await addConnection(await openDatabase(ctx), box, spec, input);
  print(ctx, { integration, id: opts.id, config, secrets: Object.keys(secrets) }, () => [
    `connection ${integration}/${opts.id} saved (${Object.keys(secrets).length} secret(s), encrypted)`,
  ]);
}

export async function connectionListCommand(ctx: CliContext, opts: { integration?: string }): Promise<void> {
  const db = await openDatabase(ctx);
  const list = await listConnections(db, opts.integration);
  print(ctx, list, () =>
    list.length
      ? list.map(
          (c) =>
            `${c.integration}/${c.id}  config ${JSON.stringify(c.config)}  secrets ${c.hasSecrets ? 'set' : 'none'}`,
        )
      : ['no connections'],
  );
}

export async function connectionRemoveCommand(
  ctx: CliContext,
  integration: string,
  id: string,
): Promise<void> {
  const db = await openDatabase(ctx);
  if (!(await removeConnection(db, integration, id)))
    throw new UsageError(`no connection ${integration}/${id}`);
  ctx.out(`connection ${integration}/${id} removed, with its OAuth2 tokens and rate state`);
}

function syncInput(
  specs: Map<string, IntegrationSpec>,
  integration: string,
  resource: string,
  connection: string,
  kind: SyncKind,
): SyncWorkflowInput {
  try {
    const { spec, resource: res } = lookupResource(specs, integration, resource);
    if (kind === 'incremental' && !res.incremental)
      throw new UsageError(
        `--mode incremental: resource ${integration}/${resource} has no incremental section in its spec (sync it with --mode full)`,
      );
    return { integration, connection, resource, kind, retry: spec.retry };
  } catch (error) {
    if (error instanceof SpecError) throw new UsageError(`${integration}: ${error.problems.join('; ')}`);
    throw error;
  }
}

export async function syncCommand(
  ctx: CliContext,
  integration: string,
  resource: string,
  opts: { connection: string; mode: SyncKind; wait?: boolean; specs?: string },
): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  const input = syncInput(specs, integration, resource, opts.connection, opts.mode);
  const { client, taskQueue, uiUrl } = await openTemporal(ctx);
  const handle = await startSync(client, input, { taskQueue });
  const link = uiUrl
    ? `${uiUrl}/namespaces/${ctx.config.temporal.namespace}/workflows/${encodeURIComponent(handle.workflowId)}`
    : undefined;
  if (!opts.wait) {
    print(ctx, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, ui: link ?? null }, () => [
      `started ${handle.workflowId} (run ${handle.firstExecutionRunId})`,
      ...(link ? [`  ${link}`] : []),
    ]);
    return;
  }
  const started = Date.now();
  const display = ctx.json
    ? undefined
    : createProgressDisplay({ tty: Boolean(process.stdout.isTTY), out: (line) => ctx.out(line) });
  const timer = setInterval(() => {
    syncProgress(handle)
      .then((p) => display?.update(p))
      .catch(() => undefined);
  }, 1000);
  try {
    const r = await handle.result().catch((error: unknown) => {
      display?.stop();
      // The run's own typed error, not Temporal's "Workflow execution failed".
      throw new UsageError(failureLine(failureOf(error)), { cause: error });
    });
    clearInterval(timer);
    display?.stop();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    print(
      ctx,
      { workflowId: handle.workflowId, ...r, durationSeconds: Number(seconds), ui: link ?? null },
      () => [
        `${r.status}: inserted ${r.inserted}, updated ${r.updated}, unchanged ${r.unchanged}, deleted ${r.deleted}, quarantined ${r.quarantined}`,
        `${r.pages} pages, ${r.fetched} records in ${seconds}s — workflow ${handle.workflowId}`,
        ...(link ? [`  ${link}`] : []),
      ],
    );
  } finally {
    clearInterval(timer);
  }
}

export async function runsCommand(
  ctx: CliContext,
  opts: { integration?: string; status?: RunStatus; limit: number },
): Promise<void> {
  const db = await openDatabase(ctx);
  const runs = await listRuns(db, {
    ...(opts.integration ? { integration: opts.integration } : {}),
    ...(opts.status ? { status: opts.status } : {}),
    limit: opts.limit,
  });
  print(
    ctx,
    runs.map(({ checkpoint: _c, ...r }) => r),
    () =>
      runs.length
        ? runs.map(
            (r) =>
              `${r.startedAt.toISOString()}  ${r.status.padEnd(9)} ${r.kind.padEnd(11)} ${r.integration}/${r.connection}/${r.resource}  ` +
              `pages ${r.pages}, +${r.inserted} ~${r.updated} =${r.unchanged} -${r.deleted} !${r.quarantined}  ${r.workflowId}${r.error ? `  error: ${r.error}` : ''}`,
          )
        : ['no runs'],
  );
}

export async function runCommand(ctx: CliContext, workflowId: string): Promise<void> {
  const { client } = await openTemporal(ctx);
  const handle = syncHandle(client, workflowId);
  const d = await handle.describe();
  const progress = d.status.name === 'RUNNING' ? await syncProgress(handle) : undefined;
  const result = d.status.name === 'COMPLETED' ? await handle.result() : undefined;
  const error = ['FAILED', 'TIMED_OUT', 'TERMINATED'].includes(d.status.name)
    ? await handle.result().then(
        () => undefined,
        (e: unknown) => failureOf(e),
      )
    : undefined;
  const out = {
    workflowId,
    runId: d.runId,
    status: d.status.name,
    started: d.startTime,
    closed: d.closeTime ?? null,
    progress,
    result,
    error: error ?? null,
  };
  print(ctx, out, () => [
    `${workflowId}  ${d.status.name}  started ${d.startTime.toISOString()}${d.closeTime ? `, closed ${d.closeTime.toISOString()}` : ''}`,
    ...(progress ? [`  progress: ${JSON.stringify(progress)}`] : []),
    ...(result ? [`  result: ${JSON.stringify(result)}`] : []),
    ...(error ? [`  error: ${failureLine(error)}`] : []),
  ]);
}

export async function recordsCommand(
  ctx: CliContext,
  integration: string,
  resource: string,
  opts: { connection: string; limit: number; all?: boolean; includeDeleted?: boolean },
): Promise<void> {
  const db = await openDatabase(ctx);
  const includeDeleted = Boolean(opts.includeDeleted);
  const { rows, total } = await readRecords(
    db,
    { integration, connection: opts.connection, resource },
    { limit: opts.all ? null : opts.limit, includeDeleted },
  );
  print(
    ctx,
    rows.map((r) => r.data),
    () =>
      rows.length
        ? rows.map(
            (r) =>
              `${r.key}\t${JSON.stringify(r.data)}${r.deletedAt ? `\tdeleted ${r.deletedAt.toISOString()}` : ''}`,
          )
        : ['no records'],
  );
  // On stderr, so the records on stdout stay whole for a pipe.
  if (rows.length < total)
    ctx.note(
      `showing ${rows.length} of ${total} records${includeDeleted ? ' (deleted included)' : ''}: --all for every one, --limit <n> for more`,
    );
}

export async function scheduleCreateCommand(
  ctx: CliContext,
  integration: string,
  resource: string,
  opts: {
    connection: string;
    mode: SyncKind;
    every?: string;
    cron?: string;
    paused?: boolean;
    specs?: string;
  },
): Promise<void> {
  if (!opts.every === !opts.cron)
    throw new UsageError('give exactly one of --every <interval> or --cron <expression>');
  const specs = await specsFor(ctx, opts.specs);
  const input = syncInput(specs, integration, resource, opts.connection, opts.mode);
  const { client, taskQueue } = await openTemporal(ctx);
  const handle = await createSyncSchedule(
    client,
    input,
    {
      ...(opts.every ? { every: opts.every } : {}),
      ...(opts.cron ? { cron: opts.cron } : {}),
      paused: Boolean(opts.paused),
    },
    { taskQueue },
  );
  ctx.out(`schedule ${handle.scheduleId} created`);
}

export async function scheduleListCommand(ctx: CliContext): Promise<void> {
  const { client } = await openTemporal(ctx);
  const list = await listSyncSchedules(client);
  print(ctx, list, () =>
    list.length
      ? list.map(
          (s) =>
            `${s.id}  ${s.paused ? 'paused' : 'active'}  next ${s.nextActionTimes[0]?.toISOString() ?? '-'}${s.note ? `  (${s.note})` : ''}`,
        )
      : ['no schedules'],
  );
}

export async function scheduleActionCommand(
  ctx: CliContext,
  action: 'pause' | 'unpause' | 'delete',
  id: string,
): Promise<void> {
  const { client } = await openTemporal(ctx);
  const handle = client.schedule.getHandle(id);
  if (action === 'pause') await handle.pause('paused from the CLI');
  else if (action === 'unpause') await handle.unpause('unpaused from the CLI');
  else await handle.delete();
  ctx.out(`schedule ${id} ${action === 'delete' ? 'deleted' : `${action}d`}`);
}

/**
 * The dispatcher's way to (re)connect to Temporal: it asks again after a failure, so the client it
 * gave up on is closed first, and the last one when the command ends.
 */
function reconnecting(ctx: CliContext, address: string, namespace: string): () => Promise<Client> {
  let current: Client | undefined;
  const closeCurrent = async () => {
    const old = current;
    current = undefined;
    await old?.connection.close().catch(() => undefined);
  };
  ctx.scope.add('temporal client', closeCurrent);
  return async () => {
    await closeCurrent();
    current = await connectClient(address, namespace);
    return current;
  };
}

/**
 * The webhook service on SYNCWRIGHT_WEBHOOK_HOST/PORT. When the default port is taken another free one
 * is used, as for the other local services; a port asked for in SYNCWRIGHT_WEBHOOK_PORT is not replaced.
 */
async function startWebhooks(
  ctx: CliContext,
  options: Omit<WebhookServiceOptions, 'host' | 'port'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<WebhookService> {
  const { host, port } = ctx.config.webhooks;
  try {
    return await startWebhookService({ ...options, host, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code !== 'EADDRINUSE') throw error;
    if (env.SYNCWRIGHT_WEBHOOK_PORT)
      throw new UsageError(
        `webhook port ${host}:${port} is taken (SYNCWRIGHT_WEBHOOK_PORT): set SYNCWRIGHT_WEBHOOK_PORT to a free port, or unset it to use any free one`,
      );
    ctx.note(`webhook port ${port} is taken: using a free one (SYNCWRIGHT_WEBHOOK_PORT chooses it)`);
    return startWebhookService({ ...options, host, port: 0 });
  }
}

export async function webhooksServeCommand(ctx: CliContext, opts: { specs?: string }): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  if (![...specs.values()].some((s) => s.webhooks))
    throw new UsageError('no loaded spec has a webhooks section: nothing to receive');
  const db = await openDatabase(ctx);
  const target = await temporalTarget(ctx);
  const service = await startWebhooks(ctx, {
    db,
    specs,
    secretBox: await secretBox(ctx),
    env: process.env,
    log: ctx.log,
    // Not connected up front: events are accepted into the inbox even while Temporal is down.
    connect: reconnecting(ctx, target.address, ctx.config.temporal.namespace),
    taskQueue: target.taskQueue,
  });
  ctx.scope.add('webhooks', () => service.close());
  ctx.out(`webhook receiver on ${service.receiver.url} (health: ${service.receiver.url}/healthz)`);
  for (const r of service.routes) ctx.out(`  POST ${r.url}`);
  await ctx.scope.untilSignal();
}

const eventLine = (e: EventSummary) =>
  `${String(e.id).padStart(6)}  ${e.status.padEnd(10)} ${e.integration}/${e.connection}  ${e.eventType}  ${e.eventId}` +
  (e.entityKey ? `  ${e.resource} ${e.entityKey}` : '') +
  (e.result && e.result !== e.status ? `  (${e.result})` : '') +
  (e.error ? `  error: ${e.error}` : '');

export async function eventsCommand(
  ctx: CliContext,
  opts: { status?: WebhookEventStatus; integration?: string; connection?: string; limit: number },
): Promise<void> {
  const db = await openDatabase(ctx);
  const events = await listEvents(db, opts);
  print(ctx, events, () => (events.length ? events.map(eventLine) : ['no webhook events']));
}

export async function eventsReplayCommand(ctx: CliContext, id: string): Promise<void> {
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`event id must be a positive integer, got "${id}"`);
  const db = await openDatabase(ctx);
  try {
    const event = await replayEvent(db, n);
    print(ctx, event, () => [`event ${n} queued again; the dispatcher hands it to Temporal next`]);
  } catch (error) {
    if (error instanceof ReplayError) throw new UsageError(error.message);
    throw error;
  }
}
