/**
 * Starting the reconciling incremental syncs (`webhooks.reconcile`): of every connection after the
 * receiver was down, of one connection after its event sequence skipped or when an operator asks. A
 * connection with a subscription workflow is signalled `reconcile`, so the workflow starts them and
 * lists the reconciliation; others get the syncs started here. Either way a sync already running
 * covers the gap as well.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { IntegrationSpec } from '../spec/schema.js';
import { listConnections } from '../store/connections.js';
import type { Db, DbOrTx } from '../store/db.js';
import { INTEGRATION_SCOPE } from '../webhooks/inbox-writer.js';
import { handOverSequenceGaps, type SequenceGap } from '../webhooks/sequence-store.js';
import type { LifecycleHandOver } from '../webhooks/receiver.js';
import { reconcileWebhooks, signalLifecycle, startWebhookSubscription } from './subscription-client.js';
import { startSync } from './sync-client.js';

export interface ReconcileTarget {
  integration: string;
  connection: string;
  resources: string[];
  /** The spec declares `webhooks.subscription`: its workflow starts the syncs. */
  viaSubscription: boolean;
}

/** Pure: the connections whose integration declares reconciling resources. */
export function reconcileTargets(
  specs: ReadonlyMap<string, IntegrationSpec>,
  connections: readonly { integration: string; id: string }[],
): ReconcileTarget[] {
  return connections.flatMap((c) => {
    const webhooks = specs.get(c.integration)?.webhooks;
    if (!webhooks || webhooks.reconcile.length === 0) return [];
    return [
      {
        integration: c.integration,
        connection: c.id,
        resources: [...webhooks.reconcile],
        viaSubscription: webhooks.subscription !== undefined,
      },
    ];
  });
}

/** Starts every reconciliation; returns the connections reconciled. */
export async function startReconciliations(
  client: Client,
  db: DbOrTx,
  specs: ReadonlyMap<string, IntegrationSpec>,
  taskQueue: string,
  reason: string,
): Promise<ReconcileTarget[]> {
  const targets = reconcileTargets(specs, await listConnections(db));
  for (const t of targets) await reconcileConnection(client, t, taskQueue, reason);
  return targets;
}

/**
 * Starts one connection's reconciliation: through its subscription workflow when it has one, else the
 * incremental syncs of `resources` here (attached to one already running).
 */
export async function reconcileConnection(
  client: Client,
  t: ReconcileTarget,
  taskQueue: string,
  reason: string,
): Promise<void> {
  if (t.viaSubscription) {
    try {
      await reconcileWebhooks(client, t.integration, t.connection, reason);
      return;
    } catch (error) {
      // No running subscription workflow (removed, or never started): start the syncs here.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  for (const resource of t.resources)
    await startSync(
      client,
      { integration: t.integration, connection: t.connection, resource, kind: 'incremental' },
      { taskQueue, attach: true },
    );
}

/** What a skipped sequence is called in a reconciliation's reason. */
export function sequenceGapReason(gaps: readonly SequenceGap[]): string {
  const ranges = gaps
    .slice(0, 5)
    .map((g) => (g.from === g.to ? g.from : `${g.from}-${g.to}`) + (g.scope ? ` (${g.scope})` : ''));
  const more = gaps.length > 5 ? ` and ${gaps.length - 5} more` : '';
  return `the webhook sequence skipped ${ranges.join(', ')}${more}`;
}

/**
 * Starts the reconciliation of every connection whose event sequence skipped and marks its gaps
 * reconciled. Only gaps of the integrations loaded here (another receiver may serve the others); a
 * removed connection's gaps are marked with nothing to start.
 */
export async function reconcileSequenceGaps(
  client: Client,
  db: Db,
  specs: ReadonlyMap<string, IntegrationSpec>,
  taskQueue: string,
  /** Runs after a connection's reconciliation started, before its gaps are marked (e.g. a notification). */
  onReconciled?: (integration: string, connection: string, gaps: SequenceGap[]) => Promise<void>,
): Promise<{ integration: string; connection: string; gaps: SequenceGap[] }[]> {
  const integrations = [...specs.values()].filter((s) => s.webhooks?.sequence).map((s) => s.id);
  if (integrations.length === 0) return [];
  const connections = await listConnections(db);
  return handOverSequenceGaps(db, integrations, async (integration, connection, gaps) => {
    // '*': numbered across the integration's tenants, so any of them may have lost events.
    const targets = reconcileTargets(
      specs,
      connections.filter(
        (c) => c.integration === integration && (connection === INTEGRATION_SCOPE || c.id === connection),
      ),
    );
    for (const target of targets)
      await reconcileConnection(client, target, taskQueue, sequenceGapReason(gaps));
    if (targets.length > 0) await onReconciled?.(integration, connection, gaps);
  });
}

/**
 * Carries out a lifecycle notification (`webhooks.lifecycle`): `reconcile` like a sequence gap;
 * `renew` and `resubscribe` through the connection's subscription workflow. Without a running one
 * (say it failed for good), it is started: a new subscription, and reconciled after a removal.
 */
export async function handOverLifecycle(
  client: Client,
  specs: ReadonlyMap<string, IntegrationSpec>,
  taskQueue: string,
  request: LifecycleHandOver,
): Promise<void> {
  const spec = specs.get(request.integration);
  if (!spec?.webhooks) return;
  const reason = `lifecycle notification ${request.events.map((e) => JSON.stringify(e)).join(', ')}`;
  const target: ReconcileTarget = {
    integration: request.integration,
    connection: request.connection,
    resources: [...spec.webhooks.reconcile],
    viaSubscription: spec.webhooks.subscription !== undefined,
  };
  if (request.action === 'reconcile') return reconcileConnection(client, target, taskQueue, reason);
  try {
    await signalLifecycle(client, request.integration, request.connection, {
      action: request.action,
      reason,
    });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    await startWebhookSubscription(client, spec, request.connection, { taskQueue });
    if (request.action === 'resubscribe') await reconcileConnection(client, target, taskQueue, reason);
  }
}
