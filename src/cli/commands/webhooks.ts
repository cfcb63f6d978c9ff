/**
 * `syncwright webhooks serve | unrouted [replay] | reconcile | gaps`, `events` and `events replay`.
 */
import { serveMetrics, watchInbox } from '../metrics.js';
import { startCliTracing } from '../tracing.js';
import type { WebhookEventStatus } from '../../store/tables.js';
import { listEvents, replayEvent, ReplayError } from '../../webhooks/inbox-queries.js';
import { listConnections } from '../../store/connections.js';
import { syncWorkflowId } from '../../sync/types.js';
import { reconcileConnection, reconcileTargets } from '../../temporal/webhook-reconcile.js';
import { startSync } from '../../temporal/sync-client.js';
import { listSequenceGaps } from '../../webhooks/sequence-store.js';
import { listUnrouted, replayUnrouted, UnroutedReplayError } from '../../webhooks/unrouted.js';
import { openDatabase, openTemporal, temporalTarget, UsageError, type CliContext } from '../context.js';
import { eventLine, linesOr, print } from '../output.js';
import { reconnecting, startWebhooks } from './services.js';
import { integrationSpec, secretBox, specsFor } from './shared.js';

export async function webhooksServeCommand(ctx: CliContext, opts: { specs?: string }): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  if (![...specs.values()].some((s) => s.webhooks))
    throw new UsageError('no loaded spec has a webhooks section: nothing to receive');
  const metrics = await serveMetrics(ctx, { temporal: false });
  await startCliTracing(ctx, 'syncwright-webhooks');
  const db = await openDatabase(ctx);
  if (metrics) watchInbox(db);
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
  if (metrics) ctx.out(`metrics on ${metrics}`);
  await ctx.scope.untilSignal();
}

export async function eventsCommand(
  ctx: CliContext,
  opts: { status?: WebhookEventStatus; integration?: string; connection?: string; limit: number },
): Promise<void> {
  const db = await openDatabase(ctx);
  const events = await listEvents(db, opts);
  print(ctx, events, () => linesOr(events, eventLine, 'no webhook events'));
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

/** `webhooks unrouted`: events of accounts no connection has, oldest first. */
export async function unroutedCommand(
  ctx: CliContext,
  opts: { integration?: string; account?: string; limit: number },
): Promise<void> {
  const db = await openDatabase(ctx);
  const events = await listUnrouted(db, opts.integration, opts.limit, opts.account);
  print(ctx, events, () =>
    linesOr(
      events,
      (e) =>
        `${String(e.id).padStart(6)}  ${e.receivedAt.toISOString()}  ${e.integration}  account ${e.account}  ${e.eventType}  ${e.eventId}`,
      'no unrouted webhook events',
    ),
  );
}

/** `webhooks unrouted replay <integration> <account> [--connection c]`: into a connection's inbox. */
export async function unroutedReplayCommand(
  ctx: CliContext,
  integration: string,
  account: string,
  opts: { connection?: string },
): Promise<void> {
  const db = await openDatabase(ctx);
  let r;
  try {
    r = await replayUnrouted(db, integration, account, opts.connection);
  } catch (error) {
    if (error instanceof UnroutedReplayError) throw new UsageError(error.message);
    throw error;
  }
  const out = { integration, account, connection: r.connection, moved: r.moved };
  print(ctx, out, () => [
    r.moved === 0
      ? `no events of ${integration} account ${account} were waiting`
      : `${r.moved} event${r.moved === 1 ? '' : 's'} of account ${account} moved to ${integration}/${r.connection}; the dispatcher hands them to Temporal next`,
    ...(r.connectionAccount === account
      ? []
      : [
          `note: ${integration}/${r.connection} does not have account ${account}, so later events of it still wait as unrouted (connection add --account ${account} routes them)`,
        ]),
  ]);
}

/**
 * `webhooks reconcile <integration> <connection> [resource...]`: the reconciling incremental syncs now,
 * of the named resources or of the spec's `webhooks.reconcile`.
 */
export async function webhooksReconcileCommand(
  ctx: CliContext,
  integration: string,
  connection: string,
  resources: string[],
  opts: { specs?: string },
): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  const spec = integrationSpec(specs, integration);
  for (const r of resources) {
    const res = spec.resources[r];
    if (!res)
      throw new UsageError(
        `resource "${r}": ${integration} has no such resource (it has: ${Object.keys(spec.resources).join(', ')})`,
      );
    if (!res.incremental)
      throw new UsageError(`resource "${r}": ${integration}/${r} has no incremental sync to reconcile with`);
  }
  const named = resources.length > 0;
  const declared = spec.webhooks?.reconcile ?? [];
  if (!named && declared.length === 0)
    throw new UsageError(
      `${integration} declares no webhooks.reconcile resources: name the resources to reconcile (webhooks reconcile ${integration} ${connection} <resource>)`,
    );
  const db = await openDatabase(ctx);
  if (!(await listConnections(db, integration)).some((c) => c.id === connection))
    throw new UsageError(`no connection ${integration}/${connection} (see connection list)`);
  const { client, taskQueue } = await openTemporal(ctx);
  const reason = 'asked by an operator (syncwright webhooks reconcile)';
  const started = named ? resources : declared;
  if (named) {
    // Named resources: their syncs here (the subscription workflow reconciles its declared list).
    for (const resource of resources)
      await startSync(
        client,
        { integration, connection, resource, kind: 'incremental' },
        { taskQueue, attach: true },
      );
  } else {
    const [target] = reconcileTargets(specs, [{ integration, id: connection }]);
    await reconcileConnection(client, target!, taskQueue, reason);
  }
  const workflows = started.map((resource) => syncWorkflowId({ integration, connection, resource }));
  print(ctx, { integration, connection, resources: started, workflows }, () => [
    `reconciling ${integration}/${connection}: incremental sync of ${started.join(', ')}`,
    ...workflows.map((w) => `  ${w}`),
  ]);
}

/** `webhooks gaps`: skipped delivery sequences found, newest first. */
export async function gapsCommand(
  ctx: CliContext,
  opts: { integration?: string; connection?: string; pending?: boolean; limit: number },
): Promise<void> {
  const db = await openDatabase(ctx);
  const gaps = await listSequenceGaps(db, opts);
  print(ctx, gaps, () =>
    linesOr(
      gaps,
      (g) =>
        `${g.detectedAt.toISOString()}  ${g.integration}/${g.connection}${g.scope ? ` (${g.scope})` : ''}  ` +
        `${g.from === g.to ? g.from : `${g.from}-${g.to}`}  ` +
        (g.reconciledAt ? `reconciled ${g.reconciledAt.toISOString()}` : 'reconciliation pending'),
      'no sequence gaps',
    ),
  );
}
