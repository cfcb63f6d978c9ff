/**
 * Our signature schemes against the providers' own libraries: a request they sign verifies with ours,
 * and one we sign (as the test kit and the demo do) verifies with theirs. A changed body fails both ways.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { signatureSchema, signWebhook, verifySignature } from '../../src/webhooks/signatures.js';

const body = JSON.stringify({ id: 'evt_1', type: 'issue.updated', data: { id: 7, title: 'ünïcode ✓' } });
const changed = body.replace('7', '8');
const now = () => Math.floor(Date.now() / 1000);
const config = (scheme: string) => signatureSchema.parse({ scheme, secrets: ['s'] });
/** Our verdict on a body with the headers a library produced. */
const ours = (scheme: string, headers: Record<string, string>, payload: string, secret: string) => {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return verifySignature(
    config(scheme),
    { header: (n) => lower[n], body: Buffer.from(payload) },
    [secret],
    now(),
  );
};

describe('signatures cross-checked with the providers’ libraries', () => {
  it('Stripe (stripe): its test header verifies with ours; our header passes its constructEvent', () => {
    const secret = 'whsec_test_c3RyaXBlIHNpZ25pbmcgc2VjcmV0';
    const stripe = new Stripe('sk_test_not_used_for_requests');
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: now() });
    assert.deepEqual(ours('stripe', { 'stripe-signature': header }, body, secret), { ok: true });
    assert.equal(ours('stripe', { 'stripe-signature': header }, changed, secret).ok, false);

    const signed = signWebhook(config('stripe'), secret, body)['stripe-signature']!;
    const event = stripe.webhooks.constructEvent(body, signed, secret, 300);
    assert.equal(event.id, 'evt_1');
    assert.throws(() => stripe.webhooks.constructEvent(changed, signed, secret, 300), /signature/i);
  });

  it('GitHub (@octokit/webhooks-methods): its signature verifies with ours; ours passes its verify', async () => {
    const secret = 'github webhook secret';
    const signature = await octokitSign(secret, body);
    assert.deepEqual(ours('github', { 'x-hub-signature-256': signature }, body, secret), { ok: true });
    assert.equal(ours('github', { 'x-hub-signature-256': signature }, changed, secret).ok, false);

    const signed = signWebhook(config('github'), secret, body)['x-hub-signature-256']!;
    assert.equal(signed, signature);
    assert.equal(await octokitVerify(secret, body, signed), true);
    assert.equal(await octokitVerify(secret, changed, signed), false);
  });

  it('Standard Webhooks (standardwebhooks): its signature verifies with ours; ours passes its verify', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const wh = new Webhook(secret);
    const ts = new Date(now() * 1000);
    const headers = {
      'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      'webhook-timestamp': String(now()),
      'webhook-signature': wh.sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', ts, body),
    };
    assert.deepEqual(ours('standard-webhooks', headers, body, secret), { ok: true });
    assert.equal(ours('standard-webhooks', headers, changed, secret).ok, false);

    const signed = signWebhook(config('standard-webhooks'), secret, body, {
      id: 'msg_ours',
      timestamp: now(),
    });
    assert.deepEqual(wh.verify(body, signed), JSON.parse(body));
    assert.throws(() => wh.verify(changed, signed), /signature/i);
  });
});
