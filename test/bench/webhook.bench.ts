/**
 * Webhook benchmark, in one process on one stack:
 * 1. Accepted events per second and p50/p99 latency at 50 concurrent senders: the real receiver
 *    (signature check + durable inbox commit before the answer) against a bare node:http server that
 *    reads the body and answers 200. Requests signed alike go to both in back-to-back pairs of rounds;
 *    the headline is the median of the pairs' ratios (a pair shares the moment of a noisy machine).
 *    Where Linux tells it, the main thread's CPU time per request is shown too.
 * 2. p50/p99 from POST to the record being updated (receiver → inbox → dispatcher → Temporal workflow →
 *    apply activity → records), from the sender's clock to the commit of the record.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import { createActivities } from '../../activities/index.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startWorker } from '../../src/temporal/worker.js';
import { signWebhook } from '../../src/testing/webhooks.js';
import { startWebhookService } from '../../src/temporal/webhook-service.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, uniqueId } from '../helpers/stack.js';
import { TOKEN, trackerSpec, trackerWebhooks, WEBHOOK_SECRET } from '../helpers/tracker-spec.js';
import type { LoadJob, LoadReport, LoadRequest } from './webhook-load.js';

const SENDERS = 50;
const ROUNDS = 7;

interface Round {
  report: LoadReport;
  /** CPU time of this process's main thread (the receiver's) during the round, where Linux tells it. */
  mainCpuUs: number | undefined;
  /** Event-loop utilisation of the main thread during the round. */
  busy: number;
}

/** CPU time (µs) of the main thread so far, from /proc; undefined off Linux. */
function mainThreadCpuUs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

async function measured(run: () => Promise<LoadReport>): Promise<Round> {
  const cpu = mainThreadCpuUs();
  const elu = performance.eventLoopUtilization();
  const report = await run();
  const after = mainThreadCpuUs();
  return {
    report,
    mainCpuUs: cpu === undefined || after === undefined ? undefined : after - cpu,
    busy: performance.eventLoopUtilization(elu).utilization,
  };
}

