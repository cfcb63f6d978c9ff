/**
 * Fan-out benchmark: many one-page syncs started at once (one per connection) against a floor of the
 * same number of workflows of three no-op activities, on the same Temporal server, each through a worker
 * with the same settings, in the same process. The ratio is floor time / engine time, over paired rounds
 * (engine and floor alternate, so a busy moment on the machine hits both).
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities/index.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { startWorker } from '../../src/temporal/worker.js';
import { generateRecords, startProviderSimulator } from '../../src/testing/simulator.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, uniqueId } from '../helpers/stack.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';
import { createFloorActivities } from './floor/activities.js';

const ROUNDS = 3;
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

export async function fanoutBenchmark(runs = 200): Promise<void> {
  const env = await testEnv();
  const sim = await startProviderSimulator({
    auth: { type: 'bearer', token: TOKEN },
    resources: { issues: { records: generateRecords(50), pagination: 'page' } },
  });
  const spec = trackerSpec(sim.url);
  const box = SecretBox.fromKey(TEST_KEY);
  const engineQueue = uniqueId('fanout');
  const floorQueue = uniqueId('floor');
  const engineWorker = await startWorker({
    address: env.temporalAddress,
    namespace: env.namespace,
    taskQueue: engineQueue,
    activities: createActivities({ db: env.db, specs: new Map([[spec.id, spec]]), secretBox: box, env: {} }),
    workflowBundle: env.workflowBundle,
  });
  const floorBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./floor/workflows.ts', import.meta.url)),
    logger: silent,
  });
  const floorWorker = await startWorker({
    address: env.temporalAddress,
    namespace: env.namespace,
    taskQueue: floorQueue,
    // Same worker settings as the engine's; only the workflow and its activities differ.
    activities: createFloorActivities() as unknown as Activities,
    workflowBundle: floorBundle,
  });

  /** `runs` one-page first syncs of as many new connections, started at once; seconds until all end. */
  const engine = async (): Promise<number> => {
    const connections = Array.from({ length: runs }, () => uniqueId('fan'));
    await Promise.all(
      connections.map((id) =>
        saveConnection(env.db, box, { integration: spec.id, id, config: {}, secrets: { token: TOKEN } }),
      ),
    );
    const start = performance.now();
    const handles = await Promise.all(
      connections.map((connection) =>
        startSync(
          env.client,
          { integration: spec.id, connection, resource: 'issues', kind: 'full' },
          { taskQueue: engineQueue },
        ),
      ),
    );
    const results = await Promise.all(handles.map((h) => h.result()));
    const seconds = (performance.now() - start) / 1000;
    const bad = results.find((r) => r.status !== 'completed' || r.inserted !== 50 || r.pages !== 1);
    if (bad) throw new Error(`a fan-out sync did not insert its one page: ${JSON.stringify(bad)}`);
    return seconds;
  };

  const floor = async (): Promise<number> => {
    const start = performance.now();
    const handles = await Promise.all(
      Array.from({ length: runs }, () =>
        env.client.workflow.start('floorWorkflow', {
          taskQueue: floorQueue,
          workflowId: uniqueId('floor'),
          args: [],
        }),
      ),
    );
    const results = await Promise.all(handles.map((h) => h.result() as Promise<number>));
    const seconds = (performance.now() - start) / 1000;
    if (results.some((r) => r !== 3)) throw new Error('a floor workflow did not run its three activities');
    return seconds;
  };

  try {
    // Warm-up: JIT, pools, workflow caches of both workers.
    await floor();
    await engine();
    const ratios: number[] = [];
    console.log(`fanout: ${runs} one-page syncs of ${runs} connections started at once`);
    for (let round = 1; round <= ROUNDS; round++) {
      const f = round % 2 ? await floor() : 0;
      const e = await engine();
      const f2 = round % 2 ? f : await floor();
      ratios.push(f2 / e);
      console.log(
        `  round ${round}: floor ${f2.toFixed(2)} s (${(runs / f2).toFixed(0)} runs/s), engine ${e.toFixed(2)} s (${(runs / e).toFixed(0)} runs/s), engine/floor ${(f2 / e).toFixed(2)}x`,
      );
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(
      `  median engine/floor: ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}x (range ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)}x, target >= 0.90x)`,
    );
  } finally {
    await engineWorker.shutdown();
    await floorWorker.shutdown();
    await sim.close();
  }
}
