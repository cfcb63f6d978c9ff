/**
 * Webhook signature schemes: verify (receiver) and sign (testing kit), each on the raw body, after each
 * provider's published definition. Pure: no I/O, the clock is an argument.
 *
 * Every compare is timing-safe on the decoded bytes; a scheme that signs a timestamp rejects one further
 * than the tolerance from now (stale or future), against replays. Several secrets may be active at
 * once (rotation): a request passes if any of them produced any of its signatures.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { withAliases } from '../spec/webhook-templates.js';
import type { SignatureConfig } from '../spec/webhooks-schema.js';
import { valueAtPath } from '../json/path.js';

export { signatureSchema, type SignatureConfig, type SignatureScheme } from '../spec/webhooks-schema.js';

export interface SignedRequest {
  /** Header lookup by lower-case name. */
  header: (name: string) => string | undefined;
  body: Buffer;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const hmac = (algorithm: string, key: Buffer | string, first: string | Buffer, body?: Buffer): Buffer => {
  const h = createHmac(algorithm, key).update(first);
  return (body ? h.update(body) : h).digest();
};

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes a presented signature; undefined when it is not valid in that encoding. */
function decode(text: string, encoding: 'hex' | 'base64'): Buffer | undefined {
  if (encoding === 'hex')
    return HEX.test(text) && text.length % 2 === 0 ? Buffer.from(text, 'hex') : undefined;
  return BASE64.test(text) && text.length % 4 === 0 ? Buffer.from(text, 'base64') : undefined;
}

/** Timing-safe; a different length (a truncated signature) is simply not equal. */
function same(expected: Buffer, presented: Buffer | undefined): boolean {
  return (
    presented !== undefined && presented.length === expected.length && timingSafeEqual(expected, presented)
  );
}

function checkTimestamp(
  text: string | undefined,
  name: string,
  toleranceSeconds: number,
  nowSeconds: number,
): Verdict {
  if (text === undefined || text === '') return { ok: false, reason: `missing ${name}` };
  if (!/^\d{1,12}$/.test(text)) return { ok: false, reason: `${name} is not a unix timestamp` };
  const skew = nowSeconds - Number(text);
  if (skew > toleranceSeconds)
    return { ok: false, reason: `${name} is ${skew} s old (tolerance ${toleranceSeconds} s)` };
  if (-skew > toleranceSeconds)
    return { ok: false, reason: `${name} is ${-skew} s in the future (tolerance ${toleranceSeconds} s)` };
  return { ok: true };
}

const MISMATCH: Verdict = { ok: false, reason: 'signature does not match' };
const OK: Verdict = { ok: true };

/** Decoded keys, remembered: decoding per delivery showed up in the receiver's profile. Few secrets exist. */
const decodedKeys = new Map<string, Buffer>();

function standardWebhooksKey(secret: string): Buffer {
  let key = decodedKeys.get(secret);
  if (!key) {
    key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
    if (decodedKeys.size >= 1000) decodedKeys.clear();
    decodedKeys.set(secret, key);
  }
  return key;
}

function hmacKey(secret: string, encoding: 'utf8' | 'base64' | 'hex'): Buffer {
  return Buffer.from(secret, encoding);
}

function fillSigned(template: string, values: { body: Buffer; timestamp?: string; id?: string }): Buffer {
  // Split around {body} so the raw bytes are signed as received (not re-encoded through a string).
  const parts = template.split('{body}');
  const fill = (s: string) =>
    s.replaceAll('{timestamp}', values.timestamp ?? '').replaceAll('{id}', values.id ?? '');
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(values.body);
    out.push(Buffer.from(fill(p)));
  });
  return Buffer.concat(out);
}

/**
 * Checks a request against a scheme with the resolved secrets. The reason names the header and the
 * problem, never a secret or an expected signature.
 */