type Prepared = LoadRequest;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** Sends every request once, SENDERS at a time, from a worker thread (its own event loop and core). */
function load(base: URL, requests: Prepared[]): Promise<LoadReport> {
  const job: LoadJob = { url: base.toString(), senders: SENDERS, requests };
  // The senders are TypeScript too: the worker registers tsx before loading them.
  const entry = new URL('./webhook-load.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: job });
  return new Promise((resolve, reject) => {
    worker.once('message', (report: LoadReport) => {
      void worker.terminate();
      resolve(report);
    });
    worker.once('error', reject);
  });
}

async function bareServer(): Promise<{ url: URL; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function webhookBenchmark(events = 10_000): Promise<void> {
  const env = await testEnv();
  const spec = trackerSpec('http://127.0.0.1:9', undefined, trackerWebhooks());
  const specs = new Map([[spec.id, spec]]);
  const box = SecretBox.fromKey(TEST_KEY);
  const connection = uniqueId('bench');
  await saveConnection(env.db, box, {
    integration: spec.id,
    id: connection,
    config: {},
    secrets: { token: TOKEN, webhook_secret: WEBHOOK_SECRET },
  });
  const taskQueue = uniqueId('bench-webhooks');
  const service = await startWebhookService({
    db: env.db,
    specs,
    secretBox: box,
    env: {},
    connect: () => Promise.resolve(env.client),
    taskQueue,
  });
  const path = `/webhooks/tracker/${connection}`;
  const prepare = (run: string, count: number, entities: number): Prepared[] =>
    Array.from({ length: count }, (_, i) => {
      const body = Buffer.from(
        JSON.stringify({
          id: `${run}-${i}`,
          type: 'issue.updated',
          sequence: i,
          data: {
            id: i % entities,
            title: `${run} ${i}`,
            state: 'open',
            priority: 1,
            updated_at: '2026-11-24T00:00:00Z',
          },
        }),
      );
      return {
        path,
        body,
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          ...signWebhook(spec.webhooks!.signature, WEBHOOK_SECRET, body, { id: `${run}-${i}` }),
        },
      };
    });

  // 1. Throughput and latency of acceptance. The dispatcher is paused meanwhile (no worker yet either),
  //    so only the receiving path is measured; the bare server gets the same requests.
  await service.dispatcher.stop();
  const bare = await bareServer();
  const receiverUrl = new URL(service.receiver.url);
  await load(bare.url, prepare('warm-bare', 2000, 1000));
  await load(receiverUrl, prepare('warm', 2000, 1000));
  // Pairs of rounds, bare and receiver back to back: a pair sees the same moment of a noisy shared
  // machine, so its ratio is steadier than either figure; the median pair is the headline.
  const rounds: { bare: Round; real: Round }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Built (bodies signed) before each measurement, so only sending and answering are counted.
    const bareRequests = prepare(`bare${r}`, events, 1000);
    const realRequests = prepare(`real${r}`, events, 1000);
    const bareRound = () => measured(() => load(bare.url, bareRequests));
    const realRound = () => measured(() => load(receiverUrl, realRequests));
    // Which goes first alternates, so neither side always follows the other's garbage.
    if (r % 2 === 0) {
      const b = await bareRound();
      rounds.push({ bare: b, real: await realRound() });
    } else {
      const v = await realRound();
      rounds.push({ bare: await bareRound(), real: v });
    }
  }
  await bare.close();
  const durable = await env.db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('event_id', 'like', 'real%')
    .where('status', '=', 'received')
    .executeTakeFirstOrThrow();
  const ratio = (x: { bare: Round; real: Round }) => x.real.report.perSecond / x.bare.report.perSecond;
  const pairs = [...rounds].sort((p, q) => ratio(p) - ratio(q));
  const middle = pairs[pairs.length >> 1]!;
  const fmt = (r: Round) =>
    `${Math.round(r.report.perSecond).toLocaleString('en-US')}/s, p50 ${r.report.p50.toFixed(1)} ms, ` +
    `p99 ${r.report.p99.toFixed(1)} ms` +
    (r.mainCpuUs === undefined ? '' : `, main thread ${Math.round(r.mainCpuUs / events)} µs CPU/request`);
  const statuses = (k: 'bare' | 'real') =>
    rounds.reduce<Record<number, number>>((acc, x) => {
      for (const [code, n] of Object.entries(x[k].report.statuses)) acc[+code] = (acc[+code] ?? 0) + n;
      return acc;
    }, {});
  console.log(
    `\nwebhook receiver, ${ROUNDS} pairs of rounds × ${events.toLocaleString('en-US')} events, ${SENDERS} concurrent senders (the median pair)`,
  );
  console.log(`  bare node:http 200:          ${fmt(middle.bare)}`);
  console.log(
    `  receiver (verify + commit):  ${fmt(middle.real)}; event loop ${Math.round(middle.real.busy * 100)}% busy; answers ${JSON.stringify(statuses('real'))}`,
  );
  console.log(
    `  ratio: ${ratio(middle).toFixed(2)}x of the bare server (pairs ${pairs
      .map((x) => ratio(x).toFixed(2))
      .join(', ')}); ${Number(durable.n).toLocaleString('en-US')} events durable in the inbox`,
  );

  // Clear the measured backlog so the end-to-end run below starts from an empty queue.
  await env.db
    .updateTable('webhook_events')
    .set({ status: 'ignored' })
    .where('status', '=', 'received')
    .execute();

  // 2. POST → record updated, with a worker and the dispatcher running, at a steady ~50 events/s from
  //    5 senders (each event starts a new entity workflow: the dev server's start rate is the limit).
  const worker = await startWorker({
    address: env.temporalAddress,
    namespace: env.namespace,
    taskQueue,
    activities: createActivities({ db: env.db, specs, secretBox: box, env: {} }),
    workflowBundle: env.workflowBundle,
  });
  service.dispatcher.start();
  const sample = prepare('e2e', 300, 300);
  const sentAt = new Map<string, number>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 5 });
  let i = 0;
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      while (i < sample.length) {
        const r = sample[i++]!;
        const id = (JSON.parse(r.body.toString()) as { id: string }).id;
        sentAt.set(id, Date.now());
        await new Promise<void>((resolve, reject) => {
          const req = http.request(
            {
              host: receiverUrl.hostname,
              port: receiverUrl.port,
              path: r.path,
              method: 'POST',
              headers: r.headers,
              agent,
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve());
            },
          );
          req.on('error', reject);
          req.end(r.body);
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }),
  );
  agent.destroy();
  const deadline = Date.now() + 120_000;
  let rows: { event_id: string; processed_at: Date | null }[] = [];
  for (;;) {
    rows = await env.db
      .selectFrom('webhook_events')
      .select(['event_id', 'processed_at'])
      .where('event_id', 'like', 'e2e-%')
      .execute();
    if (rows.length === sample.length && rows.every((r) => r.processed_at)) break;
    if (Date.now() > deadline) throw new Error('end-to-end events not processed within 2 minutes');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const e2e = rows.map((r) => r.processed_at!.getTime() - sentAt.get(r.event_id)!).sort((a, b) => a - b);
  console.log(
    `  POST → record updated (${sample.length} events to distinct entities, ~50/s): p50 ${percentile(e2e, 0.5)} ms, p99 ${percentile(e2e, 0.99)} ms`,
  );
  await service.close();
  await worker.shutdown();
}
