/**
 * The receiver against the real Postgres, without Temporal in between: where an event id counts as a
 * duplicate, and how soon a rotated webhook secret verifies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KyselyPlugin } from 'kysely';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { postWebhook } from '../../src/testing/webhooks.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec, trackerWebhooks, WEBHOOK_SECRET } from '../helpers/tracker-spec.js';

const ROTATED_SECRET = 'whsec_cm90YXRlZCB0cmFja2VyIHdlYmhvb2sgc2VjcmV0';

describe('webhook receiver: dedup scope and secret rotation', { timeout: 120_000 }, () => {
  let env: TestEnv;
  const box = SecretBox.fromKey(TEST_KEY);
  const receivers: RunningReceiver[] = [];
  const scheme = trackerWebhooks().signature;

  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await env?.close();
  });

  /** A receiver with the default secret TTL (30 s), as `webhooks serve` runs it. */
  async function receiverFor(spec: IntegrationSpec): Promise<string> {
    const r = await startWebhookReceiver({
      db: env.db,
      specs: new Map([[spec.id, spec]]),
      secretBox: box,
      env: {},
    });
    receivers.push(r);
    return `${r.url}/webhooks/${spec.id}`;
  }
  const addConnection = (id: string, webhookSecret: string) =>
    saveConnection(env.db, box, {
      integration: 'tracker',
      id,
      config: {},
      secrets: { token: TOKEN, webhook_secret: webhookSecret },
    });
  const payload = (eventId: string) => ({
    id: eventId,
    type: 'issue.updated',
    sequence: 1,
    data: { id: 1, title: 't', state: 'open', priority: 1, updated_at: '2026-11-01T00:00:00.000Z' },
  });

  it('deduplicates per connection: the same event id from two tenants is two events', async () => {
    const base = await receiverFor(trackerSpec('http://127.0.0.1:1', undefined, trackerWebhooks()));
    const [a, b] = [env.uniqueId('tenant-a'), env.uniqueId('tenant-b')];
    await addConnection(a, WEBHOOK_SECRET);
    await addConnection(b, WEBHOOK_SECRET);
    const id = env.uniqueId('evt');
    const first = await postWebhook(`${base}/${a}`, scheme, WEBHOOK_SECRET, payload(id));
    const other = await postWebhook(`${base}/${b}`, scheme, WEBHOOK_SECRET, payload(id));
    const again = await postWebhook(`${base}/${a}`, scheme, WEBHOOK_SECRET, payload(id));
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal(
      other.status,
      202,
      `tenant b's event is not a duplicate of tenant a's: ${JSON.stringify(other.body)}`,
    );
    assert.equal(again.status, 200, 'a repeated delivery to the same connection is a duplicate');
    const rows = await env.db
      .selectFrom('webhook_events')
      .select('connection')
      .where('event_id', '=', id)
      .execute();
    assert.deepEqual(rows.map((r) => r.connection).sort(), [a, b].sort());
  });

  it('deduplicates across the integration when the spec says webhooks.dedupe: integration', async () => {
    const spec = trackerSpec('http://127.0.0.1:1', undefined, {
      ...trackerWebhooks(),
      dedupe: 'integration',
    });
    assert.equal(spec.webhooks?.dedupe, 'integration');
    const base = await receiverFor(spec);
    const [a, b] = [env.uniqueId('tenant-a'), env.uniqueId('tenant-b')];
    await addConnection(a, WEBHOOK_SECRET);
    await addConnection(b, WEBHOOK_SECRET);
    const id = env.uniqueId('evt');
    assert.equal((await postWebhook(`${base}/${a}`, scheme, WEBHOOK_SECRET, payload(id))).status, 202);
    const other = await postWebhook(`${base}/${b}`, scheme, WEBHOOK_SECRET, payload(id));
    assert.equal(other.status, 200);
    assert.deepEqual(other.body, { status: 'duplicate', eventId: id });
  });

  it('a rotated secret verifies as soon as the connection is saved (no TTL wait); a wrong one still gets 401', async () => {
    const base = await receiverFor(trackerSpec('http://127.0.0.1:1', undefined, trackerWebhooks()));
    const conn = env.uniqueId('rotating');
    await addConnection(conn, WEBHOOK_SECRET);
    const url = `${base}/${conn}`;
    // The receiver now remembers the first secret for its 30 s TTL.
    assert.equal((await postWebhook(url, scheme, WEBHOOK_SECRET, payload(env.uniqueId('evt')))).status, 202);
    // `connection add` replaces the secret; the provider signs with the new one at once.
    await addConnection(conn, ROTATED_SECRET);
    const rotated = await postWebhook(url, scheme, ROTATED_SECRET, payload(env.uniqueId('evt')));
    assert.equal(rotated.status, 202, JSON.stringify(rotated.body));
    const wrong = await postWebhook(
      url,
      scheme,
      'whsec_d3Jvbmcgc2VjcmV0IHZhbHVlIGhlcmU=',
      payload(env.uniqueId('evt')),
    );
    assert.equal(wrong.status, 401);
  });

  it('forged signatures make the receiver read the secrets again at most once a second', async () => {
    let reads = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        if (args.node.kind === 'SelectQueryNode' && JSON.stringify(args.node.from).includes('"connections"'))
          reads++;
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    };
    const spec = trackerSpec('http://127.0.0.1:1', undefined, trackerWebhooks());
    const r = await startWebhookReceiver({
      db: env.db.withPlugin(counting),
      specs: new Map([[spec.id, spec]]),
      secretBox: box,
      env: {},
    });
    receivers.push(r);
    const conn = env.uniqueId('forged');
    await addConnection(conn, WEBHOOK_SECRET);
    const url = `${r.url}/webhooks/tracker/${conn}`;
    assert.equal((await postWebhook(url, scheme, WEBHOOK_SECRET, payload(env.uniqueId('evt')))).status, 202);
    assert.equal(reads, 1);
    const started = performance.now();
    for (let i = 0; i < 30; i++) {
      const forged = await postWebhook(
        url,
        scheme,
        'whsec_Zm9yZ2VkIHNpZ25pbmcgc2VjcmV0',
        payload(`forged-${i}`),
      );
      assert.equal(forged.status, 401);
    }
    const seconds = Math.ceil((performance.now() - started) / 1000);
    assert.ok(reads <= 1 + seconds + 1, `${reads} reads for 30 forged requests in ${seconds} s`);
  });
});
