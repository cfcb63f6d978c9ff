import { ApplicationFailure, Context } from '@temporalio/activity';
import { ProviderError } from '../src/http/errors.js';
import { databaseNow } from '../src/store/runs.js';
import type { ConnectionClient, OpenConnectionClient } from '../src/sync/connection-client.js';
import { valueAtPath } from '../src/json/path.js';
import { lookupResource } from '../src/spec/registry.js';
import {
  applyChange,
  changeFromPayload,
  failEvents,
  loadPending,
  type Change,
  type EntityTarget,
  type Outcome,
  type PendingRow,
} from '../src/webhooks/apply.js';
import type { EngineDeps } from '../src/sync/deps.js';
import { toFailure } from './failures.js';
import { whileBeating } from './heartbeat.js';
import { recordApplyOutcome } from './webhook-metrics.js';
import { inSpan } from '../src/tracing/spans.js';

export interface WebhookActivityDeps extends Pick<EngineDeps, 'db' | 'specs'> {
  openClient: OpenConnectionClient;
}

export interface ApplyEventsInput extends EntityTarget {
  ids: number[];
  /** The workflow's last pass: an event whose change cannot be read (provider error) fails alone. */
  isolateFailures?: boolean;
}

export type ApplyEventsResult = Record<Outcome, number>;

export function createWebhookActivities({ db, specs, openClient }: WebhookActivityDeps) {
  /**
   * What an event does to its entity, by the spec as loaded now (the inbox keeps the action decided at
   * receipt; the details — record path, refetch endpoint — come from the spec). A refetch asks the API,
   * rate-limited like any request.
   */
  async function changeOf(
    target: EntityTarget,
    event: PendingRow,
    client: () => Promise<ConnectionClient>,
  ): Promise<Change> {
    const { spec, resource } = lookupResource(specs, target.integration, target.resource);
    if (event.action === 'delete') return { kind: 'delete' };
    const action = spec.webhooks?.events[event.eventType] ?? spec.webhooks?.events['*'];
    if (!action || action.action !== event.action)
      return { kind: 'fail', reason: `the spec no longer says to ${event.action} ${event.eventType} events` };
    if (action.action === 'upsert')
      return changeFromPayload(resource, valueAtPath(event.payload, action.record));
    if (action.action !== 'refetch') return { kind: 'fail', reason: `nothing to apply for ${event.action}` };
    const api = await client();
    const url = api.urlFor(api.fillPath(action.path, { id: target.entityKey }));
    // Taken before the request: what a sync fetched after it is newer than this answer (apply.ts).
    const fetchedAt = await databaseNow(db);
    try {
      const ctx = Context.current();
      // Beats while the request is in flight: it may take longer than the heartbeat timeout.
      const response = await whileBeating(ctx, { refetching: target.entityKey }, () =>
        api.request({
          url,
          method: 'GET',
          cost: resource.requestCost,
          resource: target.resource,
          signal: ctx.cancellationSignal,
          onWait: (ms, reason) => ctx.heartbeat({ waitingMs: ms, reason }),
          rules: [...resource.responseRules, ...spec.responseRules],
        }),
      );
      if (response.ignored)
        return { kind: 'fail', reason: 'a response rule said to ignore the refetched answer' };
      if (response.errorAsSuccess)
        return {
          kind: 'fail',
          reason: `a response rule read the refetched ${response.status} answer as a success, but an error answer holds no entity`,
        };
      return changeFromPayload(resource, valueAtPath(response.body, action.recordPath), fetchedAt);
    } catch (error) {
      // The provider no longer has it: it was deleted.
      if (error instanceof ProviderError && error.details.status === 404)
        return { kind: 'delete', fetchedAt };
      throw error;
    }
  }

  return {
    /** Applies pending events of one entity in order; events already processed are skipped. */
    async applyWebhookEvents(input: ApplyEventsInput): Promise<ApplyEventsResult> {
      const result: ApplyEventsResult = { applied: 0, superseded: 0, skipped: 0, failed: 0 };
      const pending = await loadPending(db, input, input.ids);
      result.skipped = input.ids.length - pending.length;
      // Opened (a read and a decrypt) at most once per batch, and only if an event refetches.
      let opened: Promise<ConnectionClient> | undefined;
      const client = () => (opened ??= openClient(input.integration, input.connection));
      for (const event of pending) {
        let change: Change;
        try {
          change = await changeOf(input, event, client);
        } catch (error) {
          const failure = toFailure(error);
          // Retrying cannot help this event (bad credentials, a 4xx, a spec problem), or the retries are
          // spent: it fails alone, for an operator to replay, and the entity's later events still apply.
          // Anything else retries the batch (the events already applied are skipped then); untyped errors
          // (a lost database, a bug) never fail an event here.
          const alone =
            failure instanceof ApplicationFailure && (failure.nonRetryable || input.isolateFailures === true);
          if (!alone) throw failure;
          change = { kind: 'fail', reason: failure.message };
        }
        const outcome = await inSpan('webhook apply', { 'syncwright.event': event.id }, () =>
          applyChange(db, input, event, change),
        );
        result[outcome]++;
        recordApplyOutcome(input, event, change, outcome);
        // A batch of slow refetches can outlast the heartbeat timeout: say it is alive after each event.
        Context.current().heartbeat({ done: result.applied + result.superseded + result.failed });
      }
      return result;
    },

    /** The workflow gave up on these events (retries spent): failed, for an operator to replay. */
    async failWebhookEvents(input: { ids: number[]; message: string }): Promise<number> {
      if (input.ids.length === 0) throw ApplicationFailure.nonRetryable('no events given');
      return failEvents(db, input.ids, input.message);
    },
  };
}
