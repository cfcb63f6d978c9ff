/** The long-running services the CLI starts: a worker, and the webhook receiver with its dispatcher. */
import type { Client } from '@temporalio/client';
import { createActivities } from '../../../activities/index.js';
import type { IntegrationSpec } from '../../spec/schema.js';
import type { Db } from '../../store/db.js';
import type { SecretBox } from '../../store/secret-box.js';
import { connectClient } from '../../temporal/client.js';
import { startWorker } from '../../temporal/worker.js';
import {
  startWebhookService,
  type WebhookService,
  type WebhookServiceOptions,
} from '../../temporal/webhook-service.js';
import { UsageError, type CliContext } from '../context.js';

export function runWorker(
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
    current = await connectClient(address, namespace);
    return current;
  };
}

/**
 * The webhook service on SYNCWRIGHT_WEBHOOK_HOST/PORT. When the default port is taken another free one
 * is used, as for the other local services; a port asked for in SYNCWRIGHT_WEBHOOK_PORT is not replaced.
 */
export async function startWebhooks(
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
