/**
 * Event values from templates over headers, query and body; header aliases; handshake answers; and
 * `validate` naming template and handshake mistakes by spec path.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';
import { headerAliases, parseValueTemplate } from '../../src/spec/webhook-templates.js';
import { webhooksSchema } from '../../src/spec/webhooks-schema.js';
import { bodyHandshakeAnswer, HandshakeError, queryTokenAnswer } from '../../src/webhooks/handshakes.js';
import { readValue } from '../../src/webhooks/request-values.js';

const request = (headers: Record<string, string>, body: unknown, query: Record<string, string> = {}) => ({
  header: (n: string) => headers[n],
  body,
  query: (n: string) => query[n],
});

const hooks = (extra: Record<string, unknown>) =>
  webhooksSchema.parse({
    signature: { scheme: 'github', secrets: ['s'] },
    eventId: { header: 'x-github-delivery' },
    eventType: { header: 'x-github-event' },
    events: {},
    ...extra,
  });

function problems(webhooks: Record<string, unknown>): string[] {
  try {
    parseSpec(
      {
        id: 'x',
        baseUrl: 'http://x',
        secrets: { s: 'secret' },
        resources: { a: { request: { path: '/a' }, primaryKey: 'id' } },
        webhooks: {
          signature: { scheme: 'github', secrets: ['s'] },
          eventId: { header: 'x-github-delivery' },
          eventType: { header: 'x-github-event' },
          events: {},
          ...webhooks,
        },
      },
      'spec',
    );
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.problems;
  }
  return [];
}

describe('value templates', () => {
  it('joins a header and a body field; an optional part drops with the text before it', () => {
    const t = '{header.x-github-event}.{body.action?}';
    assert.deepEqual(readValue(t, request({ 'x-github-event': 'issues' }, { action: 'opened' })), {
      ok: true,
      value: 'issues.opened',
    });
    assert.deepEqual(readValue(t, request({ 'x-github-event': 'push' }, { ref: 'main' })), {
      ok: true,
      value: 'push',
    });
    assert.deepEqual(readValue(t, request({}, { action: 'opened' })), {
      ok: false,
      missing: 'header x-github-event',
    });
  });

  it('reads numbers, query parameters and nested paths; objects count as missing', () => {
    assert.deepEqual(readValue('{body.a.b}-{query.v}', request({}, { a: { b: 7 } }, { v: 'x' })), {
      ok: true,
      value: '7-x',
    });
    assert.deepEqual(readValue('{body.a}', request({}, { a: { b: 7 } })), {
      ok: false,
      missing: 'body path "a"',
    });
  });

  it('the old { header } and { path } forms still work, with header aliases', () => {
    assert.deepEqual(readValue({ header: 'webhook-id' }, request({ 'svix-id': 'msg_1' }, {})), {
      ok: true,
      value: 'msg_1',
    });
    assert.deepEqual(readValue({ path: 'id' }, request({}, { id: 'e1' })), { ok: true, value: 'e1' });
  });

  it('aliases: webhook-*/svix-* and with or without x-', () => {
    assert.deepEqual(headerAliases('webhook-id'), ['webhook-id', 'svix-id', 'x-webhook-id', 'x-svix-id']);
    assert.deepEqual(headerAliases('X-Shopify-Hmac-Sha256'), [
      'x-shopify-hmac-sha256',
      'shopify-hmac-sha256',
    ]);
  });

  it('rejects bad syntax with a reason', () => {
    assert.throws(() => parseValueTemplate('{headr.x}'), /a placeholder is \{header.name\}/);
    assert.throws(() => parseValueTemplate('{body.}'), /give the path after "body."/);
    assert.throws(() => parseValueTemplate('plain'), /has no placeholder/);
    assert.throws(() => parseValueTemplate('{body.a?}'), /at least one placeholder must be required/);
    assert.throws(() => parseValueTemplate('{body.a}}'), /unbalanced brace/);
  });

  it('validate names the field of a bad template or handshake', () => {
    assert.deepEqual(problems({ eventType: '{headr.x-github-event}.{body.action}' }), [
      'webhooks.eventType: {headr.x-github-event}: a placeholder is {header.name}, {body.dot.path} or {query.name}, optionally ending in ?',
    ]);
    assert.deepEqual(problems({ eventId: 'delivery' }), [
      'webhooks.eventId: "delivery" has no placeholder: use {header.name}, {body.path} or {query.name}',
    ]);
    const [handshake] = problems({ handshakes: [{ answer: 'challenge', when: { path: 'type' } }] });
    assert.match(handshake ?? '', /^webhooks\.handshakes\[0\]/);
  });
});

describe('handshake answers', () => {
  it('challenge: echoed as JSON or text; a missing challenge is an error, not an event', () => {
    const w = hooks({
      handshakes: [
        { answer: 'challenge', when: { path: 'type', equals: 'url_verification' }, challenge: 'challenge' },
      ],
    });
    const body = { type: 'url_verification', challenge: 'c-1' };
    assert.deepEqual(
      bodyHandshakeAnswer(w, () => undefined, body, ['s']),
      {
        status: 200,
        contentType: 'application/json',
        body: '{"challenge":"c-1"}',
      },
    );
    assert.equal(
      bodyHandshakeAnswer(w, () => undefined, { type: 'event_callback' }, ['s']),
      undefined,
    );
    assert.throws(
      () => bodyHandshakeAnswer(w, () => undefined, { type: 'url_verification' }, ['s']),
      HandshakeError,
    );
  });

  it('hmac-token: the HMAC of the plain token keyed with the verifying secret', () => {
    const w = hooks({
      handshakes: [
        {
          answer: 'hmac-token',
          when: { path: 'event', equals: 'endpoint.url_validation' },
          token: 'payload.plainToken',
        },
      ],
    });
    const answer = bodyHandshakeAnswer(
      w,
      () => undefined,
      { event: 'endpoint.url_validation', payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' } },
      ['zoom-secret'],
    );
    assert.deepEqual(JSON.parse(answer!.body), {
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: createHmac('sha256', 'zoom-secret').update('qgg8vlvZRS6UYooatFL8Aw').digest('hex'),
    });
  });

  it('ack by header (with aliases); query-token only when the parameter is present', () => {
    const w = hooks({
      handshakes: [
        { answer: 'ack', when: { header: 'x-github-event', equals: 'ping' } },
        { answer: 'query-token', query: 'validationToken' },
      ],
    });
    assert.equal(
      bodyHandshakeAnswer(w, (n) => (n === 'github-event' ? 'ping' : undefined), {}, ['s'])?.body,
      '{"status":"acknowledged"}',
    );
    assert.equal(queryTokenAnswer(w, new URLSearchParams('a=1')), undefined);
    assert.equal(queryTokenAnswer(w, new URLSearchParams('validationToken=a%20b'))?.body, 'a b');
    assert.throws(() => queryTokenAnswer(w, new URLSearchParams('validationToken=')), /is empty/);
    assert.throws(
      () => queryTokenAnswer(w, new URLSearchParams(`validationToken=${'x'.repeat(3000)}`)),
      /longer than 2048/,
    );
  });
});
