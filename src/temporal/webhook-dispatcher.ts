/**
 * Hands inbox events to Temporal: signalWithStart of the entity's workflow, then marks them dispatched.
 * While Temporal cannot be reached the events simply stay in the inbox and the dispatcher retries with
 * back-off, so an event accepted during an outage is processed when Temporal returns. Handing an event
 * over twice is harmless (the workflow and the apply step both skip it), so there is no lock to hold.
 */
import { recordDispatchLag } from '../metrics/metrics.js';
import { inSpan, withTraceparent } from '../tracing/spans.js';
import type { Client } from '@temporalio/client';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { SyncConnection, SyncIntegration, SyncKind, SyncResource } from './search-attributes.js';
import { webhookEventSignal, type WebhookEventSignal } from '../../workflows/definitions.js';
import type { webhookEntity, WebhookEntityInput } from '../../workflows/webhook-entity.js';
import { markDispatched, pendingEvents, type PendingEvent } from '../webhooks/dispatch-queue.js';
import { NudgeableSleep } from '../webhooks/nudge.js';

export const webhookWorkflowId = (e: {
  integration: string;
  connection: string;
  resource: string;
  entityKey: string;
}) => `webhook:${e.integration}:${e.connection}:${e.resource}:${e.entityKey}`;

export interface DispatcherOptions {
  db: Db;
  /** Returns a connected client; called again after a failure (Temporal may have restarted elsewhere). */
  connect: () => Promise<Client>;
  taskQueue: string;
  log?: Logger | undefined;
  /** How often the inbox is looked at when nothing nudges the dispatcher. */
  pollMs?: number;
  batchSize?: number;
  /** Dispatched but not processed after this long: hand over again (the workflow may be gone). */
  redispatchAfterMs?: number;
  /** Signals in flight at once. */
  concurrency?: number;
  /** Passed to the per-entity workflows (tests make it small to exercise continue-as-new). */
  eventsPerRun?: number;
}

const MAX_BACKOFF_MS = 5000;

export class WebhookDispatcher {
  private client: Promise<Client> | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly pause = new NudgeableSleep();
  /** Events handed over since start (for reports and tests). */
  dispatched = 0;

  constructor(private readonly options: DispatcherOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New events are waiting: look now rather than at the next poll. */
  nudge(): void {
    this.pause.nudge();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pause.nudge();
    await this.loop;
    // The client's connection is the caller's (connect() may hand out a shared one).
  }

  private async run(): Promise<void> {
    const pollMs = this.options.pollMs ?? 500;
    let backoff = 250;
    let failing = false;
    while (this.running) {
      let handed = 0;
      try {
        handed = await this.dispatchOnce();
        if (failing) this.options.log?.info('Temporal reachable again: dispatching webhook events');
        failing = false;
        backoff = 250;
      } catch (error) {
        if (!failing)
          this.options.log?.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'cannot hand webhook events to Temporal; they stay in the inbox and will be retried',
          );
        failing = true;
        this.client = undefined;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      if (handed < (this.options.batchSize ?? 200)) await this.sleep(pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return this.running ? this.pause.sleep(ms) : Promise.resolve();
  }

  /** One pass over the inbox; returns how many events were handed over. Throws when Temporal is unreachable. */
  async dispatchOnce(): Promise<number> {
    const events = await pendingEvents(
      this.options.db,
      this.options.batchSize ?? 200,
      this.options.redispatchAfterMs ?? 5 * 60_000,
    );
    if (events.length === 0) return 0;
    this.client ??= this.options.connect();
    const client = await this.client;
    // One signal per entity, carrying all its events: fewer calls, and they reach the workflow together.
    const byEntity = new Map<string, PendingEvent[]>();
    for (const e of events) {
      const id = webhookWorkflowId(e);
      const group = byEntity.get(id);
      if (group) group.push(e);
      else byEntity.set(id, [e]);
    }
    const done: number[] = [];
    let failure: Error | undefined;
    const queue = [...byEntity.values()];
    const worker = async () => {
      for (let group = queue.shift(); group && failure === undefined; group = queue.shift()) {
        try {
          // Continues the trace of the group's first POST (tracing on): the client's interceptor carries
          // it into the workflow and its activities.
          await withTraceparent(group[0]!.traceContext, () =>
            inSpan('webhook dispatch', { 'syncwright.events': group.length }, () =>
              this.handOver(client, group),
            ),
          );
          for (const e of group) done.push(e.id);
          const now = Date.now();
          for (const e of group) recordDispatchLag(e.integration, (now - e.receivedAt.getTime()) / 1000);
        } catch (error) {
          failure ??= error instanceof Error ? error : new Error(String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency ?? 16 }, worker));
    await markDispatched(this.options.db, done);
    this.dispatched += done.length;
    if (failure !== undefined) throw failure;
    return done.length;
  }

  /** Events of one entity to its workflow, started if need be. */
  private async handOver(client: Client, events: PendingEvent[]): Promise<void> {
    const e = events[0]!;
    const input: WebhookEntityInput = {
      integration: e.integration,
      connection: e.connection,
      resource: e.resource,
      entityKey: e.entityKey,
      ...(this.options.eventsPerRun ? { eventsPerRun: this.options.eventsPerRun } : {}),
    };
    await client.workflow.signalWithStart<typeof webhookEntity, [WebhookEventSignal]>('webhookEntity', {
      workflowId: webhookWorkflowId(input),
      taskQueue: this.options.taskQueue,
      args: [input],
      signal: webhookEventSignal,
      // `id` too, for workers still running a workflow build that reads only that (the rest of a group
      // waits for re-dispatch there).
      signalArgs: [{ ids: events.map((x) => x.id), id: e.id }],
      staticSummary: `webhook events of ${e.integration} / ${e.connection} / ${e.resource} ${e.entityKey}`,
      typedSearchAttributes: [
        { key: SyncIntegration, value: e.integration },
        { key: SyncConnection, value: e.connection },
        { key: SyncResource, value: e.resource },
        { key: SyncKind, value: 'webhook' },
      ],
    });
  }
}
