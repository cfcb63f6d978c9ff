/**
 * Testing kit: sending webhooks the way a provider would — signed with any supported scheme.
 */
import {
  signatureSchema,
  signWebhook,
  type SignatureConfig,
  type SignOptions,
} from '../webhooks/signatures.js';

export { signWebhook, verifySignature, type SignatureConfig } from '../webhooks/signatures.js';

export interface WebhookDelivery {
  /** Unix seconds to sign with (default now): move it to test tolerance. */
  timestamp?: number;
  /** Message id for schemes that sign one. */
  id?: string;
  /** Extra or overriding headers (e.g. a broken signature). */
  headers?: Record<string, string>;
  contentType?: string;
}

export interface WebhookAnswer {
  status: number;
  body: unknown;
}

/**
 * POSTs `payload` (an object is sent as JSON, a string as is) signed with `secret` under `scheme`
 * (a spec's `webhooks.signature`, or just `{ scheme: 'github' }`).
 */
export async function postWebhook(
  url: string,
  scheme: SignatureConfig | { scheme: SignatureConfig['scheme']; [k: string]: unknown },
  secret: string,
  payload: unknown,
  delivery: WebhookDelivery = {},
): Promise<WebhookAnswer> {
  const config =
    'secrets' in scheme ? (scheme as SignatureConfig) : signatureSchema.parse({ secrets: ['x'], ...scheme });
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const options: SignOptions = {
    ...(delivery.timestamp !== undefined ? { timestamp: delivery.timestamp } : {}),
    ...(delivery.id !== undefined ? { id: delivery.id } : {}),
  };
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': delivery.contentType ?? 'application/json',
      ...signWebhook(config, secret, body, options),
      ...delivery.headers,
    },
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed };
}
