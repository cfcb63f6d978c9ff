/**
 * Operators learn of failures without looking: a run that fails for good (a refused credential) and a
 * resource gone stale each reach a configured URL as a Standard Webhooks event, verified here with the
 * `standardwebhooks` library, delivered through Temporal with retries (the receiver first answers 503).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createActivities } from '../../activities/index.js';
import type { OperatorEvent } from '../../src/sync/notifications.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';

const SECRET = 'whsec_bm90aWZpY2F0aW9ucyBzaWduaW5nIHNlY3JldA==';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

describe('operator notifications', { timeout: 180_000 }, () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let worker: RunningWorker;
  let server: Server;
  const deliveries: Delivery[] = [];
  /** Answers to give, in order; 200 once they run out. */
  const answers: number[] = [];
  const box = SecretBox.fromKey(TEST_KEY);
  let taskQueue: string;

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(30) },
    });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answered = answers.shift() ?? 200;
        deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/syncwright`;
    const spec = trackerSpec(sim.url);
    taskQueue = env.uniqueId('notify');
    worker = await startWorker({
      address: env.temporalAddress,
      namespace: env.namespace,
      taskQueue,
      activities: createActivities({
        db: env.db,
        specs: new Map([[spec.id, spec]]),
        secretBox: box,
        env: {},
        notify: { url, secret: SECRET },
      }),
      workflowBundle: env.workflowBundle,
      staleWatch: { db: env.db, staleAfterMs: 3600_000, everyMs: 300 },
    });
  });
  after(async () => {
    await worker?.shutdown();
    server?.close();
    await sim?.close();
    await env?.close();
  });

  const input = (connection: string) => ({
    integration: 'tracker',
    connection,
    resource: 'issues',
    kind: 'full' as const,
    retry: { maxAttempts: 3, initialIntervalMs: 100, maxIntervalMs: 500 },
  });

  /** Deliveries of events whose data names `connection`, once `count` of them were answered 2xx. */
  async function delivered(connection: string, count: number, timeoutMs = 30_000): Promise<Delivery[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mine = deliveries.filter(
        (d) => (JSON.parse(d.body) as OperatorEvent).data.connection === connection,
      );
      if (mine.filter((d) => d.answered === 200).length >= count || Date.now() > deadline) return mine;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a run failed by a refused credential: two signed events, retried through a 503, once each', async () => {
    const conn = env.uniqueId('refused');
    await saveConnection(env.db, box, {
      integration: 'tracker',
      id: conn,
      config: {},
      secrets: { token: 'wrong' },
    });
    answers.push(503);
    const h = await startSync(env.client, input(conn), { taskQueue });
    await assert.rejects(h.result());
    const mine = await delivered(conn, 2);
    const wh = new Webhook(SECRET);
    const events = mine.map((d) => wh.verify(d.body, d.headers as Record<string, string>) as OperatorEvent);
    // The first POST was answered 503 and sent again with the same webhook-id.
    assert.equal(mine.length, 3);
    assert.equal(mine[0]!.answered, 503);
    const byId = new Map(mine.map((d) => [d.headers['webhook-id'], d]));
    assert.equal(byId.size, 2);
    const types = [...new Set(events.map((e) => e.type))].sort();
    assert.deepEqual(types, ['connection.credentials_refused', 'sync.run.failed']);
    const failed = events.find((e) => e.type === 'sync.run.failed')!;
    assert.equal(failed.data.workflowId, `sync:tracker:${conn}:issues`);
    assert.equal(failed.data.errorType, 'AuthError');
    assert.match(failed.data.error ?? '', /401/);
    assert.ok(!mine.some((d) => d.body.includes('wrong')), 'no secret in a notification');
    // A forged body does not verify.
    assert.throws(() =>
      wh.verify(mine[1]!.body.replace('AuthError', 'Nothing'), mine[1]!.headers as Record<string, string>),
    );

    if (process.env.SYNCWRIGHT_RECORD_HISTORY) {
      const id = `notify:run-failed:${failed.data.runId}`;
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      writeFileSync(process.env.SYNCWRIGHT_RECORD_HISTORY, historyToJSON(history));
    }
  });

  it('a resource whose last successful sync is older than the threshold: one resource.stale event', async () => {
    const conn = env.uniqueId('stale');
    await saveConnection(env.db, box, {
      integration: 'tracker',
      id: conn,
      config: {},
      secrets: { token: TOKEN },
    });
    await (await startSync(env.client, input(conn), { taskQueue })).result();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await delivered(conn, 0, 0)).length, 0, 'a fresh resource is not stale');
    const lastSuccess = new Date(Date.now() - 2 * 3600_000);
    await env.db
      .updateTable('sync_runs')
      .set({ ended_at: lastSuccess })
      .where('connection', '=', conn)
      .execute();
    const mine = await delivered(conn, 1);
    // Checked every 300 ms: still one event for this stale spell.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await delivered(conn, 1, 0)).length, 1);
    const event = new Webhook(SECRET).verify(
      mine[0]!.body,
      mine[0]!.headers as Record<string, string>,
    ) as OperatorEvent;
    assert.equal(event.type, 'resource.stale');
    assert.equal(event.data.resource, 'issues');
    assert.equal(event.data.lastSuccessAt, lastSuccess.toISOString());
    assert.ok((event.data.ageSeconds ?? 0) >= 7200);
    assert.equal(event.data.staleAfterSeconds, 3600);
  });
});
