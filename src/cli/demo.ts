/**
 * `syncwright demo` (what `npm start` runs): the whole path on embedded defaults. Starts Postgres and
 * Temporal, a worker, and a provider simulator; syncs a resource through a real workflow; prints what
 * happened and where to look in the Temporal UI.
 */
import { createActivities } from '../../activities/index.js';
import { syncResource } from '../../workflows/index.js';
import type { Config } from '../config.js';
import { HttpTransport } from '../http/transport.js';
import type { Logger } from '../log.js';
import { startLocalStack } from '../stack/local-stack.js';
import { listRecords } from '../store/records.js';
import { syncWorkflowId, type SyncInput } from '../sync/types.js';
import { connectClient } from '../temporal/client.js';
import { SyncConnection, SyncIntegration, SyncKind, SyncResource } from '../temporal/search-attributes.js';
import { startWorker } from '../temporal/worker.js';
import { generateRecords, startProviderSimulator } from '../testing/simulator.js';
import type { ShutdownScope } from './shutdown.js';

export interface DemoOptions {
  keep: boolean;
  records: number;
}

export async function runDemo(
  config: Config,
  log: Logger,
  scope: ShutdownScope,
  options: DemoOptions,
  out: (line: string) => void,
): Promise<void> {
  out('Starting the local stack (Postgres, Temporal dev server)…');
  const stack = await startLocalStack(config, log, { ui: true, persistent: true });
  scope.add('local stack', () => stack.stop());
  const { temporal, postgres } = stack;
  out(
    `  Postgres: ${postgres.source === 'embedded' ? `embedded, port ${postgres.embedded?.port}` : 'DATABASE_URL'}`,
  );
  out(`  Temporal: ${temporal.address} (${temporal.source})`);

  const simulator = await startProviderSimulator({ resources: { issues: generateRecords(options.records) } });
  scope.add('provider simulator', () => simulator.close());
  const http = new HttpTransport();
  scope.add('http transport', () => http.close());

  const worker = await startWorker({
    address: temporal.address,
    namespace: temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({ db: stack.db, http }),
  });
  scope.add('worker', () => worker.shutdown());
  out(`  Worker polling task queue "${config.temporal.taskQueue}"`);

  const client = await connectClient(temporal.address, temporal.namespace);
  scope.add('temporal client', () => client.connection.close());

  const input: SyncInput = {
    integration: 'demo-tracker',
    connection: 'demo',
    resource: 'issues',
    source: {
      url: `${simulator.url}/issues?per_page=${options.records}`,
      recordsPath: 'data',
      primaryKey: 'id',
    },
  };
  const workflowId = syncWorkflowId(input);
  out(`Syncing ${options.records} records from the provider simulator (${simulator.url}/issues)…`);
  const handle = await client.workflow.start(syncResource, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [input],
    staticSummary: `demo: sync ${input.integration}/${input.connection}/${input.resource}`,
    typedSearchAttributes: [
      { key: SyncIntegration, value: input.integration },
      { key: SyncConnection, value: input.connection },
      { key: SyncResource, value: input.resource },
      { key: SyncKind, value: 'full' },
    ],
  });
  const result = await handle.result();
  const stored = await listRecords(stack.db, input);
  out(
    `Done: fetched ${result.fetched}, inserted ${result.inserted}, updated ${result.updated}, ` +
      `unchanged ${result.unchanged}; ${stored.length} rows in table "records" for ${input.integration}/${input.connection}/${input.resource}.`,
  );
  const first = stored[0];
  if (first) out(`  e.g. ${first.key}: ${JSON.stringify(first.data)}`);
  out(`Workflow: ${workflowId} (run ${handle.firstExecutionRunId})`);
  if (temporal.uiUrl) {
    out(`Temporal UI: ${temporal.uiUrl}`);
    out(
      `  this run: ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(workflowId)}/${handle.firstExecutionRunId}/history`,
    );
  }
  if (options.keep) {
    out('Staying up for inspection (--keep). Press Ctrl-C to stop.');
    await scope.untilSignal();
  }
}
