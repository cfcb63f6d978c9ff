/**
 * Starts test/fixtures/worker-process.ts in its own process (to be killed with SIGKILL) once it polls.
 *
 * The process starts as a deployed worker does: the fixture built to JavaScript once per test process
 * and the test environment's workflow bundle, not tsx and webpack in every child. Four workers booting
 * at once otherwise spend seconds of CPU on 2 cores compiling, which stalls the workers already sending
 * (tests that count arrivals per second at a strict provider see that as jitter).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { TEST_KEY } from './engine.js';
import type { TestEnv } from './stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Files this test process wrote for its workers, removed when it exits. */
const written: string[] = [];
process.once('exit', () => {
  for (const f of written) rmSync(f, { force: true });
});

let fixtureBuild: Promise<string> | undefined;
/** The fixture as one ESM file under the repository (so its packages resolve), one per test process. */
export function buildWorkerFixture(): Promise<string> {
  fixtureBuild ??= (async () => {
    const outfile = path.join(ROOT, '.syncwright', 'test', `worker-process-${process.pid}.mjs`);
    await build({
      absWorkingDir: ROOT,
      entryPoints: ['test/fixtures/worker-process.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile,
      logLevel: 'warning',
    });
    written.push(outfile);
    return outfile;
  })();
  return fixtureBuild;
}

const bundleFiles = new WeakMap<TestEnv, string>();
/** The environment's workflow bundle as the JSON file the fixture reads (WORKFLOW_BUNDLE). */
function workflowBundleFile(env: TestEnv): string {
  let file = bundleFiles.get(env);
  if (!file) {
    file = path.join(tmpdir(), `syncwright-test-bundle-${process.pid}-${env.uniqueId('b')}.json`);
    writeFileSync(file, JSON.stringify(env.workflowBundle));
    written.push(file);
    bundleFiles.set(env, file);
  }
  return file;
}

export async function startWorkerProcess(
  env: TestEnv,
  options: {
    taskQueue: string;
    simulatorUrl: string;
    ratePerSecond?: number;
    /** More environment for the fixture, e.g. BULK_SPEC (test/fixtures/worker-process.ts). */
    env?: Record<string, string>;
    /** Node flags for the worker process, e.g. --max-old-space-size=128. */
    nodeArgs?: string[];
    /** Another JavaScript build of the fixture to run (default: buildWorkerFixture()). */
    script?: string;
  },
): Promise<ChildProcess> {
  const script = options.script ?? (await buildWorkerFixture());
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), script], {
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TASK_QUEUE: options.taskQueue,
      SIM_URL: options.simulatorUrl,
      ENC_KEY: TEST_KEY,
      WORKFLOW_BUNDLE: workflowBundleFile(env),
      ...(options.ratePerSecond ? { RATE_PER_SECOND: String(options.ratePerSecond) } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(proc);
    });
    proc.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
  });
}
