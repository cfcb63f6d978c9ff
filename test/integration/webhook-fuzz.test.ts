/**
 * Fuzzing the receiver with malformed requests: every answer is a 4xx (never a 5xx or a hang), and
 * nothing reaches the inbox. Seeded, so a failure can be replayed with FUZZ_SEED.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SecretBox } from '../../src/store/secret-box.js';
import { signWebhook } from '../../src/testing/webhooks.js';
import { countEvents } from '../../src/webhooks/inbox-queries.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { saveTrackerConnection, TEST_KEY } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { trackerSpec, trackerWebhooks, WEBHOOK_SECRET } from '../helpers/tracker-spec.js';

interface RawAnswer {
  status: number;
  body: string;
}

function raw(
  base: string,
  req: {
    method?: string;
    path: string;
    headers?: Record<string, string | string[]>;
    body?: Buffer | Buffer[];
  },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      `${base}${req.path}`,
      { method: req.method ?? 'POST', headers: req.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before the whole body is sent: status 0, for the caller to judge.
    r.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE'
        ? resolve({ status: 0, body: 'reset' })
        : reject(error),
    );
    r.setTimeout(10_000, () => r.destroy(new Error(`no answer to ${req.method ?? 'POST'} ${req.path}`)));
    const parts = Array.isArray(req.body) ? req.body : req.body ? [req.body] : [];
    for (const p of parts) r.write(p);
    r.end();
  });
}

/** mulberry32: small, seeded, good enough to pick cases. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('webhook receiver fuzz: malformed requests get 4xx and store nothing', { timeout: 120_000 }, () => {
  let env: TestEnv;
  let receiver: RunningReceiver;
  const conn = 'fuzz-conn';
  const spec = trackerSpec('http://127.0.0.1:9', undefined, trackerWebhooks());
  const scheme = spec.webhooks!.signature;
  const path = `/webhooks/tracker/${conn}`;

  before(async () => {
    env = await testEnv();
    await saveTrackerConnection(env.db, conn, { webhook_secret: WEBHOOK_SECRET });
    receiver = await startWebhookReceiver({
      db: env.db,
      specs: new Map([[spec.id, spec]]),
      secretBox: SecretBox.fromKey(TEST_KEY),
      env: {},
    });
  });
  after(async () => {
    await receiver?.close();
    await env?.close();
  });

  it('survives 600 generated malformed requests', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261124);
    const random = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const signed = (body: Buffer, extra: Record<string, string> = {}): Record<string, string> => ({
      'content-type': 'application/json',
      ...signWebhook(scheme, WEBHOOK_SECRET, body),
      ...extra,
    });
    const validEvent = () =>
      Buffer.from(
        JSON.stringify({
          id: `evt_${random()}`,
          type: 'issue.updated',
          sequence: 1,
          data: { id: 1, title: 't' },
        }),
      );

    const generators: Record<string, () => Parameters<typeof raw>[1]> = {
      'random bytes, unsigned': () => ({
        path,
        headers: { 'content-type': 'application/json' },
        body: bytes(1 + Math.floor(random() * 4000)),
      }),
      'random bytes, signed': () => {
        const body = bytes(1 + Math.floor(random() * 4000));
        return { path, headers: signed(body), body };
      },
      'truncated JSON, signed': () => {
        const full = validEvent();
        const body = full.subarray(0, Math.floor(random() * (full.length - 1)));
        return { path, headers: signed(body), body };
      },
      'invalid UTF-8 in JSON, signed': () => {
        const body = Buffer.concat([
          Buffer.from('{"id":"'),
          Buffer.from([0xc3, 0x28, 0xff]),
          Buffer.from('","type":"issue.updated"}'),
        ]);
        return { path, headers: signed(body), body };
      },
      'UTF-16 body, signed': () => {
        const body = Buffer.from(validEvent().toString(), 'utf16le');
        return { path, headers: signed(body), body };
      },
      'deeply nested JSON, signed': () => {
        const depth = 1000 + Math.floor(random() * 200_000);
        const body = Buffer.from('['.repeat(depth) + ']'.repeat(depth));
        return { path, headers: signed(body, {}), body };
      },
      'scalar JSON, signed': () => {
        const body = Buffer.from(pick(['1', '"text"', 'null', 'true', '[]', '[{"id":1}]']));
        return { path, headers: signed(body), body };
      },
      'event id or type not a scalar, signed': () => {
        const body = Buffer.from(
          JSON.stringify(
            pick([
              { id: { a: 1 }, type: 'x' },
              { id: 'a', type: ['x'] },
              { id: '', type: 'x' },
              { id: 'x'.repeat(600), type: 'x' },
            ]),
          ),
        );
        return { path, headers: signed(body), body };
      },
      'valid event, signature mangled': () => {
        const body = validEvent();
        const h = signed(body);
        const sig = h['webhook-signature']!;
        const i = 3 + Math.floor(random() * (sig.length - 3));
        const mangled = pick([
          sig.slice(0, i),
          sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1),
          'v1,',
          'v2,' + sig.slice(3),
          sig + '=',
        ]);
        return { path, headers: { ...h, 'webhook-signature': mangled }, body };
      },
      'valid event, a signed header missing': () => {
        const body = validEvent();
        const h: Record<string, string> = signed(body);
        delete h[pick(['webhook-id', 'webhook-timestamp', 'webhook-signature'])];
        return { path, headers: h, body };
      },
      'valid event, odd timestamp': () => {
        const body = validEvent();
        return {
          path,
          headers: signed(body, {
            'webhook-timestamp': pick(['', '-1', '1e10', '0x10', '99999999999999999999', ' 1', 'NaN']),
          }),
          body,
        };
      },
      'odd content types': () => {
        const body = validEvent();
        return {
          path,
          headers: signed(body, {
            'content-type': pick([
              '',
              'text/plain',
              'application/xml',
              'application/json; charset=utf-16',
              'application/json; charset=iso-8859-1',
              'multipart/form-data; boundary=x',
              'application/x-www-form-urlencoded',
              'json',
            ]),
          }),
          body,
        };
      },
      'content encodings': () => {
        const body = validEvent();
        return {
          path,
          headers: signed(body, { 'content-encoding': pick(['gzip', 'br', 'deflate', 'x-custom']) }),
          body,
        };
      },
      'huge body with content-length': () => ({
        path,
        headers: { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) },
        body: Buffer.alloc(2 * 1024 * 1024, 0x20),
      }),
      'huge body, chunked': () => ({
        path,
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        body: Array.from({ length: 20 }, () => Buffer.alloc(128 * 1024, 0x61)),
      }),
      'odd paths and methods': () => {
        const body = validEvent();
        return {
          method: pick(['POST', 'GET', 'PUT', 'DELETE', 'PATCH']),
          path: pick([
            '/',
            '/webhooks',
            '/webhooks/tracker',
            '/webhooks/tracker/',
            `/webhooks/tracker/${conn}/extra`,
            '/webhooks/tracker/%ZZ',
            '/webhooks/tracker/..%2f..%2fetc',
            `/webhooks/tracker/${'a'.repeat(5000)}`,
            '/webhooks/other/x',
            `${path}?x=1`.replace('fuzz-conn', 'unknown'),
          ]),
          // With its length: Node's client sends a GET or DELETE body unframed, which is no HTTP request at all.
          headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
          body,
        };
      },
    };
    // What each kind of request must get; a reset (0) only where the body is over the limit.
    const expected: Record<keyof typeof generators, number[]> = {
      'random bytes, unsigned': [401],
      'random bytes, signed': [400],
      'truncated JSON, signed': [400],
      'invalid UTF-8 in JSON, signed': [400],
      'UTF-16 body, signed': [400],
      'deeply nested JSON, signed': [400],
      'scalar JSON, signed': [400],
      'event id or type not a scalar, signed': [400],
      'valid event, signature mangled': [401],
      'valid event, a signed header missing': [401],
      'valid event, odd timestamp': [401],
      'odd content types': [415],
      'content encodings': [415],
      'huge body with content-length': [413, 0],
      'huge body, chunked': [413, 0],
      'odd paths and methods': [404, 405],
    };
    const names = Object.keys(generators);
    assert.deepEqual(
      [...names].sort(),
      Object.keys(expected).sort(),
      'every generator has its expected answers',
    );
    const before = await countEvents(env.db);
    const tally = new Map<string, Map<number, number>>();
    for (let i = 0; i < 600; i++) {
      const name = names[i % names.length]!;
      const request = generators[name]!();
      const answer = await raw(receiver.url, request);
      const byStatus = tally.get(name) ?? new Map<number, number>();
      byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
      tally.set(name, byStatus);
      assert.ok(
        expected[name]!.includes(answer.status),
        `seed ${seed}, case ${i} (${name}): ${answer.status} ${answer.body.slice(0, 200)}, expected ${expected[name]!.join(' or ')}`,
      );
    }
    assert.deepEqual(await countEvents(env.db), before, 'nothing stored');
    // Still healthy afterwards, and a good event still gets in.
    const body = validEvent();
    const ok = await raw(receiver.url, { path, headers: signed(body), body });
    assert.equal(ok.status, 202, ok.body);
  });
});
