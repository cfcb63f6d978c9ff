import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  signatureSchema,
  signWebhook,
  verifySignature,
  type SignatureConfig,
} from '../../src/webhooks/signatures.js';

const request = (headers: Record<string, string>, body: string | Buffer) => {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { header: (n: string) => lower[n], body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
};

const config = (input: Record<string, unknown>): SignatureConfig =>
  signatureSchema.parse({ secrets: ['webhook_secret'], ...input });

describe('published signature examples', () => {
  it('Standard Webhooks (Svix) example', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    const c = config({ scheme: 'standard-webhooks' });
    assert.deepEqual(verifySignature(c, request(headers, body), [secret], 1614265330), { ok: true });
    // Several signatures, other versions among them (rotation).
    const multi = { ...headers, 'webhook-signature': `v1a,abc v1,AAAA ${headers['webhook-signature']}` };
    assert.deepEqual(verifySignature(c, request(multi, body), [secret], 1614265330), { ok: true });
    const signed = signWebhook(c, secret, body, {
      timestamp: 1614265330,
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    });
    assert.equal(signed['webhook-signature'], headers['webhook-signature']);
  });

  it('GitHub example', () => {
    const headers = {
      'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    };
    const c = config({ scheme: 'github' });
    assert.deepEqual(
      verifySignature(c, request(headers, 'Hello, World!'), ["It's a Secret to Everybody"], 0),
      {
        ok: true,
      },
    );
  });

  it('Slack example', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const headers = {
      'X-Slack-Request-Timestamp': '1531420618',
      'X-Slack-Signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    };
    const c = config({ scheme: 'slack' });
    assert.deepEqual(
      verifySignature(c, request(headers, body), ['8f742231b10e8888abcd99yyyzzz85a5'], 1531420618 + 10),
      { ok: true },
    );
  });

  it('Shopify example (computed from the definition)', () => {
    const c = config({ scheme: 'shopify' });
    const headers = { 'X-Shopify-Hmac-Sha256': 'plW8VGqq0nDMIEhDqaNNW99asdUCy7EIqLZVcQwtAZ0=' };
    assert.deepEqual(verifySignature(c, request(headers, '{"id":1}'), ['shop-secret'], 0), { ok: true });
  });

  it('Stripe: HMAC of "t.body" keyed with the whole whsec_ string', () => {
    // Computed independently of signWebhook: what stripe-node's generateTestHeaderString does.
    const c = config({ scheme: 'stripe' });
    const secret = 'whsec_test_secret';
    const body = '{"id":"evt_1","object":"event"}';
    const v1 = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    const headers = { 'Stripe-Signature': `t=1700000000,v1=${v1},v0=deadbeef` };
    assert.deepEqual(verifySignature(c, request(headers, body), [secret], 1700000100), { ok: true });
  });
});

const SCHEMES: Record<string, Record<string, unknown>> = {
  github: { scheme: 'github' },
  stripe: { scheme: 'stripe' },
  shopify: { scheme: 'shopify' },
  slack: { scheme: 'slack' },
  'standard-webhooks': { scheme: 'standard-webhooks' },
  hmac: {
    scheme: 'hmac',
    header: 'X-Signature',
    prefix: 'sha512=',
    algorithm: 'sha512',
    encoding: 'base64',
    signed: '{timestamp}.{id}.{body}',
    timestampHeader: 'X-Timestamp',
    idHeader: 'X-Event-Id',
  },
};
const TIMESTAMPED = new Set(['stripe', 'slack', 'standard-webhooks', 'hmac']);
const NOW = 1_800_000_000;
const OLD = 'whsec_b2xkIHNlY3JldCBvbGQgc2VjcmV0';
const NEW = 'whsec_bmV3IHNlY3JldCBuZXcgc2VjcmV0IG5ldw==';
const BODY = '{"type":"issue.updated","data":{"id":7,"title":"Ünïcode ✓"}}';

for (const [name, input] of Object.entries(SCHEMES)) {
  describe(`${name} scheme`, () => {
    const c = config(input);
    const sign = (body: string, secret = NEW, timestamp = NOW) =>
      signWebhook(c, secret, body, { timestamp, id: 'evt_1' });
    const verify = (headers: Record<string, string>, body: string | Buffer = BODY, now = NOW) =>
      verifySignature(c, request(headers, body), [NEW, OLD], now);

    it('accepts a correctly signed request, and one signed with the older rotated secret', () => {
      assert.deepEqual(verify(sign(BODY)), { ok: true });
      assert.deepEqual(verify(sign(BODY, OLD)), { ok: true });
    });

    it('rejects a changed body', () => {
      const v = verify(sign(BODY), BODY.replace('7', '8'));
      assert.deepEqual(v, { ok: false, reason: 'signature does not match' });
      // One byte appended.
      assert.equal(verify(sign(BODY), Buffer.concat([Buffer.from(BODY), Buffer.from(' ')])).ok, false);
    });

    it('rejects a wrong secret', () => {
      assert.equal(verify(sign(BODY, 'whsec_d3Jvbmcgc2VjcmV0')).ok, false);
    });

    it('rejects a missing signature header', () => {
      for (const key of Object.keys(sign(BODY))) {
        const headers = sign(BODY);
        delete headers[key];
        const v = verify(headers);
        assert.equal(v.ok, false, `without ${key}`);
        if (!v.ok) assert.match(v.reason, /missing|no v1/i);
      }
    });

    it('rejects a truncated or re-encoded signature', () => {
      const headers = sign(BODY);
      const sigHeader = Object.keys(headers).find((k) => /signature|hmac|x-signature/.test(k))!;
      const value = headers[sigHeader]!;
      for (const bad of [value.slice(0, -2), value.slice(0, -1), `${value}00`, value.toUpperCase()]) {
        if (bad === value) continue;
        assert.equal(verify({ ...headers, [sigHeader]: bad }).ok, false, `${sigHeader}: ${bad}`);
      }
    });

    if (TIMESTAMPED.has(name)) {
      it('rejects stale and future timestamps beyond the tolerance, accepts within it', () => {
        const stale = verify(sign(BODY, NEW, NOW - 301));
        assert.equal(stale.ok, false);
        if (!stale.ok) assert.match(stale.reason, /301 s old \(tolerance 300 s\)/);
        const future = verify(sign(BODY, NEW, NOW + 301));
        assert.equal(future.ok, false);
        if (!future.ok) assert.match(future.reason, /in the future/);
        assert.deepEqual(verify(sign(BODY, NEW, NOW - 299)), { ok: true });
      });

      it('rejects a timestamp that is not a number', () => {
        const headers = sign(BODY);
        const tsKey = Object.keys(headers).find((k) => /timestamp/.test(k));
        if (tsKey) assert.equal(verify({ ...headers, [tsKey]: 'yesterday' }).ok, false);
        else {
          const h = headers['stripe-signature']!.replace(/t=\d+/, 't=abc');
          assert.equal(verify({ 'stripe-signature': h }).ok, false);
        }
      });
    }
  });
}

describe('signature config', () => {
  it('needs at least one secret and a known scheme', () => {
    assert.equal(signatureSchema.safeParse({ scheme: 'github', secrets: [] }).success, false);
    assert.equal(signatureSchema.safeParse({ scheme: 'nope', secrets: ['a'] }).success, false);
    assert.equal(signatureSchema.safeParse({ scheme: 'hmac', secrets: ['a'] }).success, false);
  });
});
