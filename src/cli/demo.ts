/**
 * `syncwright demo` (what `npm start` runs): the whole path on embedded defaults. Starts Postgres and
 * Temporal, a worker, and a provider simulator; adds a connection; runs a full sync and an incremental
 * sync through real workflows; prints what happened and where to look in the Temporal UI.
 */
import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities/index.js';
import { defineIntegration } from '../spec/define.js';
import { localEncryptionKey } from '../stack/local-key.js';
import { startLocalStack } from '../stack/local-stack.js';
import { saveConnection } from '../store/connections.js';
import { listRecords } from '../store/records.js';
import { SecretBox } from '../store/secret-box.js';
import type { RunSummary, SyncWorkflowInput } from '../sync/types.js';
import { connectClient } from '../temporal/client.js';
import { startSync } from '../temporal/sync-client.js';
import { startWorker } from '../temporal/worker.js';
import { generateRecords, startProviderSimulator } from '../testing/simulator.js';
import type { CliContext } from './context.js';

export interface DemoOptions {
  keep: boolean;
  records: number;
}

export function demoSpec(baseUrl: string) {
  return defineIntegration({
    id: 'demo-tracker',
    name: 'Demo issue tracker (the provider simulator)',
    baseUrl,
    secrets: { token: 'API token' },
    auth: { type: 'bearer', token: 'token' },
    resources: {
      issues: {
        request: { path: '/issues' },
        recordsPath: 'data',
        primaryKey: 'id',
        fields: {
          id: { type: 'integer' },
          title: 'title',
          state: 'state',
          priority: { type: 'integer' },
          updated_at: { type: 'timestamp' },
        },
        pagination: {
          type: 'page',
          pageParam: 'page',
          sizeParam: 'per_page',
          pageSize: 100,
          totalPath: 'total',
        },
        incremental: { cursorField: 'updated_at', param: 'updated_since' },
      },
    },
  });
}

const counts = (r: RunSummary) =>
  `${r.pages} pages, fetched ${r.fetched}: inserted ${r.inserted}, updated ${r.updated}, unchanged ${r.unchanged}, deleted ${r.deleted}, quarantined ${r.quarantined}`;

export async function runDemo(ctx: CliContext, options: DemoOptions): Promise<void> {
  const { config, log, scope } = ctx;
  const out = (line: string) => ctx.out(line);
  out('Starting the local stack (Postgres, Temporal dev server)…');
  const stack = await startLocalStack(config, log, { ui: true, persistent: true });
  scope.add('local stack', () => stack.stop());
  const { temporal, postgres } = stack;
  out(
    `  Postgres: ${postgres.source === 'embedded' ? `embedded, port ${postgres.embedded?.port}` : 'DATABASE_URL'}`,
  );
  out(`  Temporal: ${temporal.address} (${temporal.source})`);

  const token = randomBytes(16).toString('hex');
  const simulator = await startProviderSimulator({
    auth: { type: 'bearer', token },
    resources: { issues: generateRecords(options.records) },
  });
  scope.add('provider simulator', () => simulator.close());
  const spec = demoSpec(simulator.url);
  const box = SecretBox.fromKey(await localEncryptionKey(config.homeDir, config.encryptionKey));
  await saveConnection(stack.db, box, { integration: spec.id, id: 'demo', config: {}, secrets: { token } });
  out(
    `  Provider simulator: ${simulator.url} (${options.records} issues, bearer auth); connection "demo" added`,
  );

  const worker = await startWorker({
    address: temporal.address,
    namespace: temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({
      db: stack.db,
      specs: new Map([[spec.id, spec]]),
      secretBox: box,
      env: {},
    }),
  });
  scope.add('worker', () => worker.shutdown());
  out(`  Worker polling task queue "${config.temporal.taskQueue}"`);

  const client = await connectClient(temporal.address, temporal.namespace);
  scope.add('temporal client', () => client.connection.close());
  const input: SyncWorkflowInput = {
    integration: spec.id,
    connection: 'demo',
    resource: 'issues',
    kind: 'full',
    retry: spec.retry,
  };

  out('Full sync…');
  const full = await startSync(client, input, { taskQueue: config.temporal.taskQueue });
  const fullResult = await full.result();
  out(`  ${counts(fullResult)}`);

  // Change a few records at the provider, then pick them up incrementally.
  const changedAt = new Date().toISOString();
  simulator.setRecords(
    'issues',
    simulator
      .records('issues')
      .map((r) => (Number(r.id) % 100 === 0 ? { ...r, state: 'closed', updated_at: changedAt } : r)),
  );
  out('Incremental sync after the provider changed some issues…');
  const inc = await startSync(
    client,
    { ...input, kind: 'incremental' },
    { taskQueue: config.temporal.taskQueue },
  );
  const incResult = await inc.result();
  out(`  ${counts(incResult)}`);

  const stored = await listRecords(stack.db, input);
  out(`Table "records" holds ${stored.length} live rows for ${spec.id}/demo/issues.`);
  const first = stored.find((r) => r.key === '100') ?? stored[0];
  if (first) out(`  e.g. ${first.key}: ${JSON.stringify(first.data)}`);
  out(`Workflow: ${full.workflowId}`);
  if (temporal.uiUrl) {
    out(`Temporal UI: ${temporal.uiUrl}`);
    out(
      `  runs: ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows?query=${encodeURIComponent(`SyncIntegration="${spec.id}"`)}`,
    );
  }
  if (options.keep) {
    out('Staying up for inspection (--keep). Press Ctrl-C to stop.');
    await scope.untilSignal();
  }
}