export function verifySignature(
  config: SignatureConfig,
  req: SignedRequest,
  secrets: readonly string[],
  nowSeconds: number,
): Verdict {
  const { body } = req;
  // Providers send some headers under other names (svix-* for webhook-*, Shopify without x-).
  const header = withAliases(req.header);
  switch (config.scheme) {
    case 'github': {
      const presented = header('x-hub-signature-256');
      if (!presented) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
      if (!presented.startsWith('sha256='))
        return { ok: false, reason: 'X-Hub-Signature-256 must start with sha256=' };
      const sig = decode(presented.slice(7), 'hex');
      return secrets.some((s) => same(hmac('sha256', s, body), sig)) ? { ok: true } : MISMATCH;
    }
    case 'shopify': {
      const presented = header('x-shopify-hmac-sha256');
      if (!presented) return { ok: false, reason: 'missing X-Shopify-Hmac-Sha256 header' };
      const sig = decode(presented, 'base64');
      return secrets.some((s) => same(hmac('sha256', s, body), sig)) ? { ok: true } : MISMATCH;
    }
    case 'slack': {
      const ts = header('x-slack-request-timestamp');
      const time = checkTimestamp(ts, 'X-Slack-Request-Timestamp', config.toleranceSeconds, nowSeconds);
      if (!time.ok) return time;
      const presented = header('x-slack-signature');
      if (!presented) return { ok: false, reason: 'missing X-Slack-Signature header' };
      if (!presented.startsWith('v0=')) return { ok: false, reason: 'X-Slack-Signature must start with v0=' };
      const sig = decode(presented.slice(3), 'hex');
      return secrets.some((s) => same(hmac('sha256', s, `v0:${ts}:`, body), sig)) ? { ok: true } : MISMATCH;
    }
    case 'stripe': {
      const stripeHeader = header('stripe-signature');
      if (!stripeHeader) return { ok: false, reason: 'missing Stripe-Signature header' };
      let t: string | undefined;
      const v1: string[] = [];
      for (const item of stripeHeader.split(',')) {
        const eq = item.indexOf('=');
        const k = item.slice(0, eq).trim();
        const v = item.slice(eq + 1).trim();
        if (k === 't') t = v;
        else if (k === 'v1') v1.push(v);
      }
      const time = checkTimestamp(t, 'Stripe-Signature t=', config.toleranceSeconds, nowSeconds);
      if (!time.ok) return time;
      if (v1.length === 0) return { ok: false, reason: 'Stripe-Signature has no v1= signature' };
      const sigs = v1.map((v) => decode(v, 'hex'));
      return secrets.some((s) => {
        const expected = hmac('sha256', s, `${t}.`, body);
        return sigs.some((sig) => same(expected, sig));
      })
        ? { ok: true }
        : MISMATCH;
    }
    case 'client-state':
      return verifyClientState(config, body, secrets);
    case 'standard-webhooks': {
      const id = header('webhook-id');
      const ts = header('webhook-timestamp');
      const signatures = header('webhook-signature');
      if (!id) return { ok: false, reason: 'missing webhook-id header' };
      const time = checkTimestamp(ts, 'webhook-timestamp', config.toleranceSeconds, nowSeconds);
      if (!time.ok) return time;
      if (!signatures) return { ok: false, reason: 'missing webhook-signature header' };
      // Space-separated "version,signature" pairs; only v1 (HMAC-SHA256) is verified here.
      const sigs: (Buffer | undefined)[] = [];
      for (const p of signatures.split(' ')) if (p.startsWith('v1,')) sigs.push(decode(p.slice(3), 'base64'));
      if (sigs.length === 0) return { ok: false, reason: 'webhook-signature has no v1 signature' };
      const signedPrefix = `${id}.${ts}.`;
      for (const s of secrets) {
        const expected = hmac('sha256', standardWebhooksKey(s), signedPrefix, body);
        for (const sig of sigs) if (same(expected, sig)) return OK;
      }
      return MISMATCH;
    }
    case 'hmac': {
      const presented = header(config.header.toLowerCase());
      if (!presented) return { ok: false, reason: `missing ${config.header} header` };
      if (!presented.startsWith(config.prefix))
        return { ok: false, reason: `${config.header} must start with "${config.prefix}"` };
      let timestamp: string | undefined;
      if (config.timestampHeader) {
        timestamp = header(config.timestampHeader.toLowerCase());
        const time = checkTimestamp(timestamp, config.timestampHeader, config.toleranceSeconds, nowSeconds);
        if (!time.ok) return time;
      }
      let id: string | undefined;
      if (config.idHeader) {
        id = header(config.idHeader.toLowerCase());
        if (!id) return { ok: false, reason: `missing ${config.idHeader} header` };
      }
      const signed = fillSigned(config.signed, {
        body,
        ...(timestamp ? { timestamp } : {}),
        ...(id ? { id } : {}),
      });
      const sig = decode(presented.slice(config.prefix.length), config.encoding);
      return secrets.some((s) => same(hmac(config.algorithm, hmacKey(s, config.secretEncoding), signed), sig))
        ? { ok: true }
        : MISMATCH;
    }
  }
}

