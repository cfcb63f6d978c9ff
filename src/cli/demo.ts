/**
 * `syncwright demo` (what `npm start` runs): the whole path on embedded defaults. Starts Postgres and
 * Temporal, a worker, the webhook receiver and a provider simulator; adds a connection; runs a full sync,
 * sends a burst of signed webhooks (some duplicates), runs an incremental sync, all through real
 * workflows; prints what happened and where to look in the Temporal UI.
 */
import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities/index.js';
import { defineIntegration } from '../spec/define.js';
import { localEncryptionKey } from '../stack/local-key.js';
import { startLocalStack } from '../stack/local-stack.js';
import { listRecords } from '../store/records.js';
import { SecretBox } from '../store/secret-box.js';
import { addConnection } from '../sync/connections.js';
import type { RunSummary, SyncWorkflowInput } from '../sync/types.js';
import { connectClient } from '../temporal/client.js';
import { startSync, syncProgress } from '../temporal/sync-client.js';
import { startWorker } from '../temporal/worker.js';
import { generateRecords, startProviderSimulator } from '../testing/simulator.js';
import { postWebhook } from '../testing/webhooks.js';
import { countEvents } from '../webhooks/inbox-queries.js';
import { webhookPath } from '../webhooks/receiver.js';
import { startWebhookService } from '../temporal/webhook-service.js';
import { installSdkLogger, type CliContext } from './context.js';
import { createProgressDisplay } from './progress-display.js';

export interface DemoOptions {
  keep: boolean;
  records: number;
}

export function demoSpec(baseUrl: string) {
  return defineIntegration({
    id: 'demo-tracker',
    name: 'Demo issue tracker (the provider simulator)',
    baseUrl,
    secrets: { token: 'API token', webhook_secret: 'webhook signing secret' },
    auth: { type: 'bearer', token: 'token' },
    rateLimits: [{ limit: 50, per: 'second' }],
    webhooks: {
      signature: { scheme: 'standard-webhooks', secrets: ['webhook_secret'] },
      eventId: { header: 'webhook-id' },
      eventType: { path: 'type' },
      order: { path: 'data.updated_at' },
      events: {
        'issue.updated': { action: 'upsert', resource: 'issues', record: 'data' },
        'issue.deleted': { action: 'delete', resource: 'issues', id: 'data.id' },
      },
    },
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
  await installSdkLogger(ctx);
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
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const simulator = await startProviderSimulator({
    auth: { type: 'bearer', token },
    resources: { issues: generateRecords(options.records) },
  });
  scope.add('provider simulator', () => simulator.close());
  const spec = demoSpec(simulator.url);
  const box = SecretBox.fromKeys(
    await localEncryptionKey(config.homeDir, config.encryptionKey),
    config.encryptionKeysOld,
  );
  await addConnection(stack.db, box, spec, {
    integration: spec.id,
    id: 'demo',
    config: {},
    secrets: { token, webhook_secret: webhookSecret },
  });
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
  const webhooks = await startWebhookService({
    db: stack.db,
    specs: new Map([[spec.id, spec]]),
    secretBox: box,
    env: {},
    log,
    connect: () => Promise.resolve(client),
    taskQueue: config.temporal.taskQueue,
    port: 0,
  });
  scope.add('webhooks', () => webhooks.close());
  out(`  Webhook receiver: ${webhooks.receiver.url}${webhookPath(spec)}/demo`);
  const input: SyncWorkflowInput = {
    integration: spec.id,
    connection: 'demo',
    resource: 'issues',
    kind: 'full',
    retry: spec.retry,
  };

  const tty = Boolean(process.stdout.isTTY) && !ctx.json;
  const watched = async (kind: 'full' | 'incremental') => {
    const handle = await startSync(client, { ...input, kind }, { taskQueue: config.temporal.taskQueue });
    const display = createProgressDisplay({ tty, out });
    const timer = setInterval(() => {
      syncProgress(handle)
        .then((p) => display.update(p))
        .catch(() => undefined);
    }, 500);
    try {
      const result = await handle.result();
      clearInterval(timer);
      display.stop();
      return { handle, result };
    } finally {
      clearInterval(timer);
    }
  };

  out('Full sync…');
  const { handle: full, result: fullResult } = await watched('full');
  out(`  ${counts(fullResult)}`);

  // A burst of signed webhooks: 150 events about 50 issues, 30 of them delivered twice.
  out('Webhooks: a burst of signed events, some delivered twice…');
  const burstAt = Date.now();
  const events = Array.from({ length: 150 }, (_, i) => {
    const id = (i % 50) + 1;
    const at = new Date(burstAt + i * 1000).toISOString();
    return i % 25 === 24
      ? { key: `evt_${i}`, body: { type: 'issue.deleted', data: { id, updated_at: at } } }
      : {
          key: `evt_${i}`,
          body: {
            type: 'issue.updated',
            data: {
              id,
              title: `Issue ${id} (edited by webhook ${i})`,
              state: 'open',
              priority: 1,
              updated_at: at,
            },
          },
        };
  });
  const deliveries = [...events, ...events.filter((_, i) => i % 5 === 0)];
  const url = `${webhooks.receiver.url}${webhookPath(spec)}/demo`;
  const answers = new Map<number, number>();
  for (const e of deliveries) {
    const r = await postWebhook(url, spec.webhooks!.signature, webhookSecret, e.body, { id: e.key });
    answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
  }
  for (let c = await countEvents(stack.db); c.received + c.dispatched > 0; c = await countEvents(stack.db))
    await new Promise((resolve) => setTimeout(resolve, 100));
  const byStatus = await countEvents(stack.db);
  out(
    `  ${deliveries.length} deliveries: ${answers.get(202) ?? 0} accepted, ${answers.get(200) ?? 0} duplicates; ` +
      `events processed ${byStatus.processed}, failed ${byStatus.failed}`,
  );

  // Change a few records at the provider, then pick them up incrementally.
  const changedAt = new Date().toISOString();
  simulator.setRecords(
    'issues',
    simulator
      .records('issues')
      .map((r) => (Number(r.id) % 100 === 0 ? { ...r, state: 'closed', updated_at: changedAt } : r)),
  );
  out('Incremental sync after the provider changed some issues…');
  const { result: incResult } = await watched('incremental');
  out(`  ${counts(incResult)}`);

  const stored = await listRecords(stack.db, input);
  out(`Table "records" holds ${stored.length} live rows for ${spec.id}/demo/issues.`);

  const first = stored.find((r) => r.key === '100') ?? stored[0];
  if (first) out(`  e.g. ${first.key}: ${JSON.stringify(first.data)}`);
  const ledger = await stack.db
    .selectFrom('rate_ledger')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
    .where('connection_key', '=', `${spec.id}:demo`)
    .groupBy('kind')
    .execute();
  const kinds = Object.fromEntries(ledger.map((r) => [r.kind, Number(r.n)]));
  out(
    `Rate ledger: ${kinds.admitted ?? 0} requests admitted at up to 50/s, ${kinds['provider-429'] ?? 0} answered 429 (table rate_ledger).`,
  );
  out(`Workflow: ${full.workflowId}`);
  if (temporal.uiUrl) {
    out(`Temporal UI: ${temporal.uiUrl}`);
    out(
      `  runs: ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows?query=${encodeURIComponent(`SyncIntegration="${spec.id}"`)}`,
    );
    out(
      `  webhook workflows: ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows?query=${encodeURIComponent(`SyncKind="webhook"`)}`,
    );
  }
  if (options.keep) {
    out('Staying up for inspection (--keep). Press Ctrl-C to stop.');
    await scope.untilSignal();
  }
}
