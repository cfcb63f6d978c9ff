/**
 * Microsoft Graph change notifications in batches, against the receiver on a real Postgres: one POST
 * carries several notifications in `value`; with `batch: { items: value }` each becomes its own inbox
 * event with its own id, type and entity, its own clientState check (a forged item is dropped, the
 * others kept), and its own duplicate check on redelivery; routed by tenant, each its own connection.
 * The body has the shape of Graph's changeNotificationCollection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineIntegration } from '../../src/spec/define.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { saveSubscription } from '../../src/webhooks/subscriptions.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testDb, type DbEnv } from '../helpers/db-env.js';

const box = SecretBox.fromKey(TEST_KEY);
const STATE = 'graph-batch-state-41c7';
const TENANT = '5f2c9a0e-1d3b-4c8e-9a7f-2b6d4e8c1a90';

const spec: IntegrationSpec = defineIntegration({
  id: 'graphbatch',
  baseUrl: 'http://127.0.0.1:1',
  resources: {
    messages: {
      request: { path: '/me/messages' },
      recordsPath: 'value',
      primaryKey: 'id',
      fields: { id: 'id', subject: 'subject' },
      pagination: { type: 'none' },
    },
  },
  webhooks: {
    signature: { scheme: 'client-state' },
    handshakes: [{ answer: 'query-token', query: 'validationToken' }],
    batch: { items: 'value' },
    eventId: { path: 'id' },
    eventType: '{body.changeType}',
    events: {
      created: { action: 'refetch', resource: 'messages', id: 'resourceData.id', path: '/me/messages/{id}' },
      updated: { action: 'refetch', resource: 'messages', id: 'resourceData.id', path: '/me/messages/{id}' },
      deleted: { action: 'delete', resource: 'messages', id: 'resourceData.id' },
    },
  },
});

/** The same, one URL for every tenant: each notification goes to the connection of its tenantId. */
const routedSpec: IntegrationSpec = defineIntegration({
  ...spec,
  id: 'graphtenants',
  webhooks: {
    ...spec.webhooks!,
    signature: { scheme: 'client-state', secrets: [{ env: 'GRAPH_APP_STATE' }] },
    route: { account: '{body.tenantId}' },
  },
});

/** One notification as Graph sends it (changeNotification). */
const notification = (
  id: string,
  changeType: string,
  message: string,
  clientState = STATE,
  tenantId = TENANT,
) => ({
  id,
  subscriptionId: '7d1e5b2a-93c4-4f0e-b8a6-0c2f4e6a8b13',
  subscriptionExpirationDateTime: '2026-12-06T11:00:00.0000000Z',
  clientState,
  changeType,
  resource: `Users/a1b2c3d4-0000-4000-8000-000000000001/Messages/${message}`,
  tenantId,
  resourceData: {
    '@odata.type': '#Microsoft.Graph.Message',
    '@odata.id': `Users/a1b2c3d4-0000-4000-8000-000000000001/Messages/${message}`,
    '@odata.etag': 'W/"CQAAABYAAAB4mQ0vZ"',
    id: message,
  },
});