export interface SignOptions {
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  /** Message id for schemes that sign one (Standard Webhooks, hmac with idHeader). */
  id?: string;
}

/** The headers a provider would send with this body; for tests and the demo. */
export function signWebhook(
  config: SignatureConfig,
  secret: string,
  body: string | Buffer,
  options: SignOptions = {},
): Record<string, string> {
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const ts = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const id = options.id ?? `msg_${ts}_${raw.length}`;
  switch (config.scheme) {
    case 'github':
      return { 'x-hub-signature-256': `sha256=${hmac('sha256', secret, raw).toString('hex')}` };
    case 'shopify':
      return { 'x-shopify-hmac-sha256': hmac('sha256', secret, raw).toString('base64') };
    case 'slack':
      return {
        'x-slack-request-timestamp': ts,
        'x-slack-signature': `v0=${hmac('sha256', secret, `v0:${ts}:`, raw).toString('hex')}`,
      };
    case 'stripe':
      return { 'stripe-signature': `t=${ts},v1=${hmac('sha256', secret, `${ts}.`, raw).toString('hex')}` };
    case 'client-state':
      return {}; // The secret travels in the body (each item's clientState).
    case 'standard-webhooks':
      return {
        'webhook-id': id,
        'webhook-timestamp': ts,
        'webhook-signature': `v1,${hmac('sha256', standardWebhooksKey(secret), `${id}.${ts}.`, raw).toString('base64')}`,
      };
    case 'hmac': {
      const headers: Record<string, string> = {};
      if (config.timestampHeader) headers[config.timestampHeader.toLowerCase()] = ts;
      if (config.idHeader) headers[config.idHeader.toLowerCase()] = id;
      const signed = fillSigned(config.signed, { body: raw, timestamp: ts, id });
      headers[config.header.toLowerCase()] =
        config.prefix +
        hmac(config.algorithm, hmacKey(secret, config.secretEncoding), signed).toString(config.encoding);
      return headers;
    }
  }
}

type ClientStateConfig = Extract<SignatureConfig, { scheme: 'client-state' }>;

/** The notification items of a client-state body, or why there are none. */
function clientStateItems(config: ClientStateConfig, body: Buffer): unknown[] | { reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { reason: 'the body is not JSON, so it carries no client state' };
  }
  const items = valueAtPath(parsed, config.items);
  if (!Array.isArray(items) || items.length === 0)
    return { reason: `no notifications at ${config.items} to check the client state of` };
  return items as unknown[];
}

/** Whether one notification carries a client state equal to one of the secrets (constant time each). */
export function clientStateMatches(
  config: ClientStateConfig,
  item: unknown,
  secrets: readonly string[],
): boolean {
  const presented: unknown = (item as Record<string, unknown> | null)?.[config.field];
  if (typeof presented !== 'string') return false;
  const p = Buffer.from(presented);
  return secrets.some((s) => same(Buffer.from(s), p));
}

/** Every notification item must carry a client state equal to one of the secrets. */
function verifyClientState(config: ClientStateConfig, body: Buffer, secrets: readonly string[]): Verdict {
  const items = clientStateItems(config, body);
  if (!Array.isArray(items)) return { ok: false, reason: items.reason };
  for (const item of items) {
    if (typeof (item as Record<string, unknown> | null)?.[config.field] !== 'string')
      return { ok: false, reason: `a notification at ${config.items} has no ${config.field}` };
    if (!clientStateMatches(config, item, secrets)) return MISMATCH;
  }
  return { ok: true };
}

/**
 * For a batch whose items are events of their own (`webhooks.batch`): passes when at least one item
 * carries a matching client state. The receiver then keeps only the items that match.
 */
export function verifySomeClientState(
  config: ClientStateConfig,
  body: Buffer,
  secrets: readonly string[],
): Verdict {
  const items = clientStateItems(config, body);
  if (!Array.isArray(items)) return { ok: false, reason: items.reason };
  return items.some((item) => clientStateMatches(config, item, secrets)) ? { ok: true } : MISMATCH;
}
