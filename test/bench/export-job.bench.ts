/**
 * Export-job benchmark: a Shopify-style bulk operation of N records (one JSON Lines file on a storage
 * host; integrations/shopify-bulk.yaml against the kit's simulator, in a child process) synced by the
 * engine — submit, polls on workflow timers, the file streamed and committed in chunks of 2,000 with
 * their checkpoints — by a worker in a process of its own (built to JavaScript, prebuilt workflow
 * bundle), whose RSS is
 * sampled from /proc every 100 ms; against a hand-written loop over the same job and Postgres: submit,
 * poll every second, fetch the file → split lines → JSON.parse → map the same four fields → COPY
 * (pg-copy-streams) into a key/jsonb table with a primary key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { SecretBox } from '../../src/store/secret-box.js';
import { saveConnection } from '../../src/store/connections.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { SHOPIFY_BULK_TOKEN, SHOPIFY_BULK_VERSION } from '../../src/testing/providers/index.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, uniqueId } from '../helpers/stack.js';
import { startWorkerProcess } from '../helpers/worker-process.js';

const CHUNK = 2000;

async function startSimulator(
  records: number,
): Promise<{ url: string; storageUrl: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./bulk-server.ts', import.meta.url).pathname, String(records)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    proc.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    proc.once('exit', (code) => reject(new Error(`bulk simulator exited (${code})`)));
  });
  return { ...(JSON.parse(line) as { url: string; storageUrl: string }), proc };
}

/** Samples a process's resident set (VmRSS) until stopped; returns the peak in MiB. */
function sampleRss(pid: number) {
  const read = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  };
  const start = read();
  let peak = start;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, read());
    } catch {
      // The process ended.
    }
  }, 100);
  return {
    start,
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

/** COPY text format: backslash, tab, newline and carriage return escaped. */
const copyText = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/** The hand-written loop: submit, poll each second, download → decode → COPY. */
async function handWritten(apiUrl: string, databaseUrl: string, records: number): Promise<number> {
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(`${apiUrl}/admin/api/${SHOPIFY_BULK_VERSION}/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': SHOPIFY_BULK_TOKEN },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data: Record<string, Record<string, unknown> | null> };
  };
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('drop table if exists bench_export_copy');
  await client.query('create table bench_export_copy (key text primary key, data jsonb not null)');
  const started = performance.now();
  const run = await gql(
    'mutation run($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id } } }',
    {
      query: '{ products { edges { node { id title status updatedAt } } } }',
    },
  );
  const id = (run.data.bulkOperationRunQuery!.bulkOperation as { id: string }).id;
  let url: string | null = null;
  for (;;) {
    const st = await gql('query s($id: ID!) { node(id: $id) { ... on BulkOperation { status url } } }', {
      id,
    });
    const node = st.data.node as { status: string; url: string | null };
    if (node.status === 'COMPLETED') {
      url = node.url;
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const res = await fetch(url!);
  const lines = readline.createInterface({
    input: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    crlfDelay: Infinity,
  });
  const copy = client.query(copyFrom('COPY bench_export_copy (key, data) FROM STDIN'));
  let n = 0;
  for await (const line of lines) {
    if (!line) continue;
    const r = JSON.parse(line) as { id: string; title: string; status: string; updatedAt: string };
    const data = {
      id: r.id,
      title: r.title,
      status: r.status,
      updatedAt: new Date(r.updatedAt).toISOString(),
    };
    if (!copy.write(`${copyText(r.id)}\t${copyText(JSON.stringify(data))}\n`)) await once(copy, 'drain');
    n++;
  }
  copy.end();
  await finished(copy);
  const seconds = (performance.now() - started) / 1000;
  const { rows } = await client.query<{ n: string }>('select count(*) as n from bench_export_copy');
  await client.end();
  if (n !== records || Number(rows[0]!.n) !== records)
    throw new Error(`hand-written loop stored ${rows[0]!.n} of ${records}`);
  return seconds;
}

export async function exportJobBenchmark(records: number, heapMiB?: number): Promise<void> {
  const env = await testEnv();
  const sim = await startSimulator(records);
  const taskQueue = uniqueId('bench-export-job');
  const worker = await startWorkerProcess(env, {
    taskQueue,
    simulatorUrl: sim.url,
    env: {
      BULK_SPEC: 'shopify',
      STORAGE_URL: sim.storageUrl,
      CHUNK_RECORDS: String(CHUNK),
    },
    nodeArgs: [
      ...(heapMiB ? [`--max-old-space-size=${heapMiB}`] : []),
      // BENCH_WORKER_NODE_ARGS: more flags for the worker, e.g. `--import ./test/bench/memory-probe.mjs`.
      ...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
  });
  try {
    const connection = uniqueId('bench');
    await saveConnection(env.db, SecretBox.fromKey(TEST_KEY), {
      integration: 'shopify-bulk',
      id: connection,
      config: {},
      secrets: { access_token: SHOPIFY_BULK_TOKEN },
    });
    const rss = sampleRss(worker.pid!);
    const started = performance.now();
    const handle = await startSync(
      env.client,
      { integration: 'shopify-bulk', connection, resource: 'products', kind: 'full' },
      { taskQueue },
    );
    const r = await handle.result();
    const engineS = (performance.now() - started) / 1000;
    const peak = rss.stop();
    if (r.inserted !== records) throw new Error(`engine stored ${r.inserted} of ${records}`);
    const handS = await handWritten(sim.url, env.databaseUrl, records);
    const rate = (s: number) => Math.round(records / s).toLocaleString('en-US');
    console.log(
      `export job, ${records.toLocaleString('en-US')} records (one JSON Lines file, chunks of ${CHUNK}${heapMiB ? `, worker heap capped at ${heapMiB} MiB` : ''}):`,
    );
    console.log(
      `  hand-written submit/poll + download → decode → COPY: ${handS.toFixed(1)} s, ${rate(handS)} records/s`,
    );
    console.log(
      `  engine (worker process):                             ${engineS.toFixed(1)} s, ${rate(engineS)} records/s`,
    );
    console.log(`  engine/hand-written: ${(handS / engineS).toFixed(2)}x`);
    console.log(`  worker RSS: ${rss.start.toFixed(0)} MiB at start, ${peak.toFixed(0)} MiB peak`);
  } finally {
    const gone = [once(worker, 'exit'), once(sim.proc, 'exit')];
    worker.kill('SIGTERM');
    sim.proc.kill('SIGTERM');
    await Promise.all(gone);
  }
}
