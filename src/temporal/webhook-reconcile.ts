/**
 * Starting the reconciling incremental syncs (`webhooks.reconcile`) of every connection after the
 * receiver was down. A connection with a subscription workflow is signalled `reconcile`, so the
 * workflow starts them and lists the reconciliation; others get the syncs started here. Either way a
 * sync already running covers the gap as well.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { IntegrationSpec } from '../spec/schema.js';
import { listConnections } from '../store/connections.js';
import type { DbOrTx } from '../store/db.js';
import { reconcileWebhooks } from './subscription-client.js';
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
  for (const t of targets) {
    if (t.viaSubscription) {
      try {
        await reconcileWebhooks(client, t.integration, t.connection, reason);
        continue;
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
  return targets;
}
