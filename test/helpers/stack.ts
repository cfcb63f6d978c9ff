/**
 * Integration-test access to the real stack started by test/run.ts (or started here when a test file is
 * run on its own): an isolated, migrated database per test file and a unique task queue per worker.
 */
import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createScratchDatabase, resolvePostgres } from '../../src/stack/postgres.js';
import { resolveTemporal } from '../../src/stack/temporal.js';
import { createDb, type Db } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { connectTemporal } from '../../src/temporal/client.js';
import { bundleWorkflows } from '../../src/temporal/worker.js';
import { TEST_DYNAMIC_CONFIG } from './dynamic-config.js';

export interface TestEnv {
  temporalAddress: string;
  namespace: string;
  client: Client;
  db: Db;
  databaseUrl: string;
  workflowBundle: WorkflowBundleWithSourceMap;
  uniqueId(prefix: string): string;
  /** Drops the database and stops what this file started; call from the file's after(). */
  close(): Promise<void>;
}

let envPromise: Promise<TestEnv> | undefined;

// Worker state changes and bundling are noise in test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Closes the shared environment if this process started one (benchmarks that may not need it). */
export async function closeTestEnv(): Promise<void> {
  if (envPromise) await (await envPromise).close();
}

/** The shared environment of this test file (one per process); close() it in after(). */
export function testEnv(): Promise<TestEnv> {
  envPromise ??= createTestEnv();
  return envPromise;
}

async function createTestEnv(): Promise<TestEnv> {
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'test');
  const config = loadConfig();
  const cleanups: (() => Promise<unknown>)[] = [];

  let adminUrl = process.env.SYNCWRIGHT_TEST_ADMIN_DATABASE_URL ?? config.postgres.url;
  if (!adminUrl) {
    const postgres = await resolvePostgres(config, log, { port: 0 });
    cleanups.push(() => postgres.stop());
    adminUrl = postgres.adminUrl;
  }
  let temporalAddress = config.temporal.address;
  if (!temporalAddress) {
    const temporal = await resolveTemporal(config, log, {
      persistent: false,
      ui: false,
      fixedPorts: false,
      dynamicConfig: TEST_DYNAMIC_CONFIG,
    });
    cleanups.push(() => temporal.stop());
    temporalAddress = temporal.address;
  }

  const database = await createScratchDatabase(adminUrl, uniqueId('sw_test').replaceAll('-', '_'));
  cleanups.push(() => database.drop());
  const databaseUrl = database.url;
  const db = createDb(databaseUrl);
  cleanups.push(() => db.destroy());
  await migrateToLatest(db);

  const connection = await connectTemporal(temporalAddress);
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: config.temporal.namespace });

  return {
    temporalAddress,
    namespace: config.temporal.namespace,
    client,
    db,
    databaseUrl,
    workflowBundle: await bundleWorkflows(),
    uniqueId,
    close: async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
}
