import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SubscriptionState } from '../activities/subscriptions.js';
import { SUBSCRIPTION_GONE_TYPE } from './subscription-failure.js';
import { syncWorkflowId } from '../src/sync/types.js';
import {
  SyncConnection,
  SyncIntegration,
  SyncKind,
  SyncResource,
} from '../src/temporal/search-attributes.js';
import {
  lifecycleSignal,
  reconcileSignal,
  removeSubscriptionSignal,
  subscriptionQuery,
  type LifecycleRequest,
  type SubscriptionView,
} from './definitions.js';
import type { syncResource } from './sync-resource.js';

export interface WebhookSubscriptionInput {
  integration: string;
  connection: string;
  /** From the spec (webhooks.subscription.renewBeforeSeconds), so the workflow reads no spec. */
  renewBeforeSeconds: number;
  /** Resources whose incremental sync reconciles the webhooks (webhooks.reconcile). */
  reconcile: string[];
  /** Carried when continuing as new. */
  state?: SubscriptionState & { renewals: number };
}

export type WebhookSubscriptionResult = { outcome: 'removed'; subscriptionId: string };

const { subscribeWebhook, renewWebhookSubscription, unsubscribeWebhook } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [SUBSCRIPTION_GONE_TYPE, 'SubscriptionAnswer', 'SpecError'],
  },
});

/**
 * The `lifecycle` signal. A history recorded before it existed may hold one its code ignored; the patch
 * keeps such a history replaying as it ran.
 */
const LIFECYCLE_PATCH = 'subscription-lifecycle-signal';

/** Renewals per execution before continuing as new (the history stays small). */
const RENEWALS_PER_EXECUTION = 100;

/**
 * Keeps a connection's webhook subscription at the provider (`webhook-subscription:<integration>:
 * <connection>`): subscribes, renews `renewBeforeSeconds` before each expiry on a durable timer, and
 * unsubscribes when signalled `removeSubscription`. A subscription that lapsed (the renewal came after
 * the expiry, say the workers were down) or that the provider no longer has is created again, and the
 * `reconcile` resources get an incremental sync covering the events that were never delivered.
 */
export async function webhookSubscription(
  input: WebhookSubscriptionInput,
): Promise<WebhookSubscriptionResult> {
  const target = { integration: input.integration, connection: input.connection };
  let removing = false;
  let reconcileAsked: string | null = null;
  let lifecycleAsked: LifecycleRequest | null = null;
  const view: SubscriptionView = {
    subscriptionId: input.state?.subscriptionId ?? null,
    expiresAt: input.state?.expiresAt ?? null,
    renewAt: null,
    renewals: input.state?.renewals ?? 0,
    reconciliations: [],
    removing: false,
  };
  setHandler(subscriptionQuery, () => view);
  setHandler(removeSubscriptionSignal, () => {
    removing = true;
    view.removing = true;
  });
  setHandler(reconcileSignal, (reason) => {
    reconcileAsked = reason ?? 'asked';
  });
  setHandler(lifecycleSignal, (request) => {
    if (!patched(LIFECYCLE_PATCH)) return;
    // A resubscription asked for covers a renewal asked for as well.
    if (lifecycleAsked?.action !== 'resubscribe') lifecycleAsked = request;
  });

  const adopt = (s: SubscriptionState) => {
    view.subscriptionId = s.subscriptionId;
    view.expiresAt = s.expiresAt;
  };

  /** Starts the reconciling incremental syncs; one already running covers the gap as well. */
  async function reconcile(reason: string): Promise<void> {
    if (input.reconcile.length === 0) return;
    log.info('reconciling webhooks with incremental syncs', { reason, resources: input.reconcile });
    for (const resource of input.reconcile) {
      const sync = { ...target, resource, kind: 'incremental' as const };
      try {
        await startChild<typeof syncResource>('syncResource', {
          workflowId: syncWorkflowId(sync),
          args: [sync],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          staticSummary: `incremental sync of ${sync.integration} / ${sync.connection} / ${resource} reconciling webhooks (${reason})`,
          typedSearchAttributes: [
            { key: SyncIntegration, value: sync.integration },
            { key: SyncConnection, value: sync.connection },
            { key: SyncResource, value: resource },
            { key: SyncKind, value: 'incremental' },
          ],
        });
      } catch (error) {
        if (!(error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError')) throw error;
      }
    }
    view.reconciliations.push({ at: new Date().toISOString(), reason, resources: [...input.reconcile] });
  }

  if (!input.state) adopt(await subscribeWebhook(target));
  let renewalsHere = 0;

  while (!workflowInfo().continueAsNewSuggested && renewalsHere < RENEWALS_PER_EXECUTION) {
    const expiresMs = view.expiresAt === null ? null : Date.parse(view.expiresAt);
    const renewMs = expiresMs === null ? null : expiresMs - input.renewBeforeSeconds * 1000;
    view.renewAt = renewMs === null ? null : new Date(renewMs).toISOString();
    const interrupted = () => removing || reconcileAsked !== null || lifecycleAsked !== null;
    if (renewMs === null) await condition(interrupted);
    else if (renewMs > Date.now()) await condition(interrupted, renewMs - Date.now());

    if (removing) {
      await unsubscribeWebhook({ ...target, subscriptionId: view.subscriptionId! });
      return { outcome: 'removed', subscriptionId: view.subscriptionId! };
    }
    if (reconcileAsked !== null) {
      const reason: string = reconcileAsked;
      reconcileAsked = null;
      await reconcile(reason);
      continue;
    }
    // Set by the signal handler while waiting (the compiler cannot see that).
    const asked = lifecycleAsked as LifecycleRequest | null;
    lifecycleAsked = null;
    if (asked?.action === 'resubscribe') {
      // The provider removed it: events since then were never sent.
      adopt(await subscribeWebhook(target));
      await reconcile(asked.reason);
      continue;
    }
    // Otherwise the timer is due, or `renew` was asked: renew now.
    if (expiresMs !== null && Date.now() >= expiresMs) {
      // Renewing too late: events since the expiry were never sent.
      adopt(await subscribeWebhook(target));
      await reconcile('the subscription lapsed');
      continue;
    }
    try {
      adopt(await renewWebhookSubscription({ ...target, subscriptionId: view.subscriptionId! }));
      view.renewals++;
      renewalsHere++;
    } catch (error) {
      // Matched by type: an activity's failure arrives as the cause of an ActivityFailure.
      const cause = error instanceof ActivityFailure ? error.cause : error;
      if (!(cause instanceof ApplicationFailure && cause.type === SUBSCRIPTION_GONE_TYPE)) throw error;
      adopt(await subscribeWebhook(target));
      await reconcile('the provider no longer had the subscription');
    }
  }
  const state = { subscriptionId: view.subscriptionId!, expiresAt: view.expiresAt, renewals: view.renewals };
  return continueAsNew<typeof webhookSubscription>({ ...input, state });
}
