/**
 * The webhook benchmark's senders, run in a worker thread so they do not share the receiver's event
 * loop: POSTs every prepared request once, SENDERS at a time over keep-alive connections, and reports
 * throughput, latency percentiles and the answers' status codes.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface LoadRequest {
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface LoadJob {
  url: string;
  senders: number;
  requests: LoadRequest[];
}

export interface LoadReport {
  perSecond: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function run(job: LoadJob): Promise<LoadReport> {
  const base = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.senders });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const send = (r: LoadRequest) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: base.hostname, port: base.port, path: r.path, method: 'POST', headers: r.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(Buffer.from(r.body));
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: job.senders }, async () => {
      while (next < job.requests.length) {
        const r = job.requests[next++]!;
        const t = performance.now();
        const status = await send(r);
        latencies.push(performance.now() - t);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    perSecond: job.requests.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    statuses,
  };
}

if (parentPort && workerData) {
  const port = parentPort;
  void run(workerData as LoadJob).then((report) => port.postMessage(report));
}
