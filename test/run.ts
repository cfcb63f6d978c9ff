/**
 * `npm test`: runs unit tests, then integration tests against one shared real stack — a Temporal dev
 * server (in memory, free ports) and Postgres (DATABASE_URL, or an embedded server in a temp dir).
 * Each integration test file creates its own database and task queue, so runs never collide.
 *
 *   npm test                 all tests
 *   npm test -- unit         unit tests only
 *   npm test -- integration  integration tests only
 *   npm test -- e2e          the browser test of the Temporal UI only
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { resolvePostgres } from '../src/stack/postgres.js';
import { resolveTemporal } from '../src/stack/temporal.js';
import { TEST_DYNAMIC_CONFIG } from './helpers/dynamic-config.js';

const root = path.resolve(import.meta.dirname, '..');

async function testFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.test.ts')) out.push(p);
    }
  };
  await walk(path.join(root, dir));
  return out.sort();
}

function runNodeTests(files: string[], env: NodeJS.ProcessEnv, concurrency: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files],
      { stdio: 'inherit', env, cwd: root },
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const which = process.argv[2] ?? 'all';
  if (!['all', 'unit', 'integration', 'e2e'].includes(which)) {
    console.error(`unknown test group "${which}": use unit, integration, e2e or nothing for all`);
    return 2;
  }
  const unit = which === 'all' || which === 'unit' ? await testFiles('test/unit') : [];
  const integration = which === 'all' || which === 'integration' ? await testFiles('test/integration') : [];
  // End-to-end files (a browser on the Temporal UI) start their own dev server; they need the stack's
  // Postgres like the integration tests.
  const e2e = which === 'all' || which === 'e2e' ? await testFiles('test/e2e') : [];
  if (unit.length === 0 && integration.length === 0 && e2e.length === 0) {
    console.error('no test files found');
    return 1;
  }
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'test-stack');
  const env: NodeJS.ProcessEnv = { ...process.env };
  const stops: (() => Promise<void>)[] = [];
  try {
    if (integration.length > 0 || e2e.length > 0) {
      const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'syncwright-test-'));
      stops.push(() => fs.rm(tmp, { recursive: true, force: true }));
      const postgres = await resolvePostgres(config, log, { dataDir: path.join(tmp, 'postgres'), port: 0 });
      stops.push(() => postgres.stop());
      // Temporal: an existing TEMPORAL_ADDRESS is honoured; otherwise a throwaway dev server.
      const temporal = await resolveTemporal(loadConfig({ ...process.env, SYNCWRIGHT_HOME: tmp }), log, {
        persistent: false,
        ui: false,
        fixedPorts: false,
        dynamicConfig: TEST_DYNAMIC_CONFIG,
      });
      stops.push(() => temporal.stop());
      env.SYNCWRIGHT_TEST_ADMIN_DATABASE_URL = postgres.adminUrl;
      env.TEMPORAL_ADDRESS = temporal.address;
      console.log(
        `test stack: Postgres ${postgres.source}, Temporal ${temporal.address} (${temporal.source})`,
      );
    }
    // Timing-sensitive files (rate limits, kills, restarts) run one at a time after the rest, so a busy
    // machine does not bunch their requests up.
    const timed = [
      ...integration.filter((f) => /(rate-|crash-|restart-|durability)/.test(path.basename(f))),
      ...e2e,
    ];
    const parallel = [...unit, ...integration.filter((f) => !timed.includes(f))];
    const first = parallel.length
      ? await runNodeTests(parallel, env, Math.max(2, Math.min(4, os.availableParallelism())))
      : 0;
    const second = timed.length ? await runNodeTests(timed, env, 1) : 0;
    return first || second;
  } finally {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error('teardown:', e));
  }
}

// Make sure Postgres in a temp dir is stopped (not orphaned) when the run is interrupted.
let exiting = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (exiting) process.exit(130);
    exiting = true;
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
