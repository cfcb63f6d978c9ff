/**
 * Webhooks end to end on the real stack: receiver (HTTP) → inbox (Postgres) → dispatcher → per-entity
 * workflow (Temporal) → records. Also every status code the receiver promises, with nothing stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { saveConnection } from '../../src/store/connections.js';
import { listRecords } from '../../src/store/records.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { postWebhook } from '../../src/testing/webhooks.js';
import { webhookWorkflowId, WebhookDispatcher } from '../../src/temporal/webhook-dispatcher.js';
import {
  countEvents,
  getEvent,
  listEvents,
  replayEvent,
  type EventSummary,
} from '../../src/webhooks/inbox-queries.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import {
  OLD_WEBHOOK_SECRET,
  TOKEN,
  trackerSpec,
  trackerWebhooks,
  WEBHOOK_SECRET,
} from '../helpers/tracker-spec.js';

describe('webhooks: receiver, inbox, dispatcher and per-entity workflows', { timeout: 180_000 }, () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;
  let receiver: RunningReceiver;
  let dispatcher: WebhookDispatcher;
  let conn: string;
  let url: string;
  const spec = () => trackerSpec(sim.url, undefined, trackerWebhooks());
  let scheme: ReturnType<typeof trackerWebhooks>['signature'];
  let seq = 0;
  const event = (type: string, data: Record<string, unknown>, sequence = ++seq) => ({
    id: `evt_${conn}_${sequence}_${type}`,
    type,
    sequence,
    data,
  });
  const issue = (id: number, title: string, over: Record<string, unknown> = {}) => ({
    id,
    title,
    state: 'open',
    priority: 1,
    updated_at: '2026-11-01T00:00:00.000Z',
    ...over,
  });
  const send = (payload: unknown, secret = WEBHOOK_SECRET, delivery = {}) =>
    postWebhook(url, scheme, secret, payload, delivery);
  const scope = () => ({ integration: 'tracker', connection: conn, resource: 'issues' });
  const storedCount = async () => {
    const c = await countEvents(env.db);
    return Object.values(c).reduce((a, b) => a + b, 0);
  };

  async function settled(id: number, timeoutMs = 30_000): Promise<EventSummary> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await getEvent(env.db, id);
      if (e && (e.status === 'processed' || e.status === 'failed')) return e;
      if (Date.now() > deadline) throw new Error(`event ${id} still ${e?.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** A connection whose API token the provider refuses (its webhooks still verify). */
  async function wrongTokenConnection(): Promise<string> {
    const id = env.uniqueId('badtoken');
    await saveConnection(env.db, engine.box, {
      integration: 'tracker',
      id,
      secrets: { token: 'wrong', webhook_secret: WEBHOOK_SECRET },
      config: {},
    });
    return id;
  }
  const record = async (key: string) =>
    (await listRecords(env.db, scope(), { includeDeleted: true })).find((r) => r.key === key);

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(20) },
    });
    const s = spec();
    scheme = s.webhooks!.signature;
    engine = await startEngine(env, [s]);
    conn = env.uniqueId('acme');
    await engine.addConnection('tracker', conn, {
      token: TOKEN,
      webhook_secret: WEBHOOK_SECRET,
      webhook_secret_old: OLD_WEBHOOK_SECRET,
    });
    dispatcher = new WebhookDispatcher({
      db: env.db,
      connect: () => Promise.resolve(env.client),
      taskQueue: engine.taskQueue,
      pollMs: 100,
      // Small, so the entity workflows continue as new within these tests.
      eventsPerRun: 5,
    });
    receiver = await startWebhookReceiver({
      db: env.db,
      specs: new Map([[s.id, s]]),
      secretBox: engine.box,
      env: {},
      onAccepted: () => dispatcher.nudge(),
      secretsTtlMs: 0,
    });
    url = `${receiver.url}/webhooks/tracker/${conn}`;
    dispatcher.start();
  });

  after(async () => {
    await dispatcher?.stop();
    await receiver?.close();
    await engine?.close();
    await sim?.close();
    await env?.close();
  });

  it('accepts a signed event (202), applies it, and answers a duplicate delivery 200 changing nothing', async () => {
    const e = event('issue.created', issue(101, 'Created by webhook'));
    const first = await send(e);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const id = (first.body as { id: number }).id;
    const done = await settled(id);
    assert.equal(done.status, 'processed');
    assert.equal(done.result, 'upserted');
    assert.deepEqual((await record('101'))?.data, {
      id: 101,
      title: 'Created by webhook',
      state: 'open',
      priority: 1,
      updated_at: '2026-11-01T00:00:00.000Z',
    });
    const before = await storedCount();
    const again = await send(e);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: 'duplicate', eventId: e.id });
    assert.equal(await storedCount(), before);
  });

  it('accepts an event signed with the older of two rotated secrets', async () => {
    const r = await send(event('issue.updated', issue(102, 'old secret')), OLD_WEBHOOK_SECRET);
    assert.equal(r.status, 202);
    assert.equal((await settled((r.body as { id: number }).id)).status, 'processed');
  });

  it('applies events of one entity by their order key, whatever order they arrive in', async () => {
    const base = seq;
    const e1 = event('issue.updated', issue(103, 'v1'), base + 1);
    const e2 = event('issue.updated', issue(103, 'v2'), base + 2);
    const e3 = event('issue.updated', issue(103, 'v3'), base + 3);
    seq = base + 3;
    const ids: number[] = [];
    for (const e of [e3, e1, e2]) ids.push(((await send(e)).body as { id: number }).id);
    const outcomes = await Promise.all(ids.map((id) => settled(id)));
    assert.equal(
      (await record('103'))?.data && ((await record('103'))!.data as { title: string }).title,
      'v3',
    );
    // The two older ones, if they came after v3 was applied, changed nothing.
    assert.ok(outcomes.every((o) => o.status === 'processed'));
    assert.ok(outcomes.slice(1).every((o) => o.result === 'superseded' || o.result === 'upserted'));
    assert.equal(outcomes[0]!.result, 'upserted');
  });

  it('deletes on a delete event, and a late older update does not bring the record back', async () => {
    const created = await send(event('issue.created', issue(104, 'to delete')));
    await settled((created.body as { id: number }).id);
    const late = event('issue.updated', issue(104, 'stale update'), seq + 1);
    const del = event('issue.deleted', { id: 104 }, seq + 2);
    seq += 2;
    await settled(((await send(del)).body as { id: number }).id);
    const stale = await settled(((await send(late)).body as { id: number }).id);
    assert.equal(stale.result, 'superseded');
    const r = await record('104');
    assert.ok(r?.deletedAt, 'record is marked deleted');
    assert.equal((r.data as { title: string }).title, 'to delete');
  });

  it('refetches the entity from the API (a 404 there deletes it)', async () => {
    const touched = await send(event('issue.touched', { id: 7 }));
    const done = await settled((touched.body as { id: number }).id);
    assert.equal(done.result, 'upserted', done.error ?? '');
    const expected = sim.records('issues').find((r) => r.id === 7)!;
    assert.equal(
      (await record('7'))?.data && ((await record('7'))!.data as { title: string }).title,
      expected.title,
    );
    assert.ok((sim.requests.get('/issues/7') ?? 0) >= 1);

    const gone = await send(event('issue.touched', { id: 9999 }));
    const g = await settled((gone.body as { id: number }).id);
    assert.equal(g.result, 'deleted');
  });

  it('stores an authentic event it cannot apply as failed; an operator can replay it once fixed', async () => {
    // A connection with a wrong API token: the refetch fails with a (non-retryable) AuthError.
    const broken = await wrongTokenConnection();
    const r = await postWebhook(
      `${receiver.url}/webhooks/tracker/${broken}`,
      scheme,
      WEBHOOK_SECRET,
      event('issue.touched', { id: 3 }),
    );
    assert.equal(r.status, 202);
    const id = (r.body as { id: number }).id;
    const failed = await settled(id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /401/);
    assert.deepEqual(
      (await listEvents(env.db, { status: 'failed', connection: broken })).map((e) => e.id),
      [id],
    );
    await assert.rejects(replayEvent(env.db, 1e9), /no webhook event/);

    await saveConnection(env.db, engine.box, {
      integration: 'tracker',
      id: broken,
      secrets: { token: TOKEN, webhook_secret: WEBHOOK_SECRET },
      config: {},
    });
    const replayed = await replayEvent(env.db, id);
    assert.equal(replayed.status, 'received');
    dispatcher.nudge();
    const done = await settled(id);
    assert.equal(done.status, 'processed', done.error ?? '');
    await assert.rejects(replayEvent(env.db, id), /only failed events can be replayed/);
  });

  it('an event that cannot be applied fails alone: the entity’s other events in its batch still apply', async () => {
    const broken = await wrongTokenConnection();
    const to = `${receiver.url}/webhooks/tracker/${broken}`;
    // Both wait in the inbox, so the dispatcher hands them to the entity's workflow together.
    await dispatcher.stop();
    const refetch = await postWebhook(to, scheme, WEBHOOK_SECRET, event('issue.touched', { id: 11 }));
    const update = await postWebhook(
      to,
      scheme,
      WEBHOOK_SECRET,
      event('issue.updated', issue(11, 'from the payload')),
    );
    dispatcher.start();
    const r = await settled((refetch.body as { id: number }).id);
    const u = await settled((update.body as { id: number }).id);
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /401/);
    assert.equal(u.status, 'processed', u.error ?? '');
    assert.equal(u.result, 'upserted');
    const [stored] = await listRecords(env.db, {
      integration: 'tracker',
      connection: broken,
      resource: 'issues',
    });
    assert.equal((stored?.data as { title?: string }).title, 'from the payload');
  });

  it('when a batch’s retries run out, only the event that keeps failing is failed', async () => {
    // The refetch of issue 12 meets a 503 on every attempt (six, then the last pass); the payload upsert
    // of the same issue, in the same batch, does not need the provider.
    sim.injectFaults(
      Array.from({ length: 7 }, () => ({ kind: 'server-error' as const, status: 503 })),
      '/issues/12',
    );
    await dispatcher.stop();
    const refetch = await send(event('issue.touched', { id: 12 }));
    const update = await send(event('issue.updated', issue(12, 'while the provider was down')));
    dispatcher.start();
    const r = await settled((refetch.body as { id: number }).id, 90_000);
    const u = await settled((update.body as { id: number }).id, 90_000);
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /503/);
    assert.equal(u.status, 'processed', u.error ?? '');
    assert.equal(((await record('12'))?.data as { title?: string }).title, 'while the provider was down');
    // The history through the retries and the last pass replays (the workflow is still open, idle).
    const history = await env.client.workflow
      .getHandle(webhookWorkflowId({ ...scope(), entityKey: '12' }))
      .fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: env.workflowBundle }, history);
  });

  it('answers 401/400/404/405/413/415 with a reason and stores nothing', async () => {
    const before = await storedCount();
    const good = event('issue.updated', issue(105, 'x'));
    const cases: [string, Promise<{ status: number; body: unknown }>, number, RegExp][] = [
      ['wrong secret', send(good, 'whsec_d3Jvbmc='), 401, /does not match/],
      [
        'no signature',
        send(good, WEBHOOK_SECRET, { headers: { 'webhook-signature': '' } }),
        401,
        /missing webhook-signature/,
      ],
      ['stale', send(good, WEBHOOK_SECRET, { timestamp: Math.floor(Date.now() / 1000) - 600 }), 401, /old/],
      [
        'future',
        send(good, WEBHOOK_SECRET, { timestamp: Math.floor(Date.now() / 1000) + 600 }),
        401,
        /future/,
      ],
      ['bad JSON', send('{"id": "x", ', WEBHOOK_SECRET), 400, /not valid JSON/],
      ['JSON array', send('[1,2]', WEBHOOK_SECRET), 400, /must be a JSON object/],
      ['no event id', send({ type: 'issue.updated', data: {} }), 400, /no event id at body path "id"/],
      ['no event type', send({ id: 'evt_no_type' }), 400, /no event type/],
      [
        'wrong content type',
        send(good, WEBHOOK_SECRET, { contentType: 'text/plain' }),
        415,
        /content-type must be application\/json/,
      ],
      [
        'latin-1',
        send(good, WEBHOOK_SECRET, { contentType: 'application/json; charset=latin1' }),
        415,
        /charset/,
      ],
      [
        'gzip',
        send(good, WEBHOOK_SECRET, { headers: { 'content-encoding': 'gzip' } }),
        415,
        /content-encoding/,
      ],
      ['too large', send({ ...good, pad: 'x'.repeat(1024 * 1024) }), 413, /limit/],
      [
        'unknown integration',
        postWebhook(`${receiver.url}/webhooks/nope/${conn}`, scheme, WEBHOOK_SECRET, good),
        404,
        /no webhook route/,
      ],
      [
        'unknown connection',
        postWebhook(`${receiver.url}/webhooks/tracker/nobody`, scheme, WEBHOOK_SECRET, good),
        404,
        /no connection "nobody"/,
      ],
    ];
    for (const [name, pending, status, reason] of cases) {
      const r = await pending;
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.match((r.body as { error: string }).error, reason, name);
    }
    const get = await fetch(url);
    assert.equal(get.status, 405);
    const health = await fetch(`${receiver.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await storedCount(), before);
  });

  it('continues an entity workflow as new after many events, and every execution replays', async () => {
    const ids: number[] = [];
    for (let i = 1; i <= 12; i++) {
      ids.push(((await send(event('issue.updated', issue(107, `edit ${i}`)))).body as { id: number }).id);
      if (i % 4 === 0) await settled(ids.at(-1)!);
    }
    for (const id of ids) assert.equal((await settled(id)).status, 'processed');
    assert.equal(((await record('107'))!.data as { title: string }).title, 'edit 12');
    const workflowId = webhookWorkflowId({ ...scope(), entityKey: '107' });
    // The runs that continued as new are complete histories (the live one may be mid-task); the
    // visibility store may take a moment to list them.
    const closed = `WorkflowId = '${workflowId}' AND ExecutionStatus != 'Running'`;
    const histories = [];
    for (let tries = 0; histories.length === 0 && tries < 50; tries++) {
      if (tries) await new Promise((r) => setTimeout(r, 200));
      for await (const h of env.client.workflow.list({ query: closed }).intoHistories()) histories.push(h);
    }
    assert.ok(histories.length >= 1, 'expected an execution that continued as new');
    assert.ok(
      histories.every(
        (h) =>
          (
            h.history as { events?: { workflowExecutionContinuedAsNewEventAttributes?: unknown }[] }
          ).events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes,
      ),
      'each closed execution ended by continuing as new',
    );
    for await (const r of Worker.runReplayHistories({ workflowBundle: env.workflowBundle }, histories)) {
      assert.equal(r.error, undefined, `replay of ${r.workflowId}/${r.runId} failed: ${String(r.error)}`);
    }
  });

  it('stores an event whose record does not map as failed (202), for an operator to see', async () => {
    const r = await send(event('issue.updated', { id: 106, title: null }));
    assert.equal(r.status, 202);
    const e = await getEvent(env.db, (r.body as { id: number }).id);
    assert.equal(e?.status, 'failed');
    assert.match(e?.error ?? '', /title/);
    // Replayed with the spec unchanged, it fails again, for the same reason.
    assert.equal((await replayEvent(env.db, e.id)).status, 'received');
    dispatcher.nudge();
    const again = await settled(e.id);
    assert.equal(again.status, 'failed');
    assert.match(again.error ?? '', /title/);
  });

  it('keeps the payload exactly as sent, and refuses (400) only the events Postgres cannot store', async () => {
    // Escapes JSON allows but Postgres text does not (NUL, an unpaired surrogate) are kept as sent
    // inside the payload…
    const escaped = event('issue.updated', issue(107, 'escapes'));
    const body = JSON.stringify(escaped).replace(
      '"data":',
      '"note": "nul \\u0000 and half \\ud800",   "data":',
    );
    const kept = await send(body);
    assert.equal(kept.status, 202, JSON.stringify(kept.body));
    const stored = await env.db
      .selectFrom('webhook_events')
      .select((eb) => eb.cast<string>('payload', 'text').as('text'))
      .where('id', '=', (kept.body as { id: number }).id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.text, body, 'the payload is stored byte for byte as sent');

    // …but not in what becomes a column: such an event id is refused, with the reason.
    const before = await storedCount();
    const badId = await send(JSON.stringify({ ...event('issue.updated', issue(108, 'x')), id: 'a\u0000b' }));
    assert.equal(badId.status, 400);
    assert.match(JSON.stringify(badId.body), /event id contains a NUL character/);

    // A payload nested deeper than Postgres parses fails its insert; the events that shared the
    // commit are stored one by one instead of all answering 503.
    const deep = `{"id":"evt_${conn}_deep","type":"issue.updated","sequence":1,"data":${JSON.stringify(
      issue(109, 'deep'),
    )},"nested":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const others = Array.from({ length: 20 }, (_, i) => event('issue.updated', issue(110 + i, `ok ${i}`)));
    const answers = await Promise.all([
      ...others.slice(0, 10).map((e) => send(e)),
      send(deep),
      ...others.slice(10).map((e) => send(e)),
    ]);
    assert.equal(answers[10]!.status, 400);
    assert.match(JSON.stringify(answers[10]!.body), /cannot be stored/);
    assert.deepEqual(
      answers.filter((_, i) => i !== 10).map((a) => a.status),
      Array.from({ length: 20 }, () => 202),
    );
    assert.equal(await storedCount(), before + 20, 'the 20 others are stored, the two refused are not');
  });
});
