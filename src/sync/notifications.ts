/**
 * What operators are told without looking: events sent to a configured URL, signed in the Standard
 * Webhooks format (webhook-id, webhook-timestamp, webhook-signature), delivered by the
 * `notifyOperator` workflow with retries. Pure builders: no I/O here.
 */

/** Where notifications go: SYNCWRIGHT_NOTIFY_URL, signed with SYNCWRIGHT_NOTIFY_SECRET (`whsec_…`). */
export interface NotifyTarget {
  url: string;
  secret: string;
}

export type OperatorEventType =
  | 'sync.run.failed'
  | 'connection.credentials_refused'
  | 'resource.stale'
  | 'webhook.subscription.lapsed'
  | 'webhook.sequence.skipped';

/** The body sent (Standard Webhooks' recommended shape: type, timestamp, data). */
export interface OperatorEvent {
  /** Also the webhook-id and the delivering workflow's id: one event, one delivery, deduplicable. */
  id: string;
  type: OperatorEventType;
  timestamp: string;
  data: {
    integration: string;
    connection: string;
    /** Absent for connection-wide events (a webhook subscription). */
    resource?: string;
    workflowId?: string;
    runId?: string;
    errorType?: string;
    error?: string;
    lastSuccessAt?: string | null;
    ageSeconds?: number | null;
    staleAfterSeconds?: number;
    subscriptionId?: string;
    /** Why a subscription lapsed: `expired` (not renewed in time) or `gone` (the provider dropped it). */
    reason?: 'expired' | 'gone';
    expiresAt?: string | null;
    /** Delivery sequence numbers that never arrived (webhooks.sequence), per scope ('' = connection). */
    gaps?: { scope: string; from: string; to: string }[];
  };
}

interface FailedRun {
  id: string;
  workflowId: string;
  integration: string;
  connection: string;
  resource: string;
}

/** A run that failed for good; an AuthError also says the connection's credentials were refused. */
export function runFailedEvents(run: FailedRun, errorType: string, error: string, at: Date): OperatorEvent[] {
  const data = {
    integration: run.integration,
    connection: run.connection,
    resource: run.resource,
    workflowId: run.workflowId,
    runId: run.id,
    errorType,
    error,
  };
  const events: OperatorEvent[] = [
    { id: `run-failed:${run.id}`, type: 'sync.run.failed', timestamp: at.toISOString(), data },
  ];
  if (errorType === 'AuthError')
    events.push({
      id: `credentials-refused:${run.id}`,
      type: 'connection.credentials_refused',
      timestamp: at.toISOString(),
      data,
    });
  return events;
}

/** A resource whose last successful sync is older than the threshold: one event per stale spell. */
export function staleEvent(
  r: { integration: string; connection: string; resource: string; lastSuccessAt: Date; ageSeconds: number },
  staleAfterSeconds: number,
  at: Date,
): OperatorEvent {
  return {
    id: `stale:${r.integration}:${r.connection}:${r.resource}:${r.lastSuccessAt.getTime()}`,
    type: 'resource.stale',
    timestamp: at.toISOString(),
    data: {
      integration: r.integration,
      connection: r.connection,
      resource: r.resource,
      lastSuccessAt: r.lastSuccessAt.toISOString(),
      ageSeconds: r.ageSeconds,
      staleAfterSeconds,
    },
  };
}

/**
 * A webhook subscription that lapsed: it expired before it was renewed, or the provider no longer has
 * it. Events in between were never sent; the id names the subscription, so one lapse, one event.
 */
export function subscriptionLapsedEvent(
  s: { integration: string; connection: string; subscriptionId: string; expiresAt: Date | null },
  reason: 'expired' | 'gone',
  at: Date,
): OperatorEvent {
  return {
    id: `subscription-lapsed:${s.integration}:${s.connection}:${s.subscriptionId}`,
    type: 'webhook.subscription.lapsed',
    timestamp: at.toISOString(),
    data: {
      integration: s.integration,
      connection: s.connection,
      subscriptionId: s.subscriptionId,
      reason,
      expiresAt: s.expiresAt?.toISOString() ?? null,
    },
  };
}

/**
 * Delivery sequence numbers that never arrived: events lost, their reconciliation started. The id
 * names the first gap, so one hand-over, one event.
 */
export function sequenceSkippedEvent(
  integration: string,
  connection: string,
  gaps: readonly { id: string; scope: string; from: string; to: string }[],
  at: Date,
): OperatorEvent {
  return {
    id: `sequence-skipped:${integration}:${connection}:${gaps[0]?.id ?? 'none'}`,
    type: 'webhook.sequence.skipped',
    timestamp: at.toISOString(),
    data: {
      integration,
      connection,
      gaps: gaps.map((g) => ({ scope: g.scope, from: g.from, to: g.to })),
    },
  };
}
