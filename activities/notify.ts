/**
 * Operator notifications: starting their delivery workflow (from an activity or the worker), and the
 * delivery itself — a POST signed in the Standard Webhooks format with the project's own signer.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { NotifyTarget, OperatorEvent } from '../src/sync/notifications.js';
import { signatureSchema } from '../src/spec/webhooks-schema.js';
import { signWebhook } from '../src/webhooks/signatures.js';

const SCHEME = signatureSchema.parse({ scheme: 'standard-webhooks', secrets: ['notify'] });

/**
 * Starts `notifyOperator` for the event under `notify:<event id>`; an id already used (a retried
 * activity, a second worker noticing the same stale resource) starts nothing.
 */
export async function startNotification(
  client: Client,
  taskQueue: string,
  event: OperatorEvent,
): Promise<void> {
  try {
    await client.workflow.start('notifyOperator', {
      workflowId: `notify:${event.id}`,
      taskQueue,
      args: [event],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `notify ${event.type}: ${[event.data.integration, event.data.connection, event.data.resource ?? event.data.subscriptionId].filter(Boolean).join(' / ')}`,
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError') return;
    throw error;
  }
}

export function createNotifyActivities(target: NotifyTarget | undefined) {
  return {
    /** POSTs the event; anything but a 2xx is retried (by the workflow's policy). */
    async deliverNotification(event: OperatorEvent): Promise<{ status: number | null }> {
      if (!target) return { status: null }; // Not configured on this worker: nothing to send.
      const body = JSON.stringify(event);
      const headers = signWebhook(SCHEME, target.secret, body, { id: event.id });
      let response: Response;
      try {
        response = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        await response.arrayBuffer();
      } catch (error) {
        throw ApplicationFailure.retryable(
          `notification ${event.type} to ${new URL(target.url).origin} failed: ${error instanceof Error ? error.message : String(error)}`,
          'NotificationUnreachable',
        );
      }
      if (!response.ok)
        throw ApplicationFailure.retryable(
          `notification ${event.type}: ${new URL(target.url).origin} answered ${response.status}`,
          'NotificationRefused',
        );
      return { status: response.status };
    },
  };
}
