/**
 * The catalog's webhook examples (integrations/github-app.yaml, stripe-connect.yaml, slack-events.yaml,
 * xero.yaml, microsoft-graph.yaml),
 * loaded from their YAML files and driven through the receiver on a real Postgres with deliveries
 * signed by the providers' own libraries (@octokit/webhooks-methods, stripe-node) or, for Slack, by its
 * documented v0 HMAC: handshakes answered, every tenant's event routed to its own connection.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import { loadSpec } from '../../src/spec/load.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { addConnection } from '../../src/sync/connections.js';
import {
  startWebhookReceiver,
  type LifecycleHandOver,
  type RunningReceiver,
} from '../../src/webhooks/receiver.js';
import { saveSubscription } from '../../src/webhooks/subscriptions.js';
import { reconcileTargets } from '../../src/temporal/webhook-reconcile.js';
import { listConnections } from '../../src/store/connections.js';
import { handOverSequenceGaps, sweepSequences } from '../../src/webhooks/sequence-store.js';
import { testDb, type DbEnv } from '../helpers/db-env.js';
import { TEST_KEY } from '../helpers/engine.js';

const box = SecretBox.fromKey(TEST_KEY);
const SECRETS = {
  GITHUB_APP_WEBHOOK_SECRET: "It's a Secret to Everybody",
  STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_test_ZXhhbXBsZSBjb25uZWN0IHNlY3JldA',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  XERO_WEBHOOK_KEY:
    'OSd0eLlVIY9ZhViEqlDUh4+6n6M+Lo+eDaEJheJ6OCCgWwIz2D3JIAU6jPMipHRbgKTLz2uJ+xiACXGDBLrgdA==',
};

describe('catalog webhook examples', { timeout: 120_000 }, () => {
  let env: DbEnv;
  let receiver: RunningReceiver;
  const specs = new Map<string, IntegrationSpec>();
  const handedLifecycle: LifecycleHandOver[] = [];

  before(async () => {
    env = await testDb();
    for (const f of ['github-app', 'stripe-connect', 'slack-events', 'xero', 'microsoft-graph']) {
      const spec = await loadSpec(`integrations/${f}.yaml`);
      specs.set(spec.id, spec);
    }
    // A skipped number counts as lost after 1 s here, not the example's 60 s.
    const xero = specs.get('xero')!;
    specs.set('xero', {
      ...xero,
      webhooks: { ...xero.webhooks!, sequence: { ...xero.webhooks!.sequence!, reorderSeconds: 1 } },
    });
    receiver = await startWebhookReceiver({
      db: env.db,
      specs,
      secretBox: box,
      env: SECRETS,
      // What the webhook service would hand to Temporal (webhook-lifecycle.test.ts runs that).
      onLifecycle: (r) => {
        handedLifecycle.push(r);
        return Promise.resolve();
      },
    });
  });
  after(async () => {
    await receiver?.close();
    await env?.close();
  });

  const events = (integration: string) =>
    env.db
      .selectFrom('webhook_events')
      .select(['connection', 'event_type', 'action', 'entity_key', 'status'])
      .where('integration', '=', integration)
      .orderBy('id')
      .execute();

  async function post(path: string, body: string, headers: Record<string, string>) {
    const r = await fetch(`${receiver.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: r.status, body: await r.json() };
  }

  it('GitHub App: ping acknowledged; issues of two installations reach their own connections', async () => {
    const spec = specs.get('github-app')!;
    for (const [id, installation] of [
      ['acme', '101'],
      ['globex', '202'],
    ] as const)
      await addConnection(env.db, box, spec, {
        integration: spec.id,
        id,
        config: { owner: id, repo: 'widgets' },
        secrets: { token: `ghs_${id}` },
        account: installation,
      });
    const deliver = async (event: string, delivery: string, payload: object) => {
      const body = JSON.stringify(payload);
      return post('/webhooks/github-app', body, {
        'x-github-event': event,
        'x-github-delivery': delivery,
        'x-hub-signature-256': await octokitSign(SECRETS.GITHUB_APP_WEBHOOK_SECRET, body),
      });
    };
    const issue = (id: number) => ({
      id,
      number: id,
      title: `t${id}`,
      state: 'open',
      updated_at: '2026-12-01T00:00:00Z',
    });
    assert.deepEqual(await deliver('ping', 'p-1', { zen: 'Speak like a human.', hook_id: 9 }), {
      status: 200,
      body: { status: 'acknowledged' },
    });
    assert.equal(
      (await deliver('issues', 'd-1', { action: 'opened', issue: issue(1), installation: { id: 101 } }))
        .status,
      202,
    );
    assert.equal(
      (await deliver('issues', 'd-2', { action: 'opened', issue: issue(2), installation: { id: 202 } }))
        .status,
      202,
    );
    assert.equal(
      (await deliver('issues', 'd-3', { action: 'deleted', issue: issue(1), installation: { id: 101 } }))
        .status,
      202,
    );
    assert.deepEqual(await events('github-app'), [
      {
        connection: 'acme',
        event_type: 'issues.opened',
        action: 'upsert',
        entity_key: '1',
        status: 'received',
      },
      {
        connection: 'globex',
        event_type: 'issues.opened',
        action: 'upsert',
        entity_key: '2',
        status: 'received',
      },
      {
        connection: 'acme',
        event_type: 'issues.deleted',
        action: 'delete',
        entity_key: '1',
        status: 'received',
      },
    ]);
  });

  it('Stripe Connect: events of two connected accounts, signed by stripe-node', async () => {
    const spec = specs.get('stripe-connect')!;
    for (const [id, account] of [
      ['shop-a', 'acct_1Aaa'],
      ['shop-b', 'acct_1Bbb'],
    ] as const)
      await addConnection(env.db, box, spec, {
        integration: spec.id,
        id,
        config: {},
        secrets: { secret_key: 'sk_test_x' },
        account,
      });
    const stripe = new Stripe('sk_test_not_used_for_requests');
    const deliver = (id: string, account: string, type: string) => {
      const body = JSON.stringify({
        id,
        object: 'event',
        account,
        type,
        created: 1764720000,
        data: {
          object: { id: `cus_${id}`, object: 'customer', name: 'n', email: 'e@x', created: 1764720000 },
        },
      });
      const header = stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: SECRETS.STRIPE_CONNECT_WEBHOOK_SECRET,
      });
      return post('/webhooks/stripe-connect', body, { 'stripe-signature': header });
    };
    assert.equal((await deliver('evt_1', 'acct_1Aaa', 'customer.created')).status, 202);
    assert.equal((await deliver('evt_2', 'acct_1Bbb', 'customer.updated')).status, 202);
    assert.deepEqual(
      (await events('stripe-connect')).map((e) => [e.connection, e.event_type, e.entity_key]),
      [
        ['shop-a', 'customer.created', 'cus_evt_1'],
        ['shop-b', 'customer.updated', 'cus_evt_2'],
      ],
    );
  });

  it('Slack Events: url_verification echoed before routing; channel events routed by team_id', async () => {
    const spec = specs.get('slack-events')!;
    await addConnection(env.db, box, spec, {
      integration: spec.id,
      id: 'workspace',
      config: { channel: 'C0123456789' },
      secrets: { token: 'xoxb-1' },
      account: 'T1DC2JH3J',
    });
    const deliver = (payload: object) => {
      const body = JSON.stringify(payload);
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = createHmac('sha256', SECRETS.SLACK_SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
      return post('/webhooks/slack-events', body, {
        'x-slack-request-timestamp': ts,
        'x-slack-signature': `v0=${sig}`,
      });
    };
    assert.deepEqual(
      await deliver({
        token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
        challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
        type: 'url_verification',
      }),
      { status: 200, body: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' } },
    );
    const created = await deliver({
      type: 'event_callback',
      team_id: 'T1DC2JH3J',
      event_id: 'Ev1',
      event: { type: 'channel_created', channel: { id: 'C024BE91L', name: 'fun', created: 1360782804 } },
    });
    assert.equal(created.status, 202);
    const unknown = await deliver({
      type: 'event_callback',
      team_id: 'TOTHER',
      event_id: 'Ev2',
      event: { type: 'channel_deleted', channel: 'C1' },
    });
    assert.deepEqual(unknown, {
      status: 202,
      body: { status: 'unrouted', account: 'TOTHER', eventId: 'Ev2' },
    });
    assert.deepEqual(await events('slack-events'), [
      {
        connection: 'workspace',
        event_type: 'event_callback.channel_created',
        action: 'upsert',
        entity_key: 'C024BE91L',
        status: 'received',
      },
    ]);
  });

  it('Xero: intent to receive, events of two organisations in one body, a skipped sequence reconciles both', async () => {
    const spec = specs.get('xero')!;
    const tenants = {
      acme: 'a1a1a1a1-0000-4000-8000-0000000000a1',
      globex: 'b2b2b2b2-0000-4000-8000-0000000000b2',
    };
    for (const [id, tenant] of Object.entries(tenants))
      await addConnection(env.db, box, spec, {
        integration: spec.id,
        id,
        config: { tenant_id: tenant },
        secrets: { token: `xero-${id}` },
        account: tenant,
      });
    // Xero's documented signature: base64 HMAC-SHA256 of the raw body, keyed with the webhook key.
    const sign = (body: string) =>
      createHmac('sha256', SECRETS.XERO_WEBHOOK_KEY).update(body).digest('base64');
    const deliver = async (body: string, signature = sign(body)) => {
      const r = await fetch(`${receiver.url}/webhooks/xero`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'x-xero-signature': signature },
        body,
      });
      return { status: r.status, text: await r.text(), cookie: r.headers.get('set-cookie') };
    };
    // Intent to receive: the documented body, correctly and incorrectly signed.
    const itr = JSON.stringify({
      events: [],
      lastEventSequence: 0,
      firstEventSequence: 0,
      entropy: 'S0m3r4Nd0mt3xt',
    });
    assert.deepEqual(await deliver(itr), { status: 200, text: '', cookie: null });
    assert.deepEqual(await deliver(itr, sign(itr + ' ')), { status: 401, text: '', cookie: null });
    assert.deepEqual(await deliver(itr, ''), { status: 401, text: '', cookie: null });
    assert.deepEqual(await events('xero'), [], 'the check stores nothing');

    const event = (tenant: string, category: string, type: string, resourceId: string, at: string) => ({
      resourceUrl: `https://api.xero.com/api.xro/2.0/${category === 'INVOICE' ? 'Invoices' : 'Contacts'}/${resourceId}`,
      resourceId,
      eventDateUtc: at,
      eventType: type,
      eventCategory: category,
      tenantId: tenant,
      tenantType: 'ORGANISATION',
    });
    const payload = (first: number, last: number, list: object[]) =>
      JSON.stringify({
        events: list,
        firstEventSequence: first,
        lastEventSequence: last,
        entropy: 'QWERTYUIOP',
      });
    const one = payload(1, 2, [
      event(
        tenants.acme,
        'INVOICE',
        'UPDATE',
        '717f2bfc-c6d4-41fd-b238-3f2f0c0cf777',
        '2026-10-21T01:15:39.902',
      ),
      event(
        tenants.globex,
        'CONTACT',
        'CREATE',
        '3fa85f64-5717-4562-b3fc-2c963f66afa6',
        '2026-10-21T01:15:40.100',
      ),
    ]);
    assert.deepEqual(await deliver(one), { status: 200, text: '', cookie: null });
    assert.deepEqual(
      await deliver(one),
      { status: 200, text: '', cookie: null },
      'a redelivery: a duplicate',
    );
    assert.deepEqual(await events('xero'), [
      {
        connection: 'acme',
        event_type: 'INVOICE.UPDATE',
        action: 'refetch',
        entity_key: '717f2bfc-c6d4-41fd-b238-3f2f0c0cf777',
        status: 'received',
      },
      {
        connection: 'globex',
        event_type: 'CONTACT.CREATE',
        action: 'refetch',
        entity_key: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
        status: 'received',
      },
    ]);

    // 3 and 4 never arrive: numbered across the app, so every organisation may have lost events.
    const later = payload(5, 5, [
      event(
        tenants.acme,
        'INVOICE',
        'CREATE',
        '9b2e4c1d-1111-4222-8333-444455556666',
        '2026-10-21T01:20:00.000',
      ),
    ]);
    assert.equal((await deliver(later)).status, 200);
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(await sweepSequences(env.db), 1, 'one gap: 3-4');
    const connections = (await listConnections(env.db)).filter((c) => c.integration === 'xero');
    const handed: { connection: string; ranges: string[]; targets: string[] }[] = [];
    await handOverSequenceGaps(env.db, ['xero'], (integration, connection, gaps) => {
      const targets = reconcileTargets(
        specs,
        connections.filter((c) => connection === '*' || c.id === connection),
      );
      handed.push({
        connection,
        ranges: gaps.map((g) => `${g.from}-${g.to}`),
        targets: targets.map((t) => `${t.connection}:${t.resources.join('+')}`).sort(),
      });
      return Promise.resolve();
    });
    assert.deepEqual(handed, [
      { connection: '*', ranges: ['3-4'], targets: ['acme:invoices+contacts', 'globex:invoices+contacts'] },
    ]);
  });

  it('Microsoft Graph: validationToken, a notification batch checked by clientState, lifecycle handed over', async () => {
    const spec = specs.get('microsoft-graph')!;
    await addConnection(env.db, box, spec, {
      integration: spec.id,
      id: 'contoso',
      config: {
        user_id: 'a1b2c3d4-0000-4000-8000-000000000001',
        notification_url: 'https://hooks.example/webhooks/microsoft-graph/contoso',
      },
      secrets: { token: 'graph-token' },
    });
    // What the subscribe activity stores from Graph's answer: the id and the clientState it made up.
    const clientState = 'c0ntos0-cl1ent-state-8f2e91';
    const subscriptionId = '7f105c7d-2dc5-4530-97cd-4e7ae6534c07';
    await saveSubscription(env.db, box, {
      integration: spec.id,
      connection: 'contoso',
      subscriptionId,
      expiresAt: '2026-12-10T11:00:00.000Z',
      secret: clientState,
    });
    const url = `${receiver.url}/webhooks/microsoft-graph/contoso`;
    const validation = await fetch(`${url}?validationToken=Validation%3A%20Testing%20client%20application`, {
      method: 'POST',
    });
    assert.equal(validation.status, 200);
    assert.equal(await validation.text(), 'Validation: Testing client application');

    const message = (id: string, changeType: string, state = clientState) => ({
      id,
      subscriptionId,
      subscriptionExpirationDateTime: '2026-12-10T11:00:00.0000000Z',
      clientState: state,
      changeType,
      resource: `Users/a1b2c3d4-0000-4000-8000-000000000001/Messages/${id}-msg`,
      tenantId: '84c31ca0-ac3b-4eae-ad11-519d80233e6f',
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': `Users/a1b2c3d4-0000-4000-8000-000000000001/Messages/${id}-msg`,
        id: `${id}-msg`,
      },
    });
    const missed = {
      subscriptionId,
      subscriptionExpirationDateTime: '2026-12-10T11:00:00.0000000Z',
      tenantId: '84c31ca0-ac3b-4eae-ad11-519d80233e6f',
      clientState,
      lifecycleEvent: 'missed',
    };
    const r = await post(
      '/webhooks/microsoft-graph/contoso',
      JSON.stringify({ value: [message('n-1', 'created'), message('n-2', 'deleted'), missed] }),
      {},
    );
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(
      (r.body as { events: Record<string, unknown>[] }).events.map((e) => e.eventId ?? e.lifecycleEvent),
      ['n-1', 'n-2', 'missed'],
    );
    assert.deepEqual(await events('microsoft-graph'), [
      {
        connection: 'contoso',
        event_type: 'created',
        action: 'refetch',
        entity_key: 'n-1-msg',
        status: 'received',
      },
      {
        connection: 'contoso',
        event_type: 'deleted',
        action: 'delete',
        entity_key: 'n-2-msg',
        status: 'received',
      },
    ]);
    assert.deepEqual(handedLifecycle, [
      { integration: 'microsoft-graph', connection: 'contoso', action: 'reconcile', events: ['missed'] },
    ]);
    // A notification with another clientState is not Graph's.
    const forged = await post(
      '/webhooks/microsoft-graph/contoso',
      JSON.stringify({ value: [message('n-3', 'updated', 'guessed')] }),
      {},
    );
    assert.equal(forged.status, 401);
  });
});
