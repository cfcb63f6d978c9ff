/**
 * 2,000 webhook deliveries (20% duplicates, shuffled) sent while the Temporal server is stopped, then
 * Temporal started again: every distinct event is processed exactly once in effect, the records match
 * the last event per entity, nothing is lost. This file runs its own dev server (with a SQLite file, so
 * a restart keeps its state) so it can stop it.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Client } from '@temporalio/client';
import { createActivities } from '../../activities/index.js';
import { freePort } from '../../src/net.js';
import { listRecords } from '../../src/store/records.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { connectClient } from '../../src/temporal/client.js';
import type { RunningDevServer } from '../../src/temporal/dev-server.js';
import { startOwnDevServer } from '../helpers/dev-server.js';
import { startWorker, type RunningWorker } from '../../src/temporal/worker.js';
import { postWebhook } from '../../src/testing/webhooks.js';
import { WebhookDispatcher } from '../../src/temporal/webhook-dispatcher.js';
import { countEvents } from '../../src/webhooks/inbox-queries.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { saveTrackerConnection, TEST_KEY } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { trackerSpec, trackerWebhooks, WEBHOOK_SECRET } from '../helpers/tracker-spec.js';

const ENTITIES = 200;
const EVENTS_PER_ENTITY = 8; // 1,600 distinct events
const DUPLICATES = 400; // 20% of 2,000 deliveries

describe('webhooks while Temporal is down', { timeout: 400_000 }, () => {
  let env: TestEnv;
  let dir: string;
  let port: number;
  let temporal: RunningDevServer | undefined;
  let worker: RunningWorker | undefined;
  let receiver: RunningReceiver;
  let dispatcher: WebhookDispatcher;
  const clients: Client[] = [];
  const spec = trackerSpec('http://127.0.0.1:9', undefined, trackerWebhooks());
  const specs = new Map([[spec.id, spec]]);
  const box = SecretBox.fromKey(TEST_KEY);
  const conn = 'outage';
  const taskQueue = 'webhook-outage';

  const startTemporal = () => startOwnDevServer({ dir, port, persistent: true });

  before(async () => {
    env = await testEnv();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-webhook-outage-'));
    port = await freePort();
    await saveTrackerConnection(env.db, conn, { webhook_secret: WEBHOOK_SECRET });
    receiver = await startWebhookReceiver({
      db: env.db,
      specs,
      secretBox: box,
      env: {},
      onAccepted: () => dispatcher.nudge(),
    });
    dispatcher = new WebhookDispatcher({
      db: env.db,
      connect: async () => {
        const c = await connectClient(`127.0.0.1:${port}`, 'default');
        clients.push(c);
        return c;
      },
      taskQueue,
      pollMs: 200,
    });
  });

  after(async () => {
    await dispatcher?.stop();
    await receiver?.close();
    await worker?.shutdown().catch(() => undefined);
    for (const c of clients) await c.connection.close().catch(() => undefined);
    await temporal?.stop();
    await env?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('accepts 2,000 deliveries during the outage and applies each distinct event once when Temporal returns', async () => {
    // Temporal up with its state file, then stopped: the receiver and dispatcher run through a real outage.
    temporal = await startTemporal();
    dispatcher.start();
    await temporal.stop();
    temporal = undefined;

    // Entity e gets sequences 1..8; the last one deletes every third entity, else sets its final title.
    const distinct: { id: string; type: string; sequence: number; data: Record<string, unknown> }[] = [];
    for (let e = 1; e <= ENTITIES; e++) {
      for (let s = 1; s <= EVENTS_PER_ENTITY; s++) {
        const last = s === EVENTS_PER_ENTITY;
        distinct.push(
          last && e % 3 === 0
            ? { id: `evt-${e}-${s}`, type: 'issue.deleted', sequence: s, data: { id: e } }
            : {
                id: `evt-${e}-${s}`,
                type: s === 1 ? 'issue.created' : 'issue.updated',
                sequence: s,
                data: {
                  id: e,
                  title: `entity ${e} v${s}`,
                  state: 'open',
                  priority: s % 5,
                  updated_at: '2026-11-24T00:00:00Z',
                },
              },
        );
      }
    }
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const deliveries = [
      ...distinct,
      ...Array.from({ length: DUPLICATES }, () => distinct[Math.floor(random() * distinct.length)]!),
    ];
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    assert.equal(deliveries.length, 2000);

    const url = `${receiver.url}/webhooks/tracker/${conn}`;
    const statuses = new Map<number, number>();
    const queue = [...deliveries];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let d = queue.shift(); d; d = queue.shift()) {
          const r = await postWebhook(url, spec.webhooks!.signature, WEBHOOK_SECRET, d);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    assert.deepEqual(Object.fromEntries(statuses), { 202: distinct.length, 200: DUPLICATES });
    const whileDown = await countEvents(env.db);
    assert.equal(whileDown.received, distinct.length, 'every distinct event waits in the inbox');
    assert.equal(whileDown.processed + whileDown.dispatched, 0);

    // Temporal returns (same state file) with a worker: the dispatcher notices by itself.
    temporal = await startTemporal();
    worker = await startWorker({
      address: temporal.address,
      namespace: 'default',
      taskQueue,
      activities: createActivities({ db: env.db, specs, secretBox: box, env: {} }),
      workflowBundle: env.workflowBundle,
    });
    const deadline = Date.now() + 240_000;
    for (;;) {
      const c = await countEvents(env.db);
      if (c.processed === distinct.length) break;
      assert.equal(c.failed, 0, 'no event failed');
      if (Date.now() > deadline) assert.fail(`not all processed: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 250));
    }

    // Exactly once in effect: each distinct event is one processed row; the entity saw the last one.
    const rows = await env.db
      .selectFrom('webhook_events')
      .select(['event_id', 'status', 'result'])
      .where('connection', '=', conn)
      .execute();
    assert.equal(rows.length, distinct.length);
    assert.equal(new Set(rows.map((r) => r.event_id)).size, distinct.length);
    const entities = await env.db
      .selectFrom('webhook_entities')
      .select(['entity_key', 'last_order'])
      .where('connection', '=', conn)
      .execute();
    assert.equal(entities.length, ENTITIES);
    assert.ok(entities.every((e) => e.last_order === String(EVENTS_PER_ENTITY)));
    const records = await listRecords(
      env.db,
      { integration: 'tracker', connection: conn, resource: 'issues' },
      { includeDeleted: true },
    );
    const byKey = new Map(records.map((r) => [Number(r.key), r]));
    for (let e = 1; e <= ENTITIES; e++) {
      const r = byKey.get(e);
      // A delete that came before every update of its entity leaves no record at all: deleted either way.
      if (e % 3 === 0) assert.ok(!r || r.deletedAt, `entity ${e} deleted by its last event`);
      else {
        assert.ok(r, `entity ${e} stored`);
        assert.equal(r.deletedAt, null, `entity ${e} not deleted`);
        assert.equal((r.data as { title: string }).title, `entity ${e} v${EVENTS_PER_ENTITY}`);
      }
    }
    const applied = await env.db
      .selectFrom('webhook_events')
      .select([sql<number>`count(*) filter (where result in ('upserted', 'deleted'))::int`.as('n')])
      .where('connection', '=', conn)
      .executeTakeFirstOrThrow();
    assert.ok(applied.n >= ENTITIES, `each entity applied at least its last event (${applied.n})`);
  });
});
