/**
 * Handshakes: requests a provider sends to check an endpoint rather than to deliver an event (Slack
 * url_verification, Microsoft Graph validationToken, Zoom endpoint.url_validation, GitHub ping). Pure:
 * the receiver calls these at the right moment (query tokens before anything else, the rest after the
 * signature has been verified and the body parsed) and sends the answer; nothing is stored.
 */
import { createHmac } from 'node:crypto';
import { scalarText, valueAtPath } from '../json/path.js';
import { withAliases } from '../spec/webhook-templates.js';
import type { Handshake, HandshakeMatch, WebhooksConfig } from '../spec/webhooks-schema.js';

export interface HandshakeAnswer {
  status: number;
  contentType: 'application/json' | 'text/plain; charset=utf-8';
  body: string;
}

/** A handshake request that cannot be answered (400): the reason says what is missing. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

/** Validation tokens are opaque, but never huge nor carrying control characters (they are echoed). */
// eslint-disable-next-line no-control-regex -- control characters are what must not be echoed
const UNSAFE_TOKEN = /[\u0000-\u001f\u007f]/;
const MAX_TOKEN = 2048;

function checkedToken(what: string, token: string): string {
  if (token.length > MAX_TOKEN) throw new HandshakeError(`${what} is longer than ${MAX_TOKEN} characters`);
  if (UNSAFE_TOKEN.test(token)) throw new HandshakeError(`${what} contains control characters`);
  return token;
}

/**
 * The answer to a query-token handshake (Microsoft Graph: POST …?validationToken=…, not signed, no
 * body): 200 text/plain with the decoded token. Undefined when the request carries no such parameter.
 */
export function queryTokenAnswer(
  webhooks: WebhooksConfig,
  query: URLSearchParams | undefined,
): HandshakeAnswer | undefined {
  if (!query) return undefined;
  for (const h of webhooks.handshakes) {
    if (h.answer !== 'query-token') continue;
    const token = query.get(h.query);
    if (token === null) continue;
    if (token === '') throw new HandshakeError(`query parameter ${h.query} is empty`);
    return {
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: checkedToken(`query parameter ${h.query}`, token),
    };
  }
  return undefined;
}

function matches(
  when: HandshakeMatch,
  header: (name: string) => string | undefined,
  body: Record<string, unknown>,
): boolean {
  const v = 'header' in when ? header(when.header) : valueAtPath(body, when.path);
  return v !== undefined && v !== null && typeof v !== 'object' && scalarText(v) === when.equals;
}

function bodyToken(body: Record<string, unknown>, path: string, what: string): string {
  const v = valueAtPath(body, path);
  if (typeof v !== 'string' || v === '') throw new HandshakeError(`no ${what} at body path "${path}"`);
  return checkedToken(`${what} at body path "${path}"`, v);
}

const json = (value: unknown): HandshakeAnswer => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(value),
});

/**
 * The answer to a signed handshake found in an authentic, parsed request; undefined when the request
 * is an event. `secrets` are the webhook secrets that verified it: an hmac-token is keyed with the
 * first (the provider signs the token with the same secret it signs requests with).
 */
export function bodyHandshakeAnswer(
  webhooks: WebhooksConfig,
  rawHeader: (name: string) => string | undefined,
  body: Record<string, unknown>,
  secrets: readonly string[],
): HandshakeAnswer | undefined {
  if (webhooks.handshakes.length === 0) return undefined;
  const header = withAliases(rawHeader);
  const h = webhooks.handshakes.find(
    (c): c is Exclude<Handshake, { answer: 'query-token' }> =>
      c.answer !== 'query-token' && matches(c.when, header, body),
  );
  if (!h) return undefined;
  switch (h.answer) {
    case 'ack':
      return json({ status: 'acknowledged' });
    case 'challenge': {
      const challenge = bodyToken(body, h.challenge, 'challenge');
      return h.respond === 'text'
        ? { status: 200, contentType: 'text/plain; charset=utf-8', body: challenge }
        : json({ [h.field]: challenge });
    }
    case 'hmac-token': {
      const token = bodyToken(body, h.token, 'plain token');
      const secret = secrets[0];
      if (secret === undefined) throw new HandshakeError('no webhook secret to answer the handshake with');
      const digest = createHmac(h.algorithm, secret).update(token).digest(h.encoding);
      return json({ [h.tokenField]: token, [h.hmacField]: digest });
    }
  }
}
