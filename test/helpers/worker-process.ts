/** Starts test/fixtures/worker-process.ts in its own process (to be killed with SIGKILL) once it polls. */
import { spawn, type ChildProcess } from 'node:child_process';
import { TEST_KEY } from './engine.js';
import type { TestEnv } from './stack.js';

export function startWorkerProcess(
  env: TestEnv,
  options: {
    taskQueue: string;
    simulatorUrl: string;
    ratePerSecond?: number;
    /** More environment for the fixture, e.g. BULK_SPEC (test/fixtures/worker-process.ts). */
    env?: Record<string, string>;
    /** Node flags for the worker process, e.g. --max-old-space-size=128. */
    nodeArgs?: string[];
    /** A JavaScript build of the fixture to run instead of the TypeScript through tsx. */
    script?: string;
  },
): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      ...(options.script ? [options.script] : ['--import', 'tsx', 'test/fixtures/worker-process.ts']),
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: env.databaseUrl,
        TEMPORAL_ADDRESS: env.temporalAddress,
        TASK_QUEUE: options.taskQueue,
        SIM_URL: options.simulatorUrl,
        ENC_KEY: TEST_KEY,
        ...(options.ratePerSecond ? { RATE_PER_SECOND: String(options.ratePerSecond) } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(proc);
    });
    proc.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
  });
}
