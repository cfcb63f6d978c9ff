/**
 * The `/metrics` endpoint: our registry in the Prometheus text format, followed by the Temporal SDK
 * runtime's own metrics (its Rust core serves them on a private address; we fetch and append them), so
 * one scrape target has both.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { declareMetrics, registry } from './metrics.js';

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** host:port where Runtime.install's Prometheus exporter listens, when installed. */
  temporalBindAddress?: string | undefined;
}

export interface RunningMetricsServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** Everything a scrape returns: ours, then Temporal's (or a comment saying why it is missing). */
export async function metricsText(temporalBindAddress?: string): Promise<string> {
  declareMetrics();
  const ours = await registry.metrics();
  if (!temporalBindAddress) return ours;
  try {
    const r = await fetch(`http://${temporalBindAddress}/metrics`, { signal: AbortSignal.timeout(2000) });
    return `${ours}\n${await r.text()}`;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `${ours}\n# Temporal SDK metrics unavailable from ${temporalBindAddress}: ${why.replace(/\n/g, ' ')}\n`;
  }
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningMetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' });
      res.end(path === '/metrics' ? 'use GET\n' : 'metrics are at /metrics\n');
      return;
    }
    metricsText(options.temporalBindAddress).then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
