/**
 * Serving `/metrics` from the long-running commands: ours and the Temporal SDK runtime's on one port.
 * Off unless SYNCWRIGHT_METRICS_PORT is set; `up` (the local stack) serves it on 9464 by default.
 */
import { configureMetrics, gaugeOnScrape } from '../metrics/metrics.js';
import { startMetricsServer } from '../metrics/server.js';
import { freePort } from '../net.js';
import type { Db } from '../store/db.js';
import { inboxDepth } from '../store/status.js';
import { installRuntime, UsageError, type CliContext } from './context.js';

export const LOCAL_METRICS_PORT = 9464;

/**
 * Installs the Temporal SDK runtime (with its Prometheus exporter on a private free port when metrics
 * are on; not for the receiver: `temporal: false`) and starts our metrics server; call before any
 * worker starts. Returns the scrape URL, or
 * undefined when metrics are off.
 */
export async function serveMetrics(
  ctx: CliContext,
  opts: { local?: boolean; temporal?: boolean } = {},
): Promise<string | undefined> {
  const { host, port: asked, connectionLabel } = ctx.config.metrics;
  configureMetrics({ connectionLabel });
  const port = asked ?? (opts.local ? LOCAL_METRICS_PORT : undefined);
  // The receiver runs no worker and never loads the worker SDK: its runtime has nothing to report there.
  const withSdk = opts.temporal !== false;
  if (port === undefined) {
    if (withSdk) await installRuntime(ctx.verbose);
    return undefined;
  }
  const temporalBind = withSdk ? `127.0.0.1:${await freePort('127.0.0.1')}` : undefined;
  if (withSdk) await installRuntime(ctx.verbose, temporalBind);
  const start = (p: number) => startMetricsServer({ host, port: p, temporalBindAddress: temporalBind });
  let server;
  try {
    server = await start(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code !== 'EADDRINUSE') throw error;
    if (asked !== undefined)
      throw new UsageError(
        `metrics port ${host}:${port} is taken (SYNCWRIGHT_METRICS_PORT): set SYNCWRIGHT_METRICS_PORT to a free port`,
      );
    ctx.note(`metrics port ${port} is taken: using a free one (SYNCWRIGHT_METRICS_PORT chooses it)`);
    server = await start(0);
  }
  ctx.scope.add('metrics server', () => server.close());
  return server.url;
}

/** The inbox depth gauge (syncwright_webhook_inbox_events), read from Postgres at each scrape. */
export function watchInbox(db: Db): void {
  gaugeOnScrape(
    'syncwright_webhook_inbox_events',
    'Webhook events waiting to be applied (received, dispatched) or failed, by status',
    ['integration', 'status'],
    async () =>
      (await inboxDepth(db)).map((r) => ({
        labels: { integration: r.integration, status: r.status },
        value: r.n,
      })),
  );
}
