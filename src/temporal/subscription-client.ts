/**
 * Starting, steering and reading the webhook subscription workflow of a connection
 * (`webhook-subscription:<integration>:<connection>`), from `connection add` / `remove` and tests.
 */
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { IntegrationSpec } from '../spec/schema.js';
import type { webhookSubscription } from '../../workflows/webhook-subscription.js';
import {
  lifecycleSignal,
  reconcileSignal,
  removeSubscriptionSignal,
  subscriptionQuery,
  type LifecycleRequest,
  type SubscriptionView,
} from '../../workflows/definitions.js';
import { SyncConnection, SyncIntegration } from './search-attributes.js';

export const subscriptionWorkflowId = (integration: string, connection: string) =>
  `webhook-subscription:${integration}:${connection}`;

/** Starts the workflow, or leaves the running one be (a replaced connection keeps its subscription). */
export async function startWebhookSubscription(
  client: Client,
  spec: IntegrationSpec,
  connection: string,
  options: { taskQueue: string },
) {
  const subscription = spec.webhooks?.subscription;
  if (!subscription) return undefined;
  return client.workflow.start<typeof webhookSubscription>('webhookSubscription', {
    workflowId: subscriptionWorkflowId(spec.id, connection),
    taskQueue: options.taskQueue,
    args: [
      {
        integration: spec.id,
        connection,
        renewBeforeSeconds: subscription.renewBeforeSeconds,
        reconcile: spec.webhooks!.reconcile,
      },
    ],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: `webhook subscription of ${spec.id} / ${connection}`,
    typedSearchAttributes: [
      { key: SyncIntegration, value: spec.id },
      { key: SyncConnection, value: connection },
    ],
  });
}

/**
 * Unsubscribes at the provider and waits for the workflow to end; run it before the connection (and
 * the credentials the request needs) is removed. False when there was no running subscription.
 */
export async function removeWebhookSubscription(
  client: Client,
  integration: string,
  connection: string,
): Promise<boolean> {
  const handle = client.workflow.getHandle<typeof webhookSubscription>(
    subscriptionWorkflowId(integration, connection),
  );
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') return false;
    await handle.signal(removeSubscriptionSignal);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
  await handle.result();
  return true;
}

/** Starts the reconciling syncs now (e.g. after the receiver was down). */
export async function reconcileWebhooks(
  client: Client,
  integration: string,
  connection: string,
  reason: string,
) {
  await client.workflow
    .getHandle(subscriptionWorkflowId(integration, connection))
    .signal(reconcileSignal, reason);
}

/** Renews the subscription now, or subscribes again and reconciles (a lifecycle notification). */
export async function signalLifecycle(
  client: Client,
  integration: string,
  connection: string,
  request: LifecycleRequest,
) {
  await client.workflow
    .getHandle(subscriptionWorkflowId(integration, connection))
    .signal(lifecycleSignal, request);
}

export async function subscriptionState(
  client: Client,
  integration: string,
  connection: string,
): Promise<SubscriptionView> {
  return client.workflow.getHandle(subscriptionWorkflowId(integration, connection)).query(subscriptionQuery);
}