describe('Microsoft Graph notification batches', { timeout: 60_000 }, () => {
  let env: DbEnv;
  let receiver: RunningReceiver;
  const connection = 'contoso';

  before(async () => {
    env = await testDb();
    await saveConnection(env.db, box, { integration: spec.id, id: connection, config: {}, secrets: {} });
    await saveSubscription(env.db, box, {
      integration: spec.id,
      connection,
      subscriptionId: '7d1e5b2a-93c4-4f0e-b8a6-0c2f4e6a8b13',
      expiresAt: null,
      secret: STATE,
    });
    for (const [id, account] of [
      ['tenant-a', 'aaaaaaaa-0000-4000-8000-00000000000a'],
      ['tenant-b', 'bbbbbbbb-0000-4000-8000-00000000000b'],
    ] as const)
      await saveConnection(env.db, box, { integration: routedSpec.id, id, config: {}, secrets: {}, account });
    receiver = await startWebhookReceiver({
      db: env.db,
      specs: new Map([
        [spec.id, spec],
        [routedSpec.id, routedSpec],
      ]),
      secretBox: box,
      env: { GRAPH_APP_STATE: STATE },
    });
  });
  after(async () => {
    await receiver?.close();
    if (env) {
      for (const id of [spec.id, routedSpec.id]) {
        await env.db.deleteFrom('webhook_events').where('integration', '=', id).execute();
        await env.db.deleteFrom('webhook_unrouted').where('integration', '=', id).execute();
        await env.db.deleteFrom('webhook_subscriptions').where('integration', '=', id).execute();
        await env.db.deleteFrom('connections').where('integration', '=', id).execute();
      }
      await env.close();
    }
  });

  const send = async (body: unknown) => {
    const r = await fetch(`${receiver.url}/webhooks/graphbatch/${connection}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const stored = () =>
    env.db
      .selectFrom('webhook_events')
      .select(['event_id', 'event_type', 'action', 'entity_key', 'status', 'payload'])
      .where('integration', '=', spec.id)
      .orderBy('id')
      .execute();

  it('each notification of a POST is its own event, with its own id, type and entity', async () => {
    const value = [
      notification('n-001', 'created', 'AAMkAGI1-msg-1'),
      notification('n-002', 'updated', 'AAMkAGI1-msg-2'),
      notification('n-003', 'deleted', 'AAMkAGI1-msg-3'),
    ];
    const r = await send({ value });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.status, 'accepted');
    assert.deepEqual(
      (r.body.events as { eventId: string }[]).map((e) => e.eventId),
      ['n-001', 'n-002', 'n-003'],
    );
    const rows = await stored();
    assert.deepEqual(
      rows.map((e) => [e.event_id, e.event_type, e.action, e.entity_key, e.status]),
      [
        ['n-001', 'created', 'refetch', 'AAMkAGI1-msg-1', 'received'],
        ['n-002', 'updated', 'refetch', 'AAMkAGI1-msg-2', 'received'],
        ['n-003', 'deleted', 'delete', 'AAMkAGI1-msg-3', 'received'],
      ],
    );
    // Each event's payload is its own notification, not the batch.
    assert.deepEqual(rows[1]!.payload, value[1]);

    // Graph delivers the batch again: every item is a duplicate; a new item beside them is stored.
    const again = await send({ value });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, {
      status: 'duplicate',
      events: value.map((n) => ({ eventId: n.id, duplicate: true })),
    });
    const mixed = await send({ value: [value[0], notification('n-004', 'updated', 'AAMkAGI1-msg-1')] });
    assert.equal(mixed.status, 202);
    assert.deepEqual(
      (mixed.body.events as { duplicate?: boolean }[]).map((e) => e.duplicate === true),
      [true, false],
    );
    assert.equal((await stored()).length, 4);
  });

  it('clientState is checked per notification: a forged one is dropped, the others kept', async () => {
    const r = await send({
      value: [
        notification('n-010', 'updated', 'AAMkAGI1-msg-10'),
        notification('n-011', 'updated', 'AAMkAGI1-msg-11', 'forged-state'),
        notification('n-012', 'updated', 'AAMkAGI1-msg-12'),
      ],
    });
    assert.equal(r.status, 202);
    assert.deepEqual(
      (r.body.events as { eventId: string }[]).map((e) => e.eventId),
      ['n-010', 'n-012'],
    );
    const ids = (await stored()).map((e) => e.event_id);
    assert.ok(ids.includes('n-010') && ids.includes('n-012'));
    assert.ok(!ids.includes('n-011'), 'the forged notification is not stored');

    const allForged = await send({
      value: [notification('n-020', 'updated', 'm', 'forged'), notification('n-021', 'updated', 'm', 'x')],
    });
    assert.equal(allForged.status, 401, 'no notification vouches for the request');
    const noState = await send({
      value: [{ ...notification('n-022', 'updated', 'm'), clientState: undefined }],
    });
    assert.equal(noState.status, 401);
  });

  it('a batch that is not an array of notifications, or an item without an id, is a 400 naming it', async () => {
    const empty = await send({ value: [] });
    assert.equal(empty.status, 401, 'nothing vouches for an empty batch');
    const noId = await send({
      value: [
        notification('n-030', 'updated', 'm-30'),
        { ...notification('x', 'updated', 'm-31'), id: undefined },
      ],
    });
    assert.equal(noId.status, 400);
    assert.match(String(noId.body.error), /item 1 at body path "value": no event id at body path "id"/);
    assert.ok(!(await stored()).some((e) => e.event_id === 'n-030'), 'nothing of a refused batch is stored');
  });

  it('routed by tenant: each notification of one POST reaches its own connection, an unknown tenant waits', async () => {
    const a = 'aaaaaaaa-0000-4000-8000-00000000000a';
    const b = 'bbbbbbbb-0000-4000-8000-00000000000b';
    const c = 'cccccccc-0000-4000-8000-00000000000c';
    const r = await fetch(`${receiver.url}/webhooks/graphtenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        value: [
          notification('t-1', 'updated', 'msg-a1', STATE, a),
          notification('t-2', 'updated', 'msg-b1', STATE, b),
          notification('t-3', 'created', 'msg-c1', STATE, c),
          notification('t-4', 'deleted', 'msg-a2', STATE, a),
        ],
      }),
    });
    const body = (await r.json()) as { status: string; events: Record<string, unknown>[] };
    assert.equal(r.status, 202, JSON.stringify(body));
    assert.deepEqual(
      body.events.map((e) => [e.eventId, 'id' in e ? 'stored' : e.unrouted]),
      [
        ['t-1', 'stored'],
        ['t-2', 'stored'],
        ['t-3', c],
        ['t-4', 'stored'],
      ],
    );
    const rows = await env.db
      .selectFrom('webhook_events')
      .select(['connection', 'event_id', 'entity_key'])
      .where('integration', '=', 'graphtenants')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((e) => [e.connection, e.event_id, e.entity_key]),
      [
        ['tenant-a', 't-1', 'msg-a1'],
        ['tenant-b', 't-2', 'msg-b1'],
        ['tenant-a', 't-4', 'msg-a2'],
      ],
    );
    const waiting = await env.db
      .selectFrom('webhook_unrouted')
      .select(['account', 'event_id'])
      .where('integration', '=', 'graphtenants')
      .execute();
    assert.deepEqual(waiting, [{ account: c, event_id: 't-3' }]);
  });
});
