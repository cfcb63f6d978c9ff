/**
 * Syncwright's Prometheus metrics (prom-client), one registry per process. The engine calls the small
 * recording functions below; nothing is served unless a metrics server is started (server.ts).
 *
 * Label cardinality is bounded: integration, resource, status/outcome and error type. A connection id
 * is a label only when the operator opts in (`configureMetrics({ connectionLabel: true })`,
 * SYNCWRIGHT_METRICS_CONNECTION_LABEL=1), since tenants can number in the thousands.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

let withConnection = false;

/** Whether metrics carry a `connection` label. Set once at start-up, before anything is recorded. */
export function configureMetrics(options: { connectionLabel?: boolean }): void {
  const next = Boolean(options.connectionLabel);
  if (next === withConnection) return;
  withConnection = next;
  registry.clear();
  built = undefined;
  deliveryChildren.clear();
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 15, 60, 300, 3600];

function build() {
  const c = (names: string[]) => (withConnection ? [...names, 'connection'] : names);
  const r = [registry];
  return {
    recordsFetched: new Counter({
      name: 'syncwright_records_fetched_total',
      help: 'Records read from providers by sync pages',
      labelNames: c(['integration', 'resource']),
      registers: r,
    }),
    recordsWritten: new Counter({
      name: 'syncwright_records_written_total',
      help: 'Records committed, by outcome (inserted, updated, unchanged, deleted, quarantined) and source (sync, webhook)',
      labelNames: c(['integration', 'resource', 'outcome', 'source']),
      registers: r,
    }),
    pages: new Counter({
      name: 'syncwright_pages_total',
      help: 'Sync pages committed',
      labelNames: c(['integration', 'resource']),
      registers: r,
    }),
    runs: new Counter({
      name: 'syncwright_runs_total',
      help: 'Sync runs ended, by status (completed, failed, cancelled) and error type (empty unless failed)',
      labelNames: c(['integration', 'resource', 'status', 'error_type']),
      registers: r,
    }),
    requestSeconds: new Histogram({
      name: 'syncwright_provider_request_duration_seconds',
      help: 'Provider requests by integration and HTTP status (network, timeout: no answer)',
      labelNames: c(['integration', 'status']),
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    rateWaitSeconds: new Counter({
      name: 'syncwright_rate_ledger_wait_seconds_total',
      help: 'Seconds requests waited in workers for the shared rate budget',
      labelNames: c(['integration']),
      registers: r,
    }),
    rateDeferred: new Counter({
      name: 'syncwright_rate_ledger_deferred_total',
      help: 'Waits too long to sleep in a worker, handed to a Temporal retry, by reason (budget, lease)',
      labelNames: c(['integration', 'reason']),
      registers: r,
    }),
    providerBlocks: new Counter({
      name: 'syncwright_provider_blocks_total',
      help: 'Times a provider blocked a connection (Retry-After, rate headers, a 429 back-off), by source',
      labelNames: c(['integration', 'source']),
      registers: r,
    }),
    provider429: new Counter({
      name: 'syncwright_provider_429_total',
      help: 'Provider answers that said "rate limited" (429, or a rule or header saying so)',
      labelNames: c(['integration']),
      registers: r,
    }),
    retryAfterSeconds: new Histogram({
      name: 'syncwright_provider_retry_after_seconds',
      help: 'The waits providers asked for (Retry-After and rate-limit reset headers)',
      labelNames: c(['integration']),
      buckets: WAIT_BUCKETS,
      registers: r,
    }),
    leaseWaitSeconds: new Histogram({
      name: 'syncwright_lease_wait_seconds',
      help: 'Time to get one of a connection’s concurrent-request slots (maxConcurrentRequests)',
      labelNames: c(['integration']),
      buckets: WAIT_BUCKETS,
      registers: r,
    }),
    tokenRefreshes: new Counter({
      name: 'syncwright_token_refreshes_total',
      help: 'OAuth2 token requests, by outcome (ok, failed)',
      labelNames: c(['integration', 'outcome']),
      registers: r,
    }),
    webhookDeliveries: new Counter({
      name: 'syncwright_webhook_deliveries_total',
      help: 'Webhook requests answered by the receiver, by HTTP answer code',
      labelNames: c(['integration', 'code']),
      registers: r,
    }),
    signatureFailures: new Counter({
      name: 'syncwright_webhook_signature_failures_total',
      help: 'Webhook requests refused for their signature (401)',
      labelNames: c(['integration']),
      registers: r,
    }),
    dispatchLag: new Histogram({
      name: 'syncwright_webhook_dispatch_lag_seconds',
      help: 'From an event’s receipt to its hand-over to Temporal',
      labelNames: ['integration'],
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    applySeconds: new Histogram({
      name: 'syncwright_webhook_apply_latency_seconds',
      help: 'From an event’s receipt to its effect on the record (processed or failed), by result',
      labelNames: ['integration', 'resource', 'result'],
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
  };
}

let built: ReturnType<typeof build> | undefined;
const m = () => (built ??= build());

/** Declares every metric (so a scrape lists them all, with HELP and TYPE, before anything happened). */
export function declareMetrics(): void {
  m();
}

type Labels = Record<string, string>;
const scoped = (labels: Labels, connection: string | undefined): Labels =>
  withConnection ? { ...labels, connection: connection ?? '' } : labels;

/** One committed sync page. */
export function recordPage(
  t: { integration: string; resource: string; connection?: string },
  fetched: number,
  counts: Partial<Record<'inserted' | 'updated' | 'unchanged' | 'deleted' | 'quarantined', number>>,
): void {
  const base = { integration: t.integration, resource: t.resource };
  m().pages.inc(scoped(base, t.connection));
  if (fetched) m().recordsFetched.inc(scoped(base, t.connection), fetched);
  recordWrites(t, counts, 'sync');
}

export function recordWrites(
  t: { integration: string; resource: string; connection?: string },
  counts: Partial<Record<string, number>>,
  source: 'sync' | 'webhook',
): void {
  for (const [outcome, n] of Object.entries(counts))
    if (n)
      m().recordsWritten.inc(
        scoped({ integration: t.integration, resource: t.resource, outcome, source }, t.connection),
        n,
      );
}

export function recordRunEnd(
  t: { integration: string; resource: string; connection?: string },
  status: string,
  errorType: string | undefined,
): void {
  m().runs.inc(
    scoped(
      { integration: t.integration, resource: t.resource, status, error_type: errorType ?? '' },
      t.connection,
    ),
  );
}

/** A provider request's duration; `status` is the HTTP status, or the failure kind when none came. */
export function recordRequest(
  integration: string,
  connection: string,
  status: number | string,
  seconds: number,
): void {
  m().requestSeconds.observe(scoped({ integration, status: String(status) }, connection), seconds);
}

export function recordRateWait(integration: string, connection: string, seconds: number): void {
  m().rateWaitSeconds.inc(scoped({ integration }, connection), seconds);
}

export function recordRateDeferred(
  integration: string,
  connection: string,
  reason: 'budget' | 'lease',
): void {
  m().rateDeferred.inc(scoped({ integration, reason }, connection));
}

/** A provider block of the connection (Retry-After, rate headers, or a back-off after a bare 429). */
export function recordProviderBlock(
  integration: string,
  connection: string,
  block: { source?: string | undefined; waitSeconds?: number | undefined },
): void {
  m().providerBlocks.inc(scoped({ integration, source: block.source ?? 'backoff' }, connection));
  if (block.waitSeconds !== undefined)
    m().retryAfterSeconds.observe(scoped({ integration }, connection), Math.max(0, block.waitSeconds));
}

/** An answer that said "rate limited" (a 429, or a 403 or 200 a rule or header reads so). */
export function recordRateLimitedAnswer(integration: string, connection: string): void {
  m().provider429.inc(scoped({ integration }, connection));
}

export function recordLeaseWait(integration: string, connection: string, seconds: number): void {
  m().leaseWaitSeconds.observe(scoped({ integration }, connection), seconds);
}

export function recordTokenRequest(integration: string, connection: string, ok: boolean): void {
  m().tokenRefreshes.inc(scoped({ integration, outcome: ok ? 'ok' : 'failed' }, connection));
}

// The receiver is hot: label sets are few, so their children are kept.
const deliveryChildren = new Map<string, { inc(): void }>();
export function recordDelivery(integration: string, connection: string, code: number): void {
  const key = withConnection
    ? `${integration}\u0000${code}\u0000${connection}`
    : `${integration}\u0000${code}`;
  let child = deliveryChildren.get(key);
  if (!child) {
    child = m().webhookDeliveries.labels(scoped({ integration, code: String(code) }, connection));
    deliveryChildren.set(key, child);
  }
  child.inc();
}

export function recordSignatureFailure(integration: string, connection: string): void {
  m().signatureFailures.inc(scoped({ integration }, connection));
}

export function recordDispatchLag(integration: string, seconds: number): void {
  m().dispatchLag.observe({ integration }, Math.max(0, seconds));
}

export function recordApplied(integration: string, resource: string, result: string, seconds: number): void {
  m().applySeconds.observe({ integration, resource, result }, Math.max(0, seconds));
}

/**
 * A gauge read when scraped (e.g. the inbox depth from Postgres). Registered once per name; a later
 * call replaces how it is read.
 */
export function gaugeOnScrape(
  name: string,
  help: string,
  labelNames: string[],
  read: () => Promise<{ labels: Labels; value: number }[]>,
): void {
  registry.removeSingleMetric(name);
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, value } of await read()) this.set(labels, value);
    },
  });
}
