/** `syncwright worker` and `syncwright up` (the local stack: Postgres, Temporal, a worker and webhooks). */
import { SpecError } from '../../spec/errors.js';
import { startLocalStack } from '../../stack/local-stack.js';
import { removeStackFile, writeStackFile } from '../../stack/stack-file.js';
import { workerPoolSize } from '../../temporal/worker.js';
import { installSdkLogger, openDatabase, openTemporal, type CliContext } from '../context.js';
import { reconnecting, runWorker, startWebhooks } from './services.js';
import { secretBox, specsFor } from './shared.js';

export async function workerCommand(ctx: CliContext, opts: { specs?: string }): Promise<void> {
  await installSdkLogger(ctx);
  const specs = await specsFor(ctx, opts.specs);
  const db = await openDatabase(ctx, workerPoolSize());
  const { taskQueue, address } = await openTemporal(ctx);
  const worker = await runWorker(ctx, db, specs, await secretBox(ctx), address, taskQueue);
  ctx.scope.add('worker', () => worker.shutdown());
  ctx.out(`worker polling "${taskQueue}" with ${specs.size} integration(s): ${[...specs.keys()].join(', ')}`);
  await Promise.race([ctx.scope.untilSignal(), worker.done]);
}

export async function upCommand(ctx: CliContext, opts: { specs?: string }): Promise<void> {
  await installSdkLogger(ctx);
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
