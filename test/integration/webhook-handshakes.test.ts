/**
 * Handshakes and event templates as the providers send them, against the receiver on a real Postgres:
 * Slack url_verification (signed), Microsoft Graph validationToken (not signed), Zoom
 * endpoint.url_validation (signed, answered with an HMAC of the plain token), GitHub ping (signed with
 * @octokit/webhooks-methods). Then event types built from a header and the body, and the header names
 * providers use besides the documented ones (svix-*, Shopify without x-).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { defineIntegration } from '../../src/spec/define.js';
import type { IntegrationSpec, IntegrationSpecInput } from '../../src/spec/schema.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { saveSubscription } from '../../src/webhooks/subscriptions.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testDb, type DbEnv } from '../helpers/db-env.js';

const box = SecretBox.fromKey(TEST_KEY);

/** A spec with one resource and the given webhooks section; the secret is the connection's `hook`. */
function specWith(id: string, webhooks: NonNullable<IntegrationSpecInput['webhooks']>): IntegrationSpec {
  return defineIntegration({
    id,
    baseUrl: 'http://127.0.0.1:1',
    secrets: { hook: 'webhook signing secret' },
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

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; type: string | null; text: string }> {
  const r = await fetch(url, { method: 'POST', headers, body });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

const hmacHex = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('hex');
const now = () => Math.floor(Date.now() / 1000);

describe('webhook handshakes and event templates', { timeout: 120_000 }, () => {
  let env: DbEnv;
  let receiver: RunningReceiver;
  const specs = new Map<string, IntegrationSpec>();
  const connection = 'tenant-1';
  const secrets: Record<string, string> = {
    slackhooks: '8f742231b10e8888abcd99yyyzzz85a5',
    graphhooks: 'graph-client-state',
    graphstate: "not used: the state is the subscription's",
    zoomhooks: 'zoom-secret-token',
    githubhooks: "It's a Secret to Everybody",
    svixhooks: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    shopifyhooks: 'shop-secret',
  };

  before(async () => {
    env = await testDb();
    const upsert = { action: 'upsert' as const, resource: 'items', record: 'item' };
    for (const spec of [
      specWith('slackhooks', {
        signature: { scheme: 'slack', secrets: ['hook'] },
        handshakes: [
          { answer: 'challenge', when: { path: 'type', equals: 'url_verification' }, challenge: 'challenge' },
        ],
        eventId: { path: 'event_id' },
        eventType: '{body.type}.{body.event.type}',
        events: { 'event_callback.item_changed': upsert },
      }),
      specWith('graphhooks', {
        signature: { scheme: 'hmac', header: 'x-never-sent', secrets: ['hook'] },
        handshakes: [{ answer: 'query-token', query: 'validationToken' }],
        eventId: { path: 'id' },
        eventType: { path: 'type' },
        events: {},
      }),
      specWith('graphstate', {
        signature: { scheme: 'client-state' },
        handshakes: [{ answer: 'query-token', query: 'validationToken' }],
        eventId: { path: 'value.0.resourceData.id' },
        eventType: { path: 'value.0.changeType' },
        events: {},
      }),
      specWith('zoomhooks', {
        signature: {
          scheme: 'hmac',
          header: 'x-zm-signature',
          prefix: 'v0=',
          signed: 'v0:{timestamp}:{body}',
          timestampHeader: 'x-zm-request-timestamp',
          secrets: ['hook'],
        },
        handshakes: [
          {
            answer: 'hmac-token',
            when: { path: 'event', equals: 'endpoint.url_validation' },
            token: 'payload.plainToken',
          },
        ],
        eventId: '{body.payload.object.uuid}:{body.event_ts}',
        eventType: { path: 'event' },
        events: {},
      }),
      specWith('githubhooks', {
        signature: { scheme: 'github', secrets: ['hook'] },
        handshakes: [{ answer: 'ack', when: { header: 'x-github-event', equals: 'ping' } }],
        eventId: { header: 'x-github-delivery' },
        eventType: '{header.x-github-event}.{body.action?}',
        events: { 'issues.opened': { action: 'upsert', resource: 'items', record: 'issue' } },
      }),
      specWith('svixhooks', {
        signature: { scheme: 'standard-webhooks', secrets: ['hook'] },
        eventId: { header: 'webhook-id' },
        eventType: { path: 'type' },
        events: {},
      }),
      specWith('shopifyhooks', {
        signature: { scheme: 'shopify', secrets: ['hook'] },
        eventId: { header: 'x-shopify-webhook-id' },
        eventType: { header: 'x-shopify-topic' },
        events: {},
      }),
    ]) {
      specs.set(spec.id, spec);
      await saveConnection(env.db, box, {
        integration: spec.id,
        id: connection,
        config: {},
        secrets: { hook: secrets[spec.id]! },
      });
    }
    receiver = await startWebhookReceiver({ db: env.db, specs, secretBox: box, env: {} });
  });
  after(async () => {
    await receiver?.close();
    if (env) {
      for (const id of specs.keys()) {
        await env.db.deleteFrom('webhook_events').where('integration', '=', id).execute();
        await env.db.deleteFrom('connections').where('integration', '=', id).execute();
        await env.db.deleteFrom('webhook_subscriptions').where('integration', '=', id).execute();
      }
      await env.close();
    }
  });

  const url = (integration: string, query = '') =>
    `${receiver.url}/webhooks/${integration}/${connection}${query}`;
  const stored = (integration: string) =>
    env.db
      .selectFrom('webhook_events')
      .select(['event_id', 'event_type', 'status'])
      .where('integration', '=', integration)
      .orderBy('id')
      .execute();

  it('Slack url_verification: the signed challenge is echoed; unsigned or forged it is refused', async () => {
    // The request of Slack's Events API documentation (url_verification).
    const body = JSON.stringify({
      token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    const ts = String(now());
    const signature = `v0=${hmacHex(secrets.slackhooks!, `v0:${ts}:${body}`)}`;
    const headers = {
      'content-type': 'application/json',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': signature,
    };
    const ok = await post(url('slackhooks'), body, headers);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.type, 'application/json');
    assert.deepEqual(JSON.parse(ok.text), {
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });

    const forged = await post(url('slackhooks'), body, {
      ...headers,
      'x-slack-signature': `v0=${'0'.repeat(64)}`,
    });
    assert.equal(forged.status, 401);
    const unsigned = await post(url('slackhooks'), body, { 'content-type': 'application/json' });
    assert.equal(unsigned.status, 401);
    assert.deepEqual(await stored('slackhooks'), [], 'a handshake is never stored');
  });

  it('Slack event_callback: the type comes from a template over the body', async () => {
    const body = JSON.stringify({
      type: 'event_callback',
      event_id: 'Ev0PV52K25',
      team_id: 'T1DC2JH3J',
      event: { type: 'item_changed' },
      item: { id: 'i1', name: 'one' },
    });
    const ts = String(now());
    const r = await post(url('slackhooks'), body, {
      'content-type': 'application/json',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': `v0=${hmacHex(secrets.slackhooks!, `v0:${ts}:${body}`)}`,
    });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(await stored('slackhooks'), [
      { event_id: 'Ev0PV52K25', event_type: 'event_callback.item_changed', status: 'received' },
    ]);
  });

  it('Microsoft Graph validationToken: answered as text/plain, decoded, before any other check', async () => {
    // Graph POSTs to notificationUrl?validationToken=… with an empty text/plain body.
    const token =
      'Validation: Testing client application reachability for subscription Request-Id: 3b3f9821-ce3f-4b48-9b8e-4c6f0a1e2c7d';
    const r = await post(url('graphhooks', `?validationToken=${encodeURIComponent(token)}`), '', {
      'content-type': 'text/plain; charset=utf-8',
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.type, 'text/plain; charset=utf-8');
    assert.equal(r.text, token);
    const bad = await post(url('graphhooks', `?validationToken=${encodeURIComponent('a\nb')}`), '', {
      'content-type': 'text/plain',
    });
    assert.equal(bad.status, 400, 'a token with control characters is not echoed');
    const plain = await post(url('graphhooks'), '{}', { 'content-type': 'application/json' });
    assert.equal(plain.status, 401, 'without the token it is an ordinary (unsigned) delivery');
    assert.deepEqual(await stored('graphhooks'), []);
  });

  it("Microsoft Graph clientState: every item must carry the subscription's stored secret", async () => {
    const state = 'graph-state-7f3a9c';
    await saveSubscription(env.db, box, {
      integration: 'graphstate',
      connection,
      subscriptionId: 'sub-g1',
      expiresAt: null,
      secret: state,
    });
    // The shape of Graph's change notification collection.
    const notification = (clientState: string, id: string) => ({
      subscriptionId: 'sub-g1',
      clientState,
      changeType: 'updated',
      resource: `Users/${id}`,
      subscriptionExpirationDateTime: '2026-12-05T10:00:00.0000000Z',
      tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95',
      resourceData: { '@odata.type': '#Microsoft.Graph.User', id },
    });
    const send = (value: unknown[]) =>
      post(url('graphstate'), JSON.stringify({ value }), { 'content-type': 'application/json' });

    const ok = await send([notification(state, 'u-1')]);
    assert.equal(ok.status, 202, ok.text);
    assert.equal((await send([notification('graph-state-7f3a9d', 'u-2')])).status, 401, 'a wrong state');
    assert.equal(
      (await send([notification(state, 'u-3'), notification('forged', 'u-4')])).status,
      401,
      'one forged item refuses the batch',
    );
    assert.equal((await send([])).status, 401, 'no item: nothing vouches for the request');
    assert.equal((await send([{ ...notification(state, 'u-5'), clientState: undefined }])).status, 401);

    // A new subscription brings a new state: the old one is refused, the new one read and accepted.
    await saveSubscription(env.db, box, {
      integration: 'graphstate',
      connection,
      subscriptionId: 'sub-g2',
      expiresAt: null,
      secret: 'graph-state-renewed',
    });
    // (A failed check reads the secrets again at most once a second; the forgeries above just did.)
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await send([notification('graph-state-renewed', 'u-7')])).status, 202);
    assert.equal((await send([notification(state, 'u-6')])).status, 401, 'the old state, once re-read');
    assert.deepEqual(
      (await stored('graphstate')).map((e) => e.event_id),
      ['u-1', 'u-7'],
    );
  });

  it('Zoom endpoint.url_validation: signed request, answered with the HMAC of the plain token', async () => {
    // The request of Zoom's webhook documentation (validate your webhook endpoint).
    const body = JSON.stringify({
      payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' },
      event_ts: 1654503849680,
      event: 'endpoint.url_validation',
    });
    const ts = String(now());
    const headers = {
      'content-type': 'application/json',
      'x-zm-request-timestamp': ts,
      'x-zm-signature': `v0=${hmacHex(secrets.zoomhooks!, `v0:${ts}:${body}`)}`,
    };
    const r = await post(url('zoomhooks'), body, headers);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), {
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: hmacHex(secrets.zoomhooks!, 'qgg8vlvZRS6UYooatFL8Aw'),
    });
    const forged = await post(url('zoomhooks'), body, {
      ...headers,
      'x-zm-signature': `v0=${'a'.repeat(64)}`,
    });
    assert.equal(forged.status, 401);
    const noToken = JSON.stringify({ payload: {}, event_ts: 1, event: 'endpoint.url_validation' });
    const missing = await post(url('zoomhooks'), noToken, {
      ...headers,
      'x-zm-signature': `v0=${hmacHex(secrets.zoomhooks!, `v0:${ts}:${noToken}`)}`,
    });
    assert.equal(missing.status, 400);
    assert.deepEqual(JSON.parse(missing.text), { error: 'no plain token at body path "payload.plainToken"' });
    assert.deepEqual(await stored('zoomhooks'), []);
  });

  it('GitHub ping (signed with @octokit/webhooks-methods) is acknowledged and not stored', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'App' } });
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': await octokitSign(secrets.githubhooks!, body),
    };
    const r = await post(url('githubhooks'), body, headers);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { status: 'acknowledged' });
    const forged = await post(url('githubhooks'), body, {
      ...headers,
      'x-hub-signature-256': await octokitSign('another secret', body),
    });
    assert.equal(forged.status, 401);
    assert.deepEqual(await stored('githubhooks'), []);
  });

  it('GitHub event types from header and body: issues.opened, pull_request.opened and push differ', async () => {
    const deliver = async (event: string, delivery: string, payload: object) => {
      const body = JSON.stringify(payload);
      return post(url('githubhooks'), body, {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': delivery,
        'x-hub-signature-256': await octokitSign(secrets.githubhooks!, body),
      });
    };
    assert.equal(
      (await deliver('issues', 'd-1', { action: 'opened', issue: { id: 1, name: 'a' } })).status,
      202,
    );
    assert.equal(
      (await deliver('pull_request', 'd-2', { action: 'opened', pull_request: { id: 2 } })).status,
      202,
    );
    assert.equal((await deliver('push', 'd-3', { ref: 'refs/heads/main' })).status, 202);
    assert.equal((await deliver('issues', 'd-4', { action: 'deleted', issue: { id: 1 } })).status, 202);
    const noEvent = await post(url('githubhooks'), '{}', {
      'content-type': 'application/json',
      'x-github-delivery': 'd-5',
      'x-hub-signature-256': await octokitSign(secrets.githubhooks!, '{}'),
    });
    assert.equal(noEvent.status, 400);
    assert.deepEqual(JSON.parse(noEvent.text), {
      error: 'no event type at header x-github-event (of "{header.x-github-event}.{body.action?}")',
    });
    assert.deepEqual(await stored('githubhooks'), [
      { event_id: 'd-1', event_type: 'issues.opened', status: 'received' },
      { event_id: 'd-2', event_type: 'pull_request.opened', status: 'ignored' },
      { event_id: 'd-3', event_type: 'push', status: 'ignored' },
      { event_id: 'd-4', event_type: 'issues.deleted', status: 'ignored' },
    ]);
  });

  it('Standard Webhooks sent with only svix-* headers: signature and webhook-id both found', async () => {
    const body = JSON.stringify({ type: 'invoice.paid', data: {} });
    const signed = new Webhook(secrets.svixhooks!).sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(), body);
    const r = await post(url('svixhooks'), body, {
      'content-type': 'application/json',
      'svix-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'svix-timestamp': String(now()),
      'svix-signature': signed,
    });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(await stored('svixhooks'), [
      { event_id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', event_type: 'invoice.paid', status: 'ignored' },
    ]);
  });

  it('Shopify with and without the X- prefix', async () => {
    const body = '{"id":1}';
    const hmac = createHmac('sha256', secrets.shopifyhooks!).update(body).digest('base64');
    assert.equal(hmac, 'plW8VGqq0nDMIEhDqaNNW99asdUCy7EIqLZVcQwtAZ0=');
    const old = await post(url('shopifyhooks'), body, {
      'content-type': 'application/json',
      'x-shopify-hmac-sha256': hmac,
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'w-1',
    });
    const unprefixed = await post(url('shopifyhooks'), body, {
      'content-type': 'application/json',
      'shopify-hmac-sha256': hmac,
      'shopify-topic': 'orders/updated',
      'shopify-webhook-id': 'w-2',
    });
    assert.equal(old.status, 202, old.text);
    assert.equal(unprefixed.status, 202, unprefixed.text);
    const forged = await post(url('shopifyhooks'), body, {
      'content-type': 'application/json',
      'shopify-hmac-sha256': createHmac('sha256', 'other').update(body).digest('base64'),
      'shopify-topic': 'orders/updated',
      'shopify-webhook-id': 'w-3',
    });
    assert.equal(forged.status, 401);
    assert.deepEqual(
      (await stored('shopifyhooks')).map((r) => r.event_type),
      ['orders/create', 'orders/updated'],
    );
  });
});
