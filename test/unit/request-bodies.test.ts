/**
 * Request bodies beyond a JSON POST: a GET that carries a body (sent over node:http, as Python's requests
 * does) and HTML form bodies, against a real local server; and the spec checks of `bodyFormat`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { ProviderError } from '../../src/http/errors.js';
import { applyAuth } from '../../src/http/auth/apply.js';
import { formBody } from '../../src/http/request-template.js';
import { HttpTransport } from '../../src/http/transport.js';
import { createUrlPolicy } from '../../src/http/url-policy.js';
import { integrationSpecSchema } from '../../src/spec/schema.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('HttpTransport: a GET with a body, and form bodies', () => {
  let server: http.Server;
  let other: http.Server;
  let base = '';
  let otherBase = '';
  const seen: Seen[] = [];
  const seenByOther: Seen[] = [];
  const transport = new HttpTransport({ timeoutMs: 500, maxResponseBytes: 10_000, maxRedirects: 3 });

  const record = (into: Seen[], req: http.IncomingMessage, body: string) =>
    into.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });

  before(async () => {
    other = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        record(seenByOther, req, body);
        res.end('{"at":"other"}');
      });
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        record(seen, req, body);
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const json = (status: number, value: unknown, headers: http.OutgoingHttpHeaders = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(value));
        };
        if (path === '/echo') return json(200, { method: req.method, body });
        if (path === '/gzip') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          return res.end(zlib.gzipSync(JSON.stringify({ zipped: body })));
        }
        if (path === '/deflate-raw') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' });
          return res.end(zlib.deflateRawSync(JSON.stringify({ raw: body })));
        }
        if (path === '/br') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
          return res.end(zlib.brotliCompressSync(JSON.stringify({ br: body })));
        }
        if (path === '/big') return json(200, { s: 'x'.repeat(20_000) });
        if (path === '/slow') return void setTimeout(() => json(200, {}), 1500);
        if (path === '/limited') return json(429, { error: 'slow down' }, { 'retry-after': '7' });
        if (path === '/moved') return json(302, {}, { location: '/echo' });
        if (path === '/kept') return json(307, {}, { location: '/echo' });
        if (path === '/away') return json(307, {}, { location: `${otherBase}/file` });
        return json(404, { message: 'no' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    transport.close();
    for (const s of [server, other]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('sends a GET with its JSON body, with the usual headers, and decodes the answer', async () => {
    const r = await transport.requestJson({
      url: `${base}/echo?x=1`,
      headers: { authorization: 'Bearer t' },
      body: { sort: [{ field: 'date_updated', direction: 'asc' }], page: 2 },
    });
    const sent = '{"sort":[{"field":"date_updated","direction":"asc"}],"page":2}';
    assert.deepEqual(r.body, { method: 'GET', body: sent });
    const s = seen.at(-1)!;
    assert.equal(s.url, '/echo?x=1');
    assert.equal(s.headers['content-type'], 'application/json');
    assert.equal(s.headers['content-length'], String(sent.length));
    assert.equal(s.headers.authorization, 'Bearer t');
    assert.equal(s.headers.accept, 'application/json');
    assert.equal(s.headers['accept-encoding'], 'gzip, deflate, br');
    assert.match(String(s.headers['x-request-id']), /^[0-9a-f]{12}$/);
    assert.equal(r.header('content-type'), 'application/json');
  });

  it('sends a form body (POST and GET) with its content type', async () => {
    const fields = { cursor: 'a b&c', page_size: 100, flag: true };
    for (const method of ['POST', 'GET']) {
      const r = await transport.requestJson({ url: `${base}/echo`, method, body: fields, form: true });
      assert.deepEqual(r.body, { method, body: 'cursor=a+b%26c&page_size=100&flag=true' });
      assert.equal(seen.at(-1)!.headers['content-type'], 'application/x-www-form-urlencoded');
    }
  });

  it('undoes gzip, raw deflate and br on the GET-with-body path', async () => {
    const body = { q: 1 };
    assert.deepEqual((await transport.requestJson({ url: `${base}/gzip`, body })).body, {
      zipped: '{"q":1}',
    });
    assert.deepEqual((await transport.requestJson({ url: `${base}/deflate-raw`, body })).body, {
      raw: '{"q":1}',
    });
    assert.deepEqual((await transport.requestJson({ url: `${base}/br`, body })).body, { br: '{"q":1}' });
  });

  it('keeps the size limit, the timeout, cancellation and typed errors', async () => {
    const body = { q: 1 };
    await assert.rejects(transport.requestJson({ url: `${base}/big`, body }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'decode');
      assert.match(e.message, /larger than 10000 bytes/);
      return true;
    });
    await assert.rejects(transport.requestJson({ url: `${base}/slow`, body }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'timeout');
      return true;
    });
    const controller = new AbortController();
    const pending = transport.requestJson({ url: `${base}/slow`, body, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, /request cancelled/);
    await assert.rejects(transport.requestJson({ url: `${base}/limited`, body }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'rate-limited');
      assert.equal(e.details.retryAfterMs, 7000);
      assert.equal(e.context.method, 'GET');
      return true;
    });
    await assert.rejects(
      transport.requestJson({ url: 'http://127.0.0.1:1/none', body }),
      (e: unknown) => e instanceof ProviderError && e.kind === 'network',
    );
  });

  it('drops the body on a 302 and keeps it on a 307, as Python requests does', async () => {
    const policy = createUrlPolicy(base);
    const body = { page: 3 };
    const moved = await transport.requestJson({ url: `${base}/moved`, body, urlPolicy: policy });
    assert.deepEqual(moved.body, { method: 'GET', body: '' });
    assert.equal(seen.at(-1)!.headers['content-type'], undefined);
    const kept = await transport.requestJson({ url: `${base}/kept`, body, urlPolicy: policy });
    assert.deepEqual(kept.body, { method: 'GET', body: '{"page":3}' });
  });

  it('never follows a GET-with-body redirect off the declared origin, nor carries credentials away', async () => {
    const body = { page: 3 };
    await assert.rejects(
      transport.requestJson({ url: `${base}/away`, body, urlPolicy: createUrlPolicy(base) }),
      (e: unknown) => e instanceof ProviderError && e.kind === 'untrusted-url',
    );
    assert.equal(seenByOther.length, 0);
    const r = await transport.requestJson({
      url: `${base}/away`,
      body,
      headers: { authorization: 'Bearer SECRET' },
      credentialHeaders: ['authorization'],
      urlPolicy: createUrlPolicy(base, [{ origin: otherBase, credentials: false }]),
    });
    assert.deepEqual(r.body, { at: 'other' });
    assert.equal(seenByOther.at(-1)!.headers.authorization, undefined);
    assert.equal(seenByOther.at(-1)!.body, '{"page":3}');
  });

  it('leaves credential form fields out when a redirect leads to an origin without credentials', async () => {
    const r = await transport.requestJson({
      url: `${base}/away`,
      method: 'POST',
      body: { apiKey: 'SECRET', page: 2 },
      form: true,
      credentialFields: ['apiKey'],
      urlPolicy: createUrlPolicy(base, [{ origin: otherBase, credentials: false }]),
    });
    assert.deepEqual(r.body, { at: 'other' });
    assert.equal(seen.at(-1)!.body, 'apiKey=SECRET&page=2', 'the provider itself got the key');
    assert.equal(seenByOther.at(-1)!.body, 'page=2', 'the other origin did not');
    await transport.requestJson({
      url: `${base}/away`,
      body: { apiKey: 'SECRET' },
      form: true,
      credentialFields: ['apiKey'],
      urlPolicy: createUrlPolicy(base, [{ origin: otherBase, credentials: false }]),
    });
    assert.equal(seenByOther.at(-1)!.body, '');
    assert.equal(seenByOther.at(-1)!.headers['content-type'], undefined);
  });
});

describe('an API key in a form body', () => {
  it('is a form field of the applied auth, never a header or query parameter', () => {
    const applied = applyAuth(
      { type: 'api-key', in: 'form', name: 'apiKey', value: 'key' },
      { secrets: { key: 'K1' }, config: {}, env: {}, where: 'test' },
    );
    assert.deepEqual(applied, { headers: {}, query: {}, secretParams: [], form: { apiKey: 'K1' } });
  });
});

describe('formBody', () => {
  it('encodes text as it is and other values as JSON, in the order written', () => {
    assert.equal(formBody({ b: 'x y', a: 2, c: false }), 'b=x+y&a=2&c=false');
  });
});

describe('spec: request.bodyFormat', () => {
  const spec = (request: Record<string, unknown>) => ({
    id: 'forms',
    baseUrl: 'https://api.example.com',
    resources: { items: { request: { path: '/items', ...request }, recordsPath: 'items', primaryKey: 'id' } },
  });
  const problems = (request: Record<string, unknown>) => {
    const r = integrationSpecSchema.safeParse(spec(request));
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts a form of scalar fields on a GET or a POST, and a JSON body on a GET', () => {
    assert.deepEqual(problems({ bodyFormat: 'form', body: { page_size: 100, q: 'x' } }), []);
    assert.deepEqual(problems({ bodyFormat: 'form', method: 'POST', body: { a: 'x', b: true } }), []);
    assert.deepEqual(problems({ body: { sort: [{ field: 'x' }] } }), []);
  });

  it('names the path of a form field that is not a scalar, and a form without a body', () => {
    assert.deepEqual(problems({ bodyFormat: 'form', body: { a: 'x', nested: { b: 1 } } }), [
      'resources.items.request.body.nested: a form field is text, a number or a boolean',
    ]);
    assert.deepEqual(problems({ bodyFormat: 'form' }), [
      'resources.items.request.bodyFormat: a form needs a body: its fields',
    ]);
    assert.deepEqual(problems({ bodyFormat: 'form', body: ['x'] }), [
      'resources.items.request.body: a form body is an object of fields',
    ]);
    assert.deepEqual(problems({ bodyFormat: 'xml', body: {} }).length, 1);
  });

  it('with the API key in the form, a resource body must be a form', () => {
    const withKey = (request: Record<string, unknown>) => {
      const r = integrationSpecSchema.safeParse({
        ...spec(request),
        secrets: { key: 'key' },
        auth: { type: 'api-key', in: 'form', name: 'apiKey', value: 'key' },
      });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.deepEqual(withKey({ method: 'POST' }), []);
    assert.deepEqual(withKey({ method: 'POST', bodyFormat: 'form', body: { a: 'x' } }), []);
    assert.deepEqual(withKey({ method: 'POST', body: { a: 'x' } }), [
      'resources.items.request.bodyFormat: the API key is a form field (auth.in: form): this body must be a form too (bodyFormat: form)',
    ]);
  });
});
