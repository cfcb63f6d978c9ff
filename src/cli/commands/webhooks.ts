/** `syncwright webhooks serve`, `events` and `events replay`. */
import { serveMetrics, watchInbox } from '../metrics.js';
import { startCliTracing } from '../tracing.js';
import type { WebhookEventStatus } from '../../store/tables.js';
import { listEvents, replayEvent, ReplayError } from '../../webhooks/inbox-queries.js';
import { openDatabase, temporalTarget, UsageError, type CliContext } from '../context.js';
import { eventLine, linesOr, print } from '../output.js';
import { reconnecting, startWebhooks } from './services.js';
import { secretBox, specsFor } from './shared.js';

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
