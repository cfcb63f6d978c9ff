/**
 * What a connection's requests tell the metrics: each request's duration and answer, budget waits,
 * waits handed to Temporal, provider blocks and rate-limited answers. Kept apart from the connection
 * client so the client only calls in.
 */
import { trace } from '@opentelemetry/api';
import { ProviderError } from '../http/errors.js';
import { inSpan } from '../tracing/spans.js';
import {
  recordLeaseWait,
  recordProviderBlock,
  recordRateDeferred,
  recordRateLimitedAnswer,
  recordRateWait,
  recordRequest,
} from '../metrics/metrics.js';

export function providerRequestMetrics(integration: string, connection: string) {
  return {
    /** Times one request; the label is the HTTP status, or the failure kind when no answer came. */
    async request<T extends { status: number }>(send: () => Promise<T>): Promise<T> {
      return inSpan('provider request', { 'syncwright.integration': integration }, async () => {
        const began = performance.now();
        try {
          const r = await send();
          recordRequest(integration, connection, r.status, (performance.now() - began) / 1000);
          trace.getActiveSpan()?.setAttribute('http.response.status_code', r.status);
          return r;
        } catch (error) {
          const status = error instanceof ProviderError ? (error.details.status ?? error.kind) : 'error';
          recordRequest(integration, connection, status, (performance.now() - began) / 1000);
          throw error;
        }
      });
    },
    /** The rate-ledger acquisition (and any wait slept in it), as a span. */
    budget: <T>(acquire: () => Promise<T>): Promise<T> =>
      inSpan('rate ledger acquire', { 'syncwright.integration': integration }, acquire),
    async lease<T>(take: () => Promise<T>): Promise<T> {
      const began = performance.now();
      try {
        return await take();
      } finally {
        recordLeaseWait(integration, connection, (performance.now() - began) / 1000);
      }
    },
    budgetWait: (ms: number) => recordRateWait(integration, connection, ms / 1000),
    deferred: (reason: 'budget' | 'lease') => recordRateDeferred(integration, connection, reason),
    blocked: (source: string | undefined, waitMs: number) =>
      recordProviderBlock(integration, connection, {
        source: source ?? 'headers',
        waitSeconds: waitMs / 1000,
      }),
    /** A 429 (or an answer a rule reads as one); its Retry-After, when it named one. */
    rateLimitedAnswer(retryAfterMs: number | undefined) {
      recordRateLimitedAnswer(integration, connection);
      recordProviderBlock(integration, connection, {
        source: retryAfterMs !== undefined ? 'retry-after' : 'backoff',
        ...(retryAfterMs !== undefined ? { waitSeconds: retryAfterMs / 1000 } : {}),
      });
    },
  };
}
