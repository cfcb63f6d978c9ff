/**
 * Sync benchmark: records/second through the engine (Temporal workflow + activities) against a plain
 * loop over the same page source and the same page commit (same simulator, HTTP client and upsert SQL,
 * no Temporal), in the same process, plus the process's peak RSS while the engine runs.
 */
import { createActivities } from '../../activities/index.js';
import { createSpecPageSources } from '../../src/sync/spec-page-source.js';
import { commitPage, finishRun, startRun } from '../../src/store/runs.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { startWorker } from '../../src/temporal/worker.js';
import { generateRecords, startProviderSimulator } from '../../src/testing/simulator.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, uniqueId } from '../helpers/stack.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';

export async function syncBenchmark(records: number): Promise<void> {
  const env = await testEnv();
  const sim = await startProviderSimulator({
    auth: { type: 'bearer', token: TOKEN },
    resources: { issues: { records: generateRecords(records), pagination: 'page' } },
  });
  const spec = trackerSpec(sim.url);
  const box = SecretBox.fromKey(TEST_KEY);
  const specs = new Map([[spec.id, spec]]);
  const openPageSource = createSpecPageSources({ db: env.db, specs, secretBox: box, env: {} });
  const taskQueue = uniqueId('bench');
  const worker = await startWorker({
    address: env.temporalAddress,
    namespace: env.namespace,
    taskQueue,
    activities: createActivities({ db: env.db, specs, secretBox: box, env: {}, openPageSource }),
    workflowBundle: env.workflowBundle,
  });
  const newConnection = async () => {
    const id = uniqueId('bench');
    await saveConnection(env.db, box, { integration: spec.id, id, config: {}, secrets: { token: TOKEN } });
    return id;
  };

  /** The baseline: the same page source and page commit as the activity, in a plain loop. */
  const plainLoop = async (): Promise<number> => {
    const connection = await newConnection();
    const target = { integration: spec.id, connection, resource: 'issues' };
    let run = await startRun(env.db, { ...target, id: uniqueId('plain'), workflowId: 'plain', kind: 'full' });
    const source = await openPageSource(run);
    const signal = new AbortController().signal;
    let pages = 0;
    for (let done = false; !done; pages++) {
      const page = await source.readPage({
        checkpoint: run.checkpoint,
        pagesSoFar: pages,
        since: null,
        signal,
      });
      await commitPage(env.db, target, {
        runId: run.id,
        expectedPages: pages,
        checkpoint: page.checkpoint,
        done: page.done,
        total: page.total,
        highWater: page.highWater,
        fetched: page.fetched,
        records: page.records,
        quarantined: page.quarantined,
        trackSeen: true,
      });
      run = { ...run, checkpoint: page.checkpoint };
      done = page.done;
    }
    const finished = await finishRun(env.db, { runId: run.id, status: 'completed' });
    return finished.inserted;
  };

  const engine = async (): Promise<number> => {
    const connection = await newConnection();
    const handle = await startSync(
      env.client,
      { integration: spec.id, connection, resource: 'issues', kind: 'full', pagesPerActivity: 20 },
      { taskQueue },
    );
    return (await handle.result()).inserted;
  };

  const measure = async (name: string, fn: () => Promise<number>) => {
    global.gc?.();
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const start = performance.now();
    const inserted = await fn();
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    if (inserted !== records) throw new Error(`${name} inserted ${inserted} of ${records} records`);
    return { name, seconds, perSecond: records / seconds, peakMb: peak / 2 ** 20 };
  };

  try {
    // Warm up both paths (JIT, connection pools, workflow cache) on a small run.
    const warm = sim.records('issues');
    sim.setRecords('issues', warm.slice(0, 2_000));
    await plainLoop();
    await engine();
    sim.setRecords('issues', warm);

    const base = await measure('plain loop', plainLoop);
    const eng = await measure('engine', engine);
    const fmt = (r: typeof base) =>
      `  ${r.name.padEnd(10)} ${r.perSecond.toFixed(0).padStart(7)} records/s  (${r.seconds.toFixed(1)} s, peak RSS ${r.peakMb.toFixed(0)} MiB)`;
    console.log(`sync: ${records.toLocaleString('en')} records, 100 per page, inserted into Postgres`);
    console.log(fmt(base));
    console.log(fmt(eng));
    console.log(`  ratio engine/plain: ${(eng.perSecond / base.perSecond).toFixed(2)}x (target >= 0.80x)`);
  } finally {
    await worker.shutdown();
    await sim.close();
  }
}
