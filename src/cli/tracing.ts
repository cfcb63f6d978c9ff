/** Tracing for the long-running commands: on only with SYNCWRIGHT_TRACING_URL (OTLP/HTTP). */
import type { Tracing } from '../tracing/setup.js';
import type { CliContext } from './context.js';

/** Starts exporting spans when SYNCWRIGHT_TRACING_URL is set; flushed and stopped with the command. */
export async function startCliTracing(ctx: CliContext, serviceName: string): Promise<Tracing | undefined> {
  const url = ctx.config.tracingUrl;
  if (!url) return undefined;
  const { startTracing } = await import('../tracing/setup.js');
  const tracing = startTracing({ url, serviceName });
  ctx.scope.add('tracing', () => tracing.shutdown());
  return tracing;
}
