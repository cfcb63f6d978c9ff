/**
 * Restarting the infrastructure under a running sync: this file runs its own Temporal dev server (with a
 * SQLite file, so history survives) and its own embedded Postgres, and restarts each mid-sync.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createActivities } from '../../activities/index.js';
import { freePort } from '../../src/net.js';
import { createDatabaseIfMissing } from '../../src/stack/postgres.js';
import { connectClient } from '../../src/temporal/client.js';
import type { RunningDevServer } from '../../src/temporal/dev-server.js';
import { startOwnDevServer } from '../helpers/dev-server.js';
import { startSync, syncProgress } from '../../src/temporal/sync-client.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import { createDb, type Db } from '../../src/store/db.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/store/embedded-postgres.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { listRecords } from '../../src/store/records.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { TEST_KEY } from '../helpers/engine.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';
import type { Client } from '@temporalio/client';

describe('restarts: the Temporal dev server and Postgres restarted mid-sync', () => {
  let dir: string;
  let pg: RunningPostgres;
  let pgPort: number;
  let temporal: RunningDevServer;
  let temporalPort: number;
  let db: Db;
  let client: Client;
  let worker: RunningWorker;
  let sim: ProviderSimulator;
  const taskQueue = 'restarts';

  const startTemporal = () => startOwnDevServer({ dir, port: temporalPort, persistent: true });

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-restart-'));
    pgPort = await freePort();
    temporalPort = await freePort();
    pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort });
    await createDatabaseIfMissing(pg.url(), 'syncwright');
    db = createDb(pg.url('syncwright'));
    await migrateToLatest(db);
    temporal = await startTemporal();
    client = await connectClient(temporal.address, 'default');
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      latencyMs: 20,
      resources: { by_offset: { records: generateRecords(4_000), pagination: 'offset' } },
    });
    const spec = trackerSpec(sim.url);
    const box = SecretBox.fromKey(TEST_KEY);
    await saveConnection(db, box, {
      integration: spec.id,
      id: 'acme',
      config: {},
      secrets: { token: TOKEN },
    });
    worker = await startWorker({
      address: temporal.address,
      namespace: 'default',
      taskQueue,
      activities: createActivities({ db, specs: new Map([[spec.id, spec]]), secretBox: box, env: {} }),
      workflowBundle: await bundleWorkflows(),
    });
  });

  after(async () => {
    await worker?.shutdown().catch(() => undefined);
    await client?.connection.close().catch(() => undefined);
    await temporal?.stop();
    await sim?.close();
    await db?.destroy();
    await pg?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('completes with every record exactly once', async () => {
    const handle = await startSync(
      client,
      {
        integration: 'tracker',
        connection: 'acme',
        resource: 'by_offset',
        kind: 'full',
        pagesPerActivity: 2,
        heartbeatTimeoutMs: 3000,
        retry: { maxAttempts: 50, initialIntervalMs: 200, maxIntervalMs: 2000 },
      },
      { taskQueue },
    );
    const waitForPages = async (n: number) => {
      for (
        const deadline = Date.now() + 60_000;
        Date.now() < deadline;
        await new Promise((r) => setTimeout(r, 100))
      ) {
        const p = await syncProgress(handle).catch(() => undefined);
        if (p && p.pages >= n) return;
      }
      throw new Error(`sync did not reach ${n} pages`);
    };

    await waitForPages(5);
    await temporal.stop();
    await new Promise((r) => setTimeout(r, 1000));
    temporal = await startTemporal();

    await waitForPages(15);
    await pg.stop();
    await new Promise((r) => setTimeout(r, 1500));
    pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort });

    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.deepEqual([result.pages, result.fetched, result.inserted, result.unchanged], [40, 4000, 4000, 0]);
    const stored = await listRecords(db, {
      integration: 'tracker',
      connection: 'acme',
      resource: 'by_offset',
    });
    assert.equal(stored.length, 4000);
  });
});
