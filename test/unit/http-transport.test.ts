import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { decoderSchema } from '../../src/http/decoders.js';
import { kindForStatus, ProviderError } from '../../src/http/errors.js';
import { HttpTransport, redactedPath } from '../../src/http/transport.js';

describe('kindForStatus', () => {
  it('classifies each status family', () => {
    assert.equal(kindForStatus(401), 'auth');
    assert.equal(kindForStatus(403), 'auth');
    assert.equal(kindForStatus(429), 'rate-limited');
    assert.equal(kindForStatus(404), 'client');
    assert.equal(kindForStatus(422), 'client');
    assert.equal(kindForStatus(408), 'timeout');
    assert.equal(kindForStatus(500), 'server');
    assert.equal(kindForStatus(503), 'server');
  });
});

describe('redactedPath', () => {
  it('hides secret query values and keeps the rest', () => {
    assert.equal(
      redactedPath('http://x/a/b?api_key=s3cr3t&page=2', ['api_key']),
      '/a/b?api_key=[redacted]&page=2',
    );
  });
});

// Both clients (node-client.ts) must give the same answers and the same errors.
for (const client of ['node-http', 'node-fetch'] as const)
  describe(`HttpTransport (${client}) against a local server`, () => {
    let server: http.Server;
    let base: string;
    let sockets = 0;
    const transport = new HttpTransport({ timeoutMs: 300, maxResponseBytes: 10_000, client });

    before(async () => {
      server = http.createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x').pathname;
        if (url.startsWith('/ok')) {
          const id = req.headers['x-request-id'];
          return res.end(JSON.stringify({ ok: true, auth: req.headers.authorization ?? null, id }));
        }
        if (url === '/gzip') {
          res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
          return res.end(gzipSync(JSON.stringify({ zipped: 'é'.repeat(3) })));
        }
        if (url === '/deflate' || url === '/raw-deflate') {
          // Deflate as servers send it: zlib-wrapped, or raw (old IIS), over several chunks.
          const text = JSON.stringify({ zipped: url, filler: 'x'.repeat(5000) });
          const body = url === '/deflate' ? deflateSync(text) : deflateRawSync(text);
          res.writeHead(200, { 'content-encoding': 'deflate', 'content-type': 'application/json' });
          res.write(body.subarray(0, 7));
          return void setTimeout(() => res.end(body.subarray(7)), 10);
        }
        if (url === '/links') {
          // Two Link headers (GitHub sends one, others several): read as one, joined as fetch joins them.
          res.setHeader('link', ['<http://x/?page=2>; rel="next"', '<http://x/?page=9>; rel="last"']);
          return res.end('[]');
        }
        if (url === '/cut') {
          // Promises 1,000 bytes, sends 10, then the connection drops.
          res.writeHead(200, { 'content-length': '1000', 'content-type': 'application/json' });
          res.write('{"data": [');
          return void setTimeout(() => res.socket?.destroy(), 20);
        }
        if (url === '/500') return (res.writeHead(500), res.end('{"error":"boom"}'));
        if (url === '/notjson') return res.end('<html>Bad gateway</html>');
        if (url === '/big') return res.end(JSON.stringify({ s: 'x'.repeat(20_000) }));
        if (url === '/slow') return void setTimeout(() => res.end('{}'), 1000);
        // Two records at once, a third after 1.5 s (more than the streamed test's 1 s timeout).
        if (url === '/lines-then-pause') {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          res.write('{"n":1}\n{"n":2}\n');
          return void setTimeout(() => res.end('{"n":3}\n'), 1500);
        }
        if (url === '/lines-then-stall') {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          return void res.write('{"n":1}\n');
        }
        res.writeHead(404);
        res.end('{"message":"Not Found"}');
      });
      server.on('connection', () => sockets++);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      transport.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('decodes JSON and reuses the connection (keep-alive)', async () => {
      const before = sockets;
      const a = await transport.requestJson({ url: `${base}/ok`, headers: { authorization: 'Bearer t' } });
      const b = await transport.requestJson({ url: `${base}/ok` });
      const ids = [a.body, b.body].map((x) => (x as { id: string }).id);
      assert.match(ids[0]!, /^[0-9a-f]{12}$/);
      assert.notEqual(ids[0], ids[1], 'each request has its own id');
      assert.deepEqual({ ...(a.body as object), id: 'x' }, { ok: true, auth: 'Bearer t', id: 'x' });
      assert.deepEqual({ ...(b.body as object), id: 'x' }, { ok: true, auth: null, id: 'x' });
      assert.equal(sockets - before, 1);
    });

    it('undoes gzip and both kinds of deflate, and joins a header sent twice', async () => {
      assert.deepEqual((await transport.requestJson({ url: `${base}/gzip` })).body, { zipped: 'ééé' });
      for (const path of ['/deflate', '/raw-deflate'])
        assert.deepEqual((await transport.requestJson({ url: `${base}${path}` })).body, {
          zipped: path,
          filler: 'x'.repeat(5000),
        });
      const links = await transport.requestJson({ url: `${base}/links` });
      assert.equal(links.header('link'), '<http://x/?page=2>; rel="next", <http://x/?page=9>; rel="last"');
      assert.equal(links.header('x-missing'), null);
    });

    async function failure(path: string, query = ''): Promise<ProviderError> {
      try {
        await transport.requestJson({
          url: `${base}${path}${query}`,
          context: { integration: 'gh', connection: 'c1', resource: 'issues' },
          secretParams: ['token'],
        });
      } catch (error) {
        assert.ok(error instanceof ProviderError, String(error));
        return error;
      }
      assert.fail('expected a failure');
    }

    it('turns a 5xx into a retryable server error with the provider body and where it happened', async () => {
      const e = await failure('/500', '?token=abc');
      assert.equal(e.kind, 'server');
      assert.equal(e.retryable, true);
      assert.equal(e.details.status, 500);
      assert.equal(e.details.body, '{"error":"boom"}');
      assert.match(e.message, /gh\/c1\/issues: GET \/500\?token=\[redacted\] \[request [0-9a-f]{12}\]/);
      assert.doesNotMatch(e.message, /abc/);
    });

    it('turns a 404 into a non-retryable client error', async () => {
      const e = await failure('/missing');
      assert.equal(e.kind, 'client');
      assert.equal(e.retryable, false);
      assert.equal(e.failureType, 'ClientError');
    });

    it('reports bad JSON with the first bytes only', async () => {
      const e = await failure('/notjson');
      assert.equal(e.kind, 'decode');
      assert.match(e.message, /starts with "<html>Bad gateway<\/html>"/);
    });

    it('refuses bodies over the size limit', async () => {
      const e = await failure('/big');
      assert.equal(e.kind, 'decode');
      assert.match(e.message, /larger than 10000 bytes/);
    });

    it('reports a body cut off by the provider as a retryable network error', async () => {
      const e = await failure('/cut');
      assert.equal(e.kind, 'network');
      assert.equal(e.retryable, true);
    });

    it('times out slow answers as a retryable timeout', async () => {
      const e = await failure('/slow');
      assert.equal(e.kind, 'timeout');
      assert.equal(e.retryable, true);
    });

    const jsonl = decoderSchema.parse({ format: 'jsonl' });
    const streaming = new HttpTransport({ timeoutMs: 1000, maxResponseBytes: 10_000, client });
    after(() => streaming.close());
    const streamed = (path: string) =>
      streaming.requestJson({ url: `${base}${path}`, stream: true, decoder: jsonl });

    it('times a streamed download out per record, not while the consumer is busy', async () => {
      const a = await streamed('/lines-then-pause');
      assert.deepEqual(await a.records!.next(), { done: false, value: { n: 1 } });
      // The consumer takes longer than the timeout between records: the download has not stalled.
      await new Promise((r) => setTimeout(r, 1200));
      assert.deepEqual(await a.records!.next(), { done: false, value: { n: 2 } });
      // The third record comes 1.5 s after the first: 300 ms after this call, within the 1 s timeout.
      assert.deepEqual(await a.records!.next(), { done: false, value: { n: 3 } });
      assert.equal((await a.records!.next()).done, true);
      const b = await streamed('/lines-then-stall');
      assert.deepEqual(await b.records!.next(), { done: false, value: { n: 1 } });
      await assert.rejects(b.records!.next(), (e: unknown) => {
        assert.ok(e instanceof ProviderError, String(e));
        assert.equal(e.kind, 'timeout');
        assert.match(e.message, /the download stalled: no record within 1000 ms \(after record 1\)/);
        return true;
      });
    });

    it('reports a refused connection as a retryable network error', async () => {
      try {
        await transport.requestJson({ url: 'http://127.0.0.1:1/x' });
        assert.fail('expected a failure');
      } catch (error) {
        assert.ok(error instanceof ProviderError);
        assert.equal(error.kind, 'network');
        assert.equal(error.retryable, true);
      }
    });
  });

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-24T10:00:00Z');
  it('reads delta seconds and HTTP dates, and ignores garbage', async () => {
    const { parseRetryAfter } = await import('../../src/http/rate-headers.js');
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Tue, 24 Nov 2026 09:59:00 GMT', now), 0, 'a date in the past means now');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-5', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });
});
