/**
 * One URL for many tenants, on a real Postgres: a GitHub App's deliveries (signed with
 * @octokit/webhooks-methods and the app's one secret) are routed by installation.id, Stripe Connect
 * events (signed with stripe-node) by `account`, Slack events by team_id (url_verification answered
 * before routing). A burst across many accounts reaches exactly its own connections; an event for an
 * account no connection has is kept and delivered when the connection is added.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import { defineIntegration, parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';
import type { IntegrationSpec, IntegrationSpecInput } from '../../src/spec/schema.js';
import { addConnection, ConnectionConfigError } from '../../src/sync/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { listUnrouted } from '../../src/webhooks/unrouted.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testDb, type DbEnv } from '../helpers/db-env.js';

const box = SecretBox.fromKey(TEST_KEY);
const GITHUB_APP_SECRET = "It's a Secret to Everybody";
const STRIPE_CONNECT_SECRET = 'whsec_test_Y29ubmVjdCBlbmRwb2ludCBzZWNyZXQ';
const SLACK_SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

function routedSpec(id: string, webhooks: NonNullable<IntegrationSpecInput['webhooks']>): IntegrationSpec {
  return defineIntegration({
    id,
    baseUrl: 'http://127.0.0.1:1',
    resources: {
      items: {
        request: { path: '/items' },
        primaryKey: 'id',
        fields: { id: 'id', name: 'name' },
        pagination: { type: 'none' },
      },
    },
    webhooks,
  });
}

const githubApp = routedSpec('ghapp', {
  signature: { scheme: 'github', secrets: [{ env: 'GH_APP_WEBHOOK_SECRET' }] },
  route: { account: '{body.installation.id}' },
  handshakes: [{ answer: 'ack', when: { header: 'x-github-event', equals: 'ping' } }],
  eventId: { header: 'x-github-delivery' },
  eventType: '{header.x-github-event}.{body.action?}',
  events: { 'issues.opened': { action: 'upsert', resource: 'items', record: 'issue' } },
});
const stripeConnect = routedSpec('stripeconnect', {
  signature: { scheme: 'stripe', secrets: [{ env: 'STRIPE_CONNECT_WEBHOOK_SECRET' }] },
  route: { account: { path: 'account' } },
  eventId: { path: 'id' },
  eventType: { path: 'type' },
  events: { 'customer.updated': { action: 'upsert', resource: 'items', record: 'data.object' } },
});
const slackEvents = routedSpec('slackevents', {
  signature: { scheme: 'slack', secrets: [{ env: 'SLACK_SIGNING_SECRET' }] },
  route: { account: { path: 'team_id' } },
  handshakes: [
    { answer: 'challenge', when: { path: 'type', equals: 'url_verification' }, challenge: 'challenge' },
  ],
  eventId: { path: 'event_id' },
  eventType: '{body.type}.{body.event.type}',
  events: {},
});

describe('webhooks routed by provider account', { timeout: 120_000 }, () => {
  let env: DbEnv;
  let receiver: RunningReceiver;
  const specs = new Map([githubApp, stripeConnect, slackEvents].map((s) => [s.id, s]));

  before(async () => {
    env = await testDb();
    receiver = await startWebhookReceiver({
      db: env.db,
      specs,
      secretBox: box,
      env: {
        GH_APP_WEBHOOK_SECRET: GITHUB_APP_SECRET,
        STRIPE_CONNECT_WEBHOOK_SECRET: STRIPE_CONNECT_SECRET,
        SLACK_SIGNING_SECRET,
      },
    });
  });
  after(async () => {
    await receiver?.close();
    await env?.close();
  });

  const add = (spec: IntegrationSpec, id: string, account: string) =>
    addConnection(env.db, box, spec, { integration: spec.id, id, config: {}, secrets: {}, account });

  async function github(installation: number, delivery: string, payload: object = {}, event = 'issues') {
    const body = JSON.stringify({ action: 'opened', installation: { id: installation }, ...payload });
    const r = await fetch(`${receiver.url}/webhooks/ghapp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': delivery,
        'x-hub-signature-256': await octokitSign(GITHUB_APP_SECRET, body),
      },
      body,
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  it('a burst across 40 installations on one URL: every event reaches its own connection only', async () => {
    const tenants = Array.from({ length: 40 }, (_, i) => ({ id: `org-${i}`, installation: 5000 + i }));
    for (const t of tenants) await add(githubApp, t.id, String(t.installation));
    const deliveries = tenants.flatMap((t) =>
      Array.from({ length: 10 }, (_, n) => ({ t, delivery: `${t.installation}-${n}` })),
    );
    // Interleaved, all at once.
    deliveries.sort((a, b) => (a.delivery.endsWith('0') ? 1 : 0) - (b.delivery.endsWith('0') ? 1 : 0));
    const answers = await Promise.all(
      deliveries.map(({ t, delivery }) =>
        github(t.installation, delivery, { issue: { id: delivery, name: t.id } }),
      ),
    );
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([202]));
    const rows = await env.db
      .selectFrom('webhook_events')
      .select(['connection', 'event_id', 'event_type', 'payload'])
      .where('integration', '=', 'ghapp')
      .execute();
    assert.equal(rows.length, 400);
    for (const r of rows) {
      const installation = (r.payload as { installation: { id: number } }).installation.id;
      assert.equal(r.connection, `org-${installation - 5000}`, `event ${r.event_id} reached ${r.connection}`);
      assert.equal(r.event_type, 'issues.opened');
    }
    for (const t of tenants)
      assert.equal(rows.filter((r) => r.connection === t.id).length, 10, `${t.id} got its 10 events`);
  });

  it('an unknown installation: kept as unrouted (202), delivered when a connection claims it', async () => {
    const first = await github(777, 'lost-1', { issue: { id: 'x', name: 'y' } });
    assert.equal(first.status, 202);
    assert.deepEqual(first.body, { status: 'unrouted', account: '777', eventId: 'lost-1' });
    assert.equal((await github(777, 'lost-1')).status, 200, 'a redelivery is a duplicate');
    assert.equal((await github(777, 'lost-2', { issue: { id: 'z', name: 'w' } })).status, 202);
    assert.deepEqual(
      (await listUnrouted(env.db, 'ghapp')).map((e) => [e.account, e.eventId, e.eventType]),
      [
        ['777', 'lost-1', 'issues.opened'],
        ['777', 'lost-2', 'issues.opened'],
      ],
    );
    await add(githubApp, 'late-org', '777');
    assert.deepEqual(await listUnrouted(env.db, 'ghapp'), []);
    const moved = await env.db
      .selectFrom('webhook_events')
      .select(['event_id', 'connection', 'dedup_scope', 'status'])
      .where('integration', '=', 'ghapp')
      .where('event_id', 'in', ['lost-1', 'lost-2'])
      .orderBy('id')
      .execute();
    assert.deepEqual(moved, [
      { event_id: 'lost-1', connection: 'late-org', dedup_scope: 'late-org', status: 'received' },
      { event_id: 'lost-2', connection: 'late-org', dedup_scope: 'late-org', status: 'received' },
    ]);
    // From now on the account routes straight to the connection.
    assert.equal((await github(777, 'lost-3')).status, 202);
    assert.equal((await github(777, 'lost-1')).status, 200, 'still a duplicate after the move');
  });

  it('forged, unsigned or account-less deliveries are refused and nothing is kept', async () => {
    const body = JSON.stringify({ action: 'opened', installation: { id: 5001 } });
    const forged = await fetch(`${receiver.url}/webhooks/ghapp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': 'forged-1',
        'x-hub-signature-256': await octokitSign('a per-tenant guess', body),
      },
      body,
    });
    assert.equal(forged.status, 401);
    const noAccount = JSON.stringify({ action: 'opened' });
    const anonymous = await fetch(`${receiver.url}/webhooks/ghapp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': 'anon-1',
        'x-hub-signature-256': await octokitSign(GITHUB_APP_SECRET, noAccount),
      },
      body: noAccount,
    });
    assert.equal(anonymous.status, 400);
    assert.deepEqual(await anonymous.json(), { error: 'no account at body path "installation.id"' });
    const ping = await github(0, 'ping-1', { zen: 'Design for failure.', hook_id: 1 }, 'ping');
    assert.deepEqual(ping, { status: 200, body: { status: 'acknowledged' } });
    const kept = await env.db
      .selectFrom('webhook_events')
      .select('event_id')
      .where('event_id', 'in', ['forged-1', 'anon-1', 'ping-1'])
      .execute();
    assert.deepEqual(kept, []);
    assert.deepEqual(await listUnrouted(env.db, 'ghapp'), []);
  });

  it('one account belongs to one connection', async () => {
    await assert.rejects(add(githubApp, 'impostor', '5001'), (error: unknown) => {
      assert.ok(error instanceof ConnectionConfigError);
      assert.match(error.message, /account: 5001 is already the account of connection ghapp\/org-1/);
      return true;
    });
  });

  it('Stripe Connect: routed by `account`, signed by stripe-node with the endpoint secret', async () => {
    const stripe = new Stripe('sk_test_not_used_for_requests');
    await add(stripeConnect, 'shop-a', 'acct_1A');
    await add(stripeConnect, 'shop-b', 'acct_1B');
    const send = async (account: string, id: string) => {
      const body = JSON.stringify({
        id,
        object: 'event',
        account,
        type: 'customer.updated',
        data: { object: { id: `cus_${id}`, name: account } },
      });
      const header = stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: STRIPE_CONNECT_SECRET,
      });
      const r = await fetch(`${receiver.url}/webhooks/stripeconnect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': header },
        body,
      });
      return r.status;
    };
    assert.deepEqual(
      await Promise.all([send('acct_1A', 'evt_1'), send('acct_1B', 'evt_2'), send('acct_1A', 'evt_3')]),
      [202, 202, 202],
    );
    const rows = await env.db
      .selectFrom('webhook_events')
      .select(['event_id', 'connection', 'entity_key'])
      .where('integration', '=', 'stripeconnect')
      .orderBy('event_id')
      .execute();
    assert.deepEqual(rows, [
      { event_id: 'evt_1', connection: 'shop-a', entity_key: 'cus_evt_1' },
      { event_id: 'evt_2', connection: 'shop-b', entity_key: 'cus_evt_2' },
      { event_id: 'evt_3', connection: 'shop-a', entity_key: 'cus_evt_3' },
    ]);
  });

  it('Slack Events: url_verification is answered before routing; events routed by team_id', async () => {
    await add(slackEvents, 'workspace-1', 'T1DC2JH3J');
    const send = async (payload: object) => {
      const body = JSON.stringify(payload);
      const ts = String(Math.floor(Date.now() / 1000));
      const r = await fetch(`${receiver.url}/webhooks/slackevents`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': ts,
          'x-slack-signature': `v0=${createHmac('sha256', SLACK_SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`,
        },
        body,
      });
      return { status: r.status, body: await r.json() };
    };
    assert.deepEqual(await send({ token: 't', challenge: 'ch-1', type: 'url_verification' }), {
      status: 200,
      body: { challenge: 'ch-1' },
    });
    const event = await send({
      type: 'event_callback',
      team_id: 'T1DC2JH3J',
      event_id: 'Ev1',
      event: { type: 'channel_created' },
    });
    assert.equal(event.status, 202);
    const row = await env.db
      .selectFrom('webhook_events')
      .select(['connection', 'event_type'])
      .where('integration', '=', 'slackevents')
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { connection: 'workspace-1', event_type: 'event_callback.channel_created' });
  });

  it('validate: a routed spec must take the app secret from the environment', () => {
    try {
      parseSpec(
        {
          id: 'x',
          baseUrl: 'http://x',
          secrets: { hook: 'secret' },
          resources: { a: { request: { path: '/a' }, primaryKey: 'id' } },
          webhooks: {
            signature: { scheme: 'github', secrets: ['hook'] },
            route: { account: '{body.installation.id' },
            eventId: { header: 'x-github-delivery' },
            eventType: { header: 'x-github-event' },
            events: {},
          },
        },
        'spec',
      );
      assert.fail('expected problems');
    } catch (error) {
      assert.ok(error instanceof SpecError, String(error));
      assert.deepEqual(error.problems.sort(), [
        'webhooks.route.account: unbalanced brace in "{body.installation.id"',
        "webhooks.signature.secrets[0]: with route.account the secret is the app's (one for all tenants): use { env: NAME }, not a connection secret",
      ]);
    }
  });
});
