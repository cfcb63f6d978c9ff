/** A worker running the real sync engine (spec-driven page sources) against the shared test stack. */
import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities/index.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import type { SyncKind, SyncWorkflowInput } from '../../src/sync/types.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import type { TestEnv } from './stack.js';
import { TOKEN } from './tracker-spec.js';
import type { Db } from '../../src/store/db.js';
import type { NotifyTarget } from '../../src/sync/notifications.js';

export const TEST_KEY = randomBytes(32).toString('base64');

/** A connection of the tracker spec (test/helpers/tracker-spec.ts) with its API token and any extra secrets. */
export function saveTrackerConnection(
  db: Db,
  id: string,
  secrets: Record<string, string> = {},
): Promise<void> {
  return saveConnection(db, SecretBox.fromKey(TEST_KEY), {
    integration: 'tracker',
    id,
    config: {},
    secrets: { token: TOKEN, ...secrets },
  });
}

export interface EngineHarness {
  taskQueue: string;
  worker: RunningWorker;
  box: SecretBox;
  addConnection(
    integration: string,
    id: string,
    secrets?: Record<string, string>,
    config?: Record<string, unknown>,
  ): Promise<void>;
  input(
    integration: string,
    connection: string,
    resource: string,
    kind?: SyncKind,
    over?: Partial<SyncWorkflowInput>,
  ): SyncWorkflowInput;
  run(input: SyncWorkflowInput): ReturnType<typeof startSync>;
  close(): Promise<void>;
}

export async function startEngine(
  env: TestEnv,
  specs: IntegrationSpec[],
  options: { notify?: NotifyTarget } = {},
): Promise<EngineHarness> {
  const box = SecretBox.fromKey(TEST_KEY);
  const taskQueue = env.uniqueId('engine');
  const registry = new Map(specs.map((s) => [s.id, s]));
  const worker = await startWorker({
    address: env.temporalAddress,
    namespace: env.namespace,
    taskQueue,
    activities: createActivities({
      db: env.db,
      specs: registry,
      secretBox: box,
      env: {},
      ...(options.notify ? { notify: options.notify } : {}),
    }),
    workflowBundle: env.workflowBundle,
  });
  return {
    taskQueue,
    worker,
    box,
    addConnection: (integration, id, secrets = {}, config = {}) =>
      saveConnection(env.db, box, { integration, id, secrets, config }),
    input: (integration, connection, resource, kind = 'full', over = {}) => ({
      integration,
      connection,
      resource,
      kind,
      pagesPerActivity: 10,
      retry: { maxAttempts: 6, initialIntervalMs: 100, maxIntervalMs: 1000 },
      ...over,
    }),
    run: (input) => startSync(env.client, input, { taskQueue }),
    close: () => worker.shutdown(),
  };
}
