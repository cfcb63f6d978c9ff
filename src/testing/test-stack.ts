/**
 * createTestStack(): what an integration author's test needs to prove a spec on the real engine — a
 * real Postgres (an isolated, migrated database of its own), a real Temporal dev server, a worker for
 * the given specs, and the webhook receiver — with helpers to add connections, run syncs, read records
 * and send webhooks. Uses DATABASE_URL / TEMPORAL_ADDRESS when set, else starts embedded ones.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Client } from '@temporalio/client';
import { createActivities } from '../../activities/index.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { withBaseUrl } from '../spec/define.js';
import { loadSpecs } from '../spec/load.js';
import type { IntegrationSpec } from '../spec/schema.js';
import { createScratchDatabase, resolvePostgres } from '../stack/postgres.js';
import { resolveTemporal } from '../stack/temporal.js';
import { createDb, type Db } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { listRecords, type StoredRecord } from '../store/records.js';
import { SecretBox } from '../store/secret-box.js';
import { addConnection } from '../sync/connections.js';
import type { RunSummary, SyncKind } from '../sync/types.js';
import { connectClient } from '../temporal/client.js';
import { startSync } from '../temporal/sync-client.js';
import { startWorker, workerClient, workerPoolSize } from '../temporal/worker.js';
import { countEvents, listEvents, type EventSummary } from '../webhooks/inbox-queries.js';
import { webhookPath } from '../webhooks/receiver.js';
import { startWebhookService } from '../temporal/webhook-service.js';
import { postWebhook, type WebhookAnswer, type WebhookDelivery } from './webhooks.js';

export interface TestStackOptions {
  /** Specs: parsed ones, or a spec file or directory. */
  specs: IntegrationSpec[] | string;
  /** Point integrations at a simulator: integration id → base URL. */
  baseUrls?: Record<string, string>;
}

export interface TestStack {
  readonly db: Db;
  /** The stack's own database, for a test's or a benchmark's own connections. */
  readonly databaseUrl: string;
  readonly client: Client;
  readonly taskQueue: string;
  readonly specs: ReadonlyMap<string, IntegrationSpec>;
  /** Base URL of the webhook receiver (POST <url><webhooks.path>/<connection>). */
  readonly webhookUrl: string;
  /** Adds or replaces a connection, checked against its spec like `connection add` (ConnectionConfigError). */
  addConnection(
    integration: string,
    id: string,
    options?: { config?: Record<string, unknown>; secrets?: Record<string, string> },
  ): Promise<void>;
  /** Runs a sync workflow to its end and returns its summary (throws if it fails). */
  sync(
    integration: string,
    resource: string,
    options: { connection: string; mode?: SyncKind },
  ): Promise<RunSummary>;
  records(
    integration: string,
    resource: string,
    options: { connection: string; includeDeleted?: boolean },
  ): Promise<StoredRecord[]>;
  /** Signs `payload` with the spec's scheme and `secret` and POSTs it to the connection's route. */
  sendWebhook(
    integration: string,
    connection: string,
    secret: string,
    payload: unknown,
    delivery?: WebhookDelivery,
  ): Promise<WebhookAnswer>;
  /** Waits until no webhook event is waiting or in flight; returns the events, newest first. */
  webhooksSettled(timeoutMs?: number): Promise<EventSummary[]>;
  close(): Promise<void>;
}

export async function createTestStack(options: TestStackOptions): Promise<TestStack> {
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'test-stack');
  const config = loadConfig();
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const loaded =
      typeof options.specs === 'string' ? [...(await loadSpecs(options.specs)).values()] : options.specs;
    const specs = pointSpecsAt(loaded, options.baseUrls);

    // Postgres: the server of DATABASE_URL, or an embedded one in a temporary directory.
    let adminUrl = process.env.SYNCWRIGHT_TEST_ADMIN_DATABASE_URL ?? config.postgres.url;
    if (!adminUrl) {
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'syncwright-test-pg-'));
      cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
      const postgres = await resolvePostgres(config, log, { dataDir, port: 0 });
      cleanups.push(() => postgres.stop());
      adminUrl = postgres.adminUrl;
    }
    const suffix = randomBytes(4).toString('hex');
    const database = await createScratchDatabase(adminUrl, `syncwright_test_${process.pid}_${suffix}`);
    cleanups.push(() => database.drop());
    const db = createDb(database.url, { max: workerPoolSize() });
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);

    const temporal = await resolveTemporal(config, log, { persistent: false, ui: false, fixedPorts: false });
    cleanups.push(() => temporal.stop());
    const client = await connectClient(temporal.address, temporal.namespace);
    cleanups.push(() => client.connection.close());

    const box = SecretBox.fromKey(randomBytes(32).toString('base64'));
    const taskQueue = `test-stack-${process.pid}-${suffix}`;
    const worker = await startWorker({
      address: temporal.address,
      namespace: temporal.namespace,
      taskQueue,
      activities: createActivities({ db, specs, secretBox: box, env: process.env, log }),
    });
    cleanups.push(() => worker.shutdown());
    // Syncs start on the worker's own connection, eagerly: the first workflow task comes back with the
    // start instead of through the server's matching.
    const starter = workerClient(worker, temporal.namespace);
    const webhooks = await startWebhookService({
      db,
      specs,
      secretBox: box,
      env: process.env,
      log,
      connect: () => Promise.resolve(client),
      taskQueue,
      port: 0,
    });
    cleanups.push(() => webhooks.close());

    const specOf = (integration: string) => {
      const spec = specs.get(integration);
      if (!spec)
        throw new Error(`unknown integration "${integration}" (loaded: ${[...specs.keys()].join(', ')})`);
      return spec;
    };

    return {
      db,
      databaseUrl: database.url,
      client,
      taskQueue,
      specs,
      webhookUrl: webhooks.receiver.url,
      addConnection: (integration, id, o = {}) =>
        addConnection(db, box, specOf(integration), {
          integration,
          id,
          config: o.config ?? {},
          secrets: o.secrets ?? {},
        }),
      async sync(integration, resource, o) {
        specOf(integration);
        const handle = await startSync(
          starter,
          { integration, connection: o.connection, resource, kind: o.mode ?? 'full' },
          { taskQueue, eager: true },
        );
        return handle.result();
      },
      records: (integration, resource, o) =>
        listRecords(
          db,
          { integration, connection: o.connection, resource },
          { includeDeleted: o.includeDeleted ?? false },
        ),
      sendWebhook(integration, connection, secret, payload, delivery) {
        const spec = specOf(integration);
        if (!spec.webhooks) throw new Error(`integration "${integration}" has no webhooks section`);
        const url = `${webhooks.receiver.url}${webhookPath(spec)}/${encodeURIComponent(connection)}`;
        return postWebhook(url, spec.webhooks.signature, secret, payload, delivery);
      },
      async webhooksSettled(timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const c = await countEvents(db);
          if (c.received === 0 && c.dispatched === 0) return listEvents(db, { limit: 10_000 });
          if (Date.now() > deadline) throw new Error(`webhook events still pending: ${JSON.stringify(c)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The specs by id, each pointed at its URL in `baseUrls` (a simulator). The specs are parsed already:
 * only the new URL is validated, so whatever parsing changed (rate limits, defaults) is kept as it is.
 */
export function pointSpecsAt(
  specs: readonly IntegrationSpec[],
  baseUrls: Record<string, string> = {},
): Map<string, IntegrationSpec> {
  return new Map(
    specs.map((s) => {
      const url = baseUrls[s.id];
      return [s.id, url ? withBaseUrl(s, url) : s];
    }),
  );
}
