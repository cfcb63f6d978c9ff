/**
 * Spans around the engine's own steps (provider requests, rate-ledger waits, page commits, webhook
 * receipt and apply), through the OpenTelemetry API: without a registered tracer provider (tracing is
 * off by default) every call is a no-op that costs almost nothing. setup.ts turns exporting on.
 */
import {
  context,
  propagation,
  ProxyTracerProvider,
  SpanStatusCode,
  trace,
  type Attributes,
} from '@opentelemetry/api';

const tracer = () => trace.getTracer('syncwright');

/**
 * True while no tracer provider is registered (the default): spans would be no-ops, so hot paths such
 * as the webhook receiver skip making them. Asked each time, so registering later turns spans on.
 */
export function tracingOff(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegateTracer('syncwright') === undefined;
}

/** Runs `fn` in a child span of the active one; a throw marks the span as an error and is rethrown. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (tracingOff()) return fn();
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active span's W3C `traceparent`, to store with work that another process continues; null when none. */
export function currentTraceparent(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

/** Runs `fn` with a stored `traceparent` as the parent of the spans it starts. */
export function withTraceparent<T>(traceparent: string | null | undefined, fn: () => T): T {
  if (!traceparent) return fn();
  return context.with(propagation.extract(context.active(), { traceparent }), fn);
}
