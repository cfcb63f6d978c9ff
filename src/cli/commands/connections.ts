/** `syncwright connections add | list | remove`. */
import { listConnections } from '../../store/connections.js';
import {
  addConnection,
  configFromStrings,
  ConnectionConfigError,
  connectionProblems,
  removeConnection,
} from '../../sync/connections.js';
import { listSubscriptions } from '../../webhooks/subscriptions.js';
import { openDatabase, openTemporal, UsageError, type CliContext } from '../context.js';
import { connectionLine, linesOr, print } from '../output.js';
import { integrationSpec, pairs, secretBox, specsFor } from './shared.js';

export async function connectionAddCommand(
  ctx: CliContext,
  integration: string,
  opts: { id: string; config: string[]; secret: string[]; account?: string | undefined; specs?: string },
): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  const spec = integrationSpec(specs, integration);
  const config = configFromStrings(spec, pairs(opts.config, 'config'));
  const secrets = pairs(opts.secret, 'secret');
  const input = {
    integration,
    id: opts.id,
    config,
    secrets,
    ...(opts.account !== undefined ? { account: opts.account } : {}),
  };
  // Checked before the key and the database are needed; addConnection checks again.
  const problems = connectionProblems(spec, input);
  if (problems.length)
    throw new UsageError(new ConnectionConfigError(`${integration}/${opts.id}`, problems).message);
  const box = await secretBox(ctx);
  await addConnection(await openDatabase(ctx), box, spec, input);
  if (spec.webhooks?.subscription) {
    // The provider's subscription is kept by a workflow: subscribe now, renew before each expiry.
    const { client, taskQueue } = await openTemporal(ctx);
    // Loaded here: Temporal's client is most of a start's time, and `connection list` never needs it.
    const { startWebhookSubscription } = await import('../../temporal/subscription-client.js');
    await startWebhookSubscription(client, spec, opts.id, { taskQueue });
    ctx.out(`webhook subscription workflow webhook-subscription:${integration}:${opts.id} started`);
  }
  print(
    ctx,
    { integration, id: opts.id, config, secrets: Object.keys(secrets), account: opts.account ?? null },
    () => [
      `connection ${integration}/${opts.id} saved (${Object.keys(secrets).length} secret(s), encrypted)` +
        (opts.account !== undefined ? `, provider account ${opts.account}` : ''),
    ],
  );
}

export async function connectionListCommand(ctx: CliContext, opts: { integration?: string }): Promise<void> {
  const db = await openDatabase(ctx);
  const subscriptions = new Map(
    (await listSubscriptions(db, opts.integration)).map((s) => [`${s.integration}/${s.connection}`, s]),
  );
  const list = (await listConnections(db, opts.integration)).map((c) => ({
    ...c,
    subscription: subscriptions.get(`${c.integration}/${c.id}`) ?? null,
  }));
  print(ctx, list, () =>
    linesOr(
      list,
      (c) =>
        connectionLine(c) +
        (c.subscription
          ? `  subscription ${c.subscription.subscriptionId} expires ${c.subscription.expiresAt?.toISOString() ?? 'never'} (renewed ${c.subscription.renewals}×)`
          : ''),
      'no connections',
    ),
  );
}

export async function connectionRemoveCommand(
  ctx: CliContext,
  integration: string,
  id: string,
): Promise<void> {
  const db = await openDatabase(ctx);
  // Unsubscribe at the provider first: the request needs the connection's credentials.
  if ((await listSubscriptions(db, integration)).some((s) => s.connection === id)) {
    const { client } = await openTemporal(ctx);
    const { removeWebhookSubscription } = await import('../../temporal/subscription-client.js');
    if (await removeWebhookSubscription(client, integration, id))
      ctx.out(`webhook subscription of ${integration}/${id} removed at the provider`);
  }
  if (!(await removeConnection(db, integration, id)))
    throw new UsageError(`no connection ${integration}/${id}`);
  ctx.out(`connection ${integration}/${id} removed, with its OAuth2 tokens and rate state`);
}
