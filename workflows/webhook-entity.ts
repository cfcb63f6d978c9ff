import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { NON_RETRYABLE_TYPES } from '../activities/failure-types.js';
import type { Activities } from '../activities/index.js';
import type { EntityTarget } from '../src/webhooks/apply.js';
import { webhookEventSignal } from './definitions.js';

export interface WebhookEntityInput extends EntityTarget {
  /** Inbox ids signalled but not yet applied, carried over continue-as-new. */
  pending?: number[];
  /** Events handled per run before continuing as new (default EVENTS_PER_RUN). */
  eventsPerRun?: number;
}

// The activity beats every third of the heartbeat timeout, also during a refetch, so the heartbeat timeout
// need not exceed the spec's request timeout (30 s by default).
const timeouts = { startToCloseTimeout: '2 minutes', heartbeatTimeout: '10 seconds' } as const;
const { applyWebhookEvents, failWebhookEvents } = proxyActivities<Activities>({
  ...timeouts,
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 6,
    nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
  },
});
/** The last pass over a batch whose retries are spent: once, failing only the events that still fail. */
const { applyWebhookEvents: applyWhatCan } = proxyActivities<Activities>({
  ...timeouts,
  retry: { maximumAttempts: 1 },
});

/** Marks runs that take a last single-attempt pass over a batch whose retries are spent. */
const LAST_PASS_PATCH = 'webhook-last-pass';

/** Events applied per run before continuing as new, to keep the history short. */
export const EVENTS_PER_RUN = 500;
/** A workflow with nothing to do ends after this; the next event starts it again (signalWithStart). */
const IDLE = '1 minute';
const BATCH = 100;

const failureMessage = (error: unknown): string =>
  error instanceof ActivityFailure && error.cause
    ? error.cause.message
    : error instanceof Error
      ? error.message
      : 'activity failed';

/**
 * One entity's webhook events (`webhook:<integration>:<connection>:<resource>:<entity id>`), applied
 * one batch at a time, so events of an entity never race each other. The apply activity orders a
 * batch by the provider's order key and ignores events older than the entity's last applied one.
 */
export async function webhookEntity(input: WebhookEntityInput): Promise<{ applied: number }> {
  const pending: number[] = [...(input.pending ?? [])];
  setHandler(webhookEventSignal, ({ ids = [], id }) => {
    // Handed over twice (the dispatcher re-dispatches when unsure, an operator replays): the apply step
    // skips events that are no longer pending, so only a copy already waiting here is dropped.
    for (const e of id === undefined ? ids : [...ids, id]) if (!pending.includes(e)) pending.push(e);
  });
  const target: EntityTarget = {
    integration: input.integration,
    connection: input.connection,
    resource: input.resource,
    entityKey: input.entityKey,
  };
  let handled = 0;
  for (;;) {
    if (!(await condition(() => pending.length > 0, IDLE))) return { applied: handled };
    const ids = pending.splice(0, BATCH);
    setCurrentDetails(
      `applying ${ids.length} event(s) to ${input.resource} ${input.entityKey}; ${handled} so far`,
    );
    try {
      await applyWebhookEvents({ ...target, ids });
    } catch (error) {
      // Retries spent (the provider down for a refetch, say): apply what can be applied, so one event that
      // keeps failing does not take the entity's others with it. Patched: runs started before this pass
      // existed replay their failure path as it was.
      let failure: unknown = error;
      let settled = false;
      if (patched(LAST_PASS_PATCH)) {
        try {
          await applyWhatCan({ ...target, ids, isolateFailures: true });
          settled = true;
        } catch (again) {
          failure = again;
        }
      }
      if (!settled) await failWebhookEvents({ ids, message: failureMessage(failure) });
    }
    handled += ids.length;
    if (handled >= (input.eventsPerRun ?? EVENTS_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof webhookEntity>({
        ...target,
        pending,
        ...(input.eventsPerRun ? { eventsPerRun: input.eventsPerRun } : {}),
      });
    }
  }
}
