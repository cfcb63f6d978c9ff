/**
 * OpenTelemetry tracing exported over OTLP/HTTP to a collector stand-in (a real HTTP server here that
 * decodes the export): one sync started inside a span yields one trace holding Temporal's workflow and
 * activity spans and ours — provider requests, rate-ledger acquisitions, page commits.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { createActivities } from '../../activities/index.js';
import { inSpan } from '../../src/tracing/spans.js';
import { startTracing, type Tracing } from '../../src/tracing/setup.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec, trackerWebhooks, WEBHOOK_SECRET } from '../helpers/tracker-spec.js';
import { WebhookDispatcher } from '../../src/temporal/webhook-dispatcher.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { postWebhook } from '../../src/testing/webhooks.js';
import { getEvent } from '../../src/webhooks/inbox-queries.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

describe('OpenTelemetry tracing over OTLP/HTTP', { timeout: 180_000 }, () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let collector: Server;
  let tracing: Tracing;
  let worker: RunningWorker;
  let client: Client;
  let taskQueue: string;
  const spans: ExportedSpan[] = [];
  let hookSpec: IntegrationSpec;
  let receiver: RunningReceiver;
  let dispatcher: WebhookDispatcher;
  const box = SecretBox.fromKey(TEST_KEY);

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(250) },
    });
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        assert.equal(req.url, '/v1/traces');
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[];
        };
        for (const r of body.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    tracing = startTracing({
      url: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`,
      serviceName: 'syncwright-test',
    });
    const spec = trackerSpec(sim.url, 100, trackerWebhooks());
    hookSpec = spec;
    taskQueue = env.uniqueId('traced');
    worker = await startWorker({
      address: env.temporalAddress,
      namespace: env.namespace,
      taskQueue,
      activities: createActivities({
        db: env.db,
        specs: new Map([[spec.id, spec]]),
        secretBox: box,
        env: {},
      }),
      workflowBundle: await bundleWorkflows({ tracing: true }),
      tracing,
    });
    client = new Client({
      connection: env.client.connection,
      namespace: env.namespace,
      interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    });
  });
  after(async () => {
    await dispatcher?.stop();
    await receiver?.close();
    await worker?.shutdown();
    await tracing?.shutdown();
    collector?.close();
    await sim?.close();
    await env?.close();
  });

  it('one trace: the caller’s span, the workflow, its activities, requests, ledger acquisitions and page commits', async () => {
    const conn = env.uniqueId('traced');
    await saveConnection(env.db, box, {
      integration: 'tracker',
      id: conn,
      config: {},
      secrets: { token: TOKEN },
    });
    let traceId = '';
    await inSpan('operator starts a sync', {}, async () => {
      const h = await startSync(
        client,
        { integration: 'tracker', connection: conn, resource: 'issues', kind: 'full' },
        { taskQueue },
      );
      assert.equal((await h.result()).inserted, 250);
    });
    const deadline = Date.now() + 20_000;
    const named = (name: string) => spans.filter((s) => s.name === name && s.traceId === traceId);
    for (;;) {
      await tracing.flush();
      traceId = spans.find((s) => s.name === 'operator starts a sync')?.traceId ?? '';
      if ((traceId && named('page commit').length >= 3) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(traceId, `the caller's span was exported (${spans.length} spans)`);
    assert.equal(named('provider request').length, 3, 'one span per page request');
    assert.equal(named('page commit').length, 3);
    assert.ok(named('rate ledger acquire').length >= 3);
    const names = new Set(spans.filter((s) => s.traceId === traceId).map((s) => s.name));
    for (const temporal of [
      'StartWorkflow:syncResource',
      'RunWorkflow:syncResource',
      'RunActivity:syncPages',
    ])
      assert.ok(names.has(temporal), `${temporal} in the trace: ${[...names].join(', ')}`);
    // Our spans hang under Temporal's activity spans, not beside them.
    const ids = new Set(spans.filter((s) => s.traceId === traceId).map((s) => s.spanId));
    for (const s of named('page commit')) assert.ok(s.parentSpanId && ids.has(s.parentSpanId));
  });

  it('one trace follows a webhook: POST, inbox, dispatcher, the entity workflow, the applied record', async () => {
    const conn = env.uniqueId('hooked');
    await saveConnection(env.db, box, {
      integration: 'tracker',
      id: conn,
      config: {},
      secrets: { token: TOKEN, webhook_secret: WEBHOOK_SECRET },
    });
    dispatcher = new WebhookDispatcher({
      db: env.db,
      connect: () => Promise.resolve(client),
      taskQueue,
      pollMs: 100,
    });
    receiver = await startWebhookReceiver({
      db: env.db,
      specs: new Map([[hookSpec.id, hookSpec]]),
      secretBox: box,
      env: {},
      onAccepted: () => dispatcher.nudge(),
    });
    dispatcher.start();
    const answer = await postWebhook(
      `${receiver.url}/webhooks/tracker/${conn}`,
      hookSpec.webhooks!.signature,
      WEBHOOK_SECRET,
      {
        id: `evt_${conn}`,
        type: 'issue.updated',
        sequence: 1,
        data: { id: 7001, title: 'Traced', state: 'open', priority: 1, updated_at: '2026-11-01T00:00:00Z' },
      },
    );
    assert.equal(answer.status, 202);
    const id = (answer.body as { id: number }).id;
    const stored = await env.db
      .selectFrom('webhook_events')
      .select('trace_context')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.match(stored.trace_context ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = stored.trace_context!.split('-')[1]!;
    const deadline = Date.now() + 30_000;
    while ((await getEvent(env.db, id))?.status !== 'processed') {
      assert.ok(Date.now() < deadline, 'the event was applied');
      await new Promise((r) => setTimeout(r, 100));
    }
    const inTrace = () => spans.filter((s) => s.traceId === traceId).map((s) => s.name);
    for (;;) {
      await tracing.flush();
      if (inTrace().includes('webhook apply') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const names = inTrace();
    for (const name of [
      'webhook POST',
      'webhook dispatch',
      'RunActivity:applyWebhookEvents',
      'webhook apply',
    ])
      assert.ok(names.includes(name), `${name} in the webhook's trace: ${names.join(', ')}`);
    assert.ok(
      names.some((n) => /webhookEntity/.test(n)),
      `the entity workflow in the trace: ${names.join(', ')}`,
    );
  });
});
