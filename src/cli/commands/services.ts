/** The long-running services the CLI starts: a worker, and the webhook receiver with its dispatcher. */
import type { Client } from '@temporalio/client';
import { createActivities } from '../../../activities/index.js';
import type { IntegrationSpec } from '../../spec/schema.js';
import type { Db } from '../../store/db.js';
import type { SecretBox } from '../../store/secret-box.js';
import { connectClient } from '../../temporal/client.js';
import { startWorker } from '../../temporal/worker.js';
import { applyWorkerHeapGrowth } from '../../temporal/worker-heap.js';
import {
  startWebhookService,
  type WebhookService,
  type WebhookServiceOptions,
} from '../../temporal/webhook-service.js';
import type { NotifyTarget } from '../../sync/notifications.js';
import type { Tracing } from '../../tracing/setup.js';
import { UsageError, type CliContext } from '../context.js';
import { parseAge } from './status.js';

export function runWorker(
  ctx: CliContext,
  db: Db,
  specs: Map<string, IntegrationSpec>,
  box: SecretBox,
  address: string,
  taskQueue: string,
  tracing?: Tracing,
) {
  const notify = notifyTarget(ctx);
  const staleAfter = ctx.config.notify.staleAfter;
  applyWorkerHeapGrowth(ctx.config.workerHeapGrowingPercent);
  return startWorker({
    address,
    namespace: ctx.config.temporal.namespace,
    taskQueue,
    activities: createActivities({ db, specs, secretBox: box, env: process.env, log: ctx.log, notify }),
    maintenance: { db, onError: (error) => ctx.log.warn({ err: error }, 'rate ledger pruning failed') },
    ...(tracing ? { tracing } : {}),
    ...(notify && staleAfter
      ? {
          staleWatch: {
            db,
            staleAfterMs: parseAge(staleAfter, 'SYNCWRIGHT_NOTIFY_STALE_AFTER') * 1000,
            onError: (error: unknown) => ctx.log.warn({ err: error }, 'stale-resource check failed'),
          },
        }
      : {}),
  });
}

/** SYNCWRIGHT_NOTIFY_URL and its signing secret, or nothing; a URL without a secret is refused. */
export function notifyTarget(ctx: CliContext): NotifyTarget | undefined {
  const { url, secret, staleAfter } = ctx.config.notify;
  if (!url) {
    if (staleAfter)
      throw new UsageError('SYNCWRIGHT_NOTIFY_STALE_AFTER is set but SYNCWRIGHT_NOTIFY_URL is not');
    return undefined;
  }
  if (!secret || !/^whsec_[A-Za-z0-9+/=]{16,}$/.test(secret))
    throw new UsageError(
      'SYNCWRIGHT_NOTIFY_URL is set: SYNCWRIGHT_NOTIFY_SECRET must be its signing secret, whsec_ followed by base64 (e.g. whsec_$(openssl rand -base64 24))',
    );
  return { url, secret };
}

/**
 * The dispatcher's way to (re)connect to Temporal: it asks again after a failure, so the client it
 * gave up on is closed first, and the last one when the command ends.
 */
export function reconnecting(ctx: CliContext, address: string, namespace: string): () => Promise<Client> {
  let current: Client | undefined;
  const closeCurrent = async () => {
    const old = current;
    current = undefined;
    await old?.connection.close().catch(() => undefined);
  };
  ctx.scope.add('temporal client', closeCurrent);
  return async () => {
    await closeCurrent();
    // With tracing on (SYNCWRIGHT_TRACING_URL), the dispatcher's signals carry each webhook's trace.
    current = await connectClient(address, namespace, Boolean(ctx.config.tracingUrl));
    return current;
  };
}

/**
 * The webhook service on SYNCWRIGHT_WEBHOOK_HOST/PORT. When the default port is taken another free one
 * is used, as for the other local services; a port asked for in SYNCWRIGHT_WEBHOOK_PORT is not replaced.
 */
export async function startWebhooks(
  ctx: CliContext,
  options: Omit<WebhookServiceOptions, 'host' | 'port' | 'gapMs'> & { gapMs?: number },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<WebhookService> {
  const { host, port, gap } = ctx.config.webhooks;
  // Notifications are sent by the workers' notifyOperator workflow; the service only starts it.
  options = { ...options, notify: options.notify ?? Boolean(ctx.config.notify.url) };
  if (gap) options = { ...options, gapMs: parseAge(gap, 'SYNCWRIGHT_WEBHOOK_GAP') * 1000 };
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
