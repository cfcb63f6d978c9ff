/**
 * Where requests may go: the URL policy (origins, baseUrl path, user info), path placeholders as exactly
 * one segment, and the transport following redirects by hand under the policy (two real local servers).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BaseUrlValueError, fillBaseUrl } from '../../src/http/base-url.js';
import { ProviderError } from '../../src/http/errors.js';
import { fillPathTemplate, pathSegment, PathValueError } from '../../src/http/path-template.js';
import { HttpTransport } from '../../src/http/transport.js';
import { createUrlPolicy, UntrustedUrlError } from '../../src/http/url-policy.js';
import { firstState, nextPage } from '../../src/pagination/paginate.js';
import { paginationSchema } from '../../src/pagination/schema.js';

describe('URL policy', () => {
  const policy = createUrlPolicy('https://api.example.com/v2', [
    { origin: 'https://cdn.example.com', credentials: false },
    { origin: 'https://upload.example.com', credentials: true },
  ]);
  const check = (u: string) => policy.check(new URL(u), 'a test');

  it('gives credentials under the baseUrl, none to an allowed CDN, and names what it refuses', () => {
    assert.equal(check('https://api.example.com/v2/items?page=2'), 'credentials');
    assert.equal(check('https://api.example.com/v2'), 'credentials');
    assert.equal(check('https://cdn.example.com/file.csv'), 'anonymous');
    assert.equal(check('https://upload.example.com/x'), 'credentials');
    for (const [url, origin] of [
      ['https://evil.example.net/v2/items', 'https://evil.example.net'],
      ['http://api.example.com/v2/items', 'http://api.example.com'],
      ['https://api.example.com:8443/v2/items', 'https://api.example.com:8443'],
      ['https://api.example.com/v2x/items', 'https://api.example.com'],
      ['https://api.example.com/v2/../admin', 'https://api.example.com'],
      ['https://api.example.com/v2/%2e%2e/admin', 'https://api.example.com'],
      ['https://user:pw@api.example.com/v2/items', 'https://api.example.com'],
    ] as const) {
      assert.throws(
        () => check(url),
        (e: unknown) => e instanceof UntrustedUrlError && e.origin === origin && e.message.includes(origin),
        url,
      );
    }
  });

  it('a root baseUrl allows any path of its origin', () => {
    const root = createUrlPolicy('https://api.github.com');
    assert.equal(
      root.check(new URL('https://api.github.com/repositories/1/issues?page=2'), 'x'),
      'credentials',
    );
  });
});

describe('path placeholders', () => {
  it('encode a value into exactly one segment', () => {
    assert.equal(pathSegment('a/b?c#d %', 'x'), 'a%2Fb%3Fc%23d%20%25');
    assert.equal(pathSegment('group/project', 'x'), 'group%2Fproject');
    assert.equal(pathSegment('v1.2', 'x'), 'v1.2');
    assert.equal(pathSegment('...', 'x'), '...');
  });

  it('refuse empty values and anything a server could read as a dot segment', () => {
    for (const bad of [
      '',
      '.',
      '..',
      '%2e',
      '%2E%2e',
      '.%2e',
      '%252e%252e',
      '../x',
      'x/..',
      '..\\x',
      '%2e%2e%2fx',
    ]) {
      assert.throws(() => pathSegment(bad, '{p}'), PathValueError, JSON.stringify(bad));
    }
  });

  it('name the placeholder that has no value', () => {
    assert.throws(
      () => fillPathTemplate('/p/{project}/items', () => undefined, 'connection c'),
      /connection c: path placeholder \{project\} has no value/,
    );
    assert.equal(
      fillPathTemplate('/p/{a}/{b}', (k) => (k === 'a' ? 'x y' : 'z'), 'c'),
      '/p/x%20y/z',
    );
  });
});

describe('pagination labels never show a query', () => {
  it('a next link label is the page number and the path', () => {
    const config = paginationSchema.parse({ type: 'link-header' });
    const step = nextPage(config, firstState(config), {
      body: [],
      header: (n) => (n === 'link' ? '<https://api.example.com/items?page=2&sig=SECRET>; rel="next"' : null),
      recordCount: 1,
      requestUrl: 'https://api.example.com/items',
    });
    assert.equal(step.done, false);
    assert.ok(!step.done && step.label === 'page 2 at /items', !step.done ? step.label : '');
  });

  it('acceptUrl sees the link before it is stored and may refuse or clean it', () => {
    const config = paginationSchema.parse({ type: 'next-url', nextUrlPath: 'next' });
    const page = (next: string, acceptUrl: (u: string) => string) =>
      nextPage(config, firstState(config), {
        body: { next },
        header: () => null,
        recordCount: 1,
        requestUrl: 'https://api.example.com/items',
        acceptUrl,
      });
    const step = page('/items?cursor=2&api_key=SECRET', (u) => {
      const url = new URL(u);
      url.searchParams.delete('api_key');
      return url.toString();
    });
    assert.ok(!step.done);
    assert.deepEqual(step.state.request, { url: 'https://api.example.com/items?cursor=2' });
    assert.doesNotMatch(JSON.stringify(step.state), /SECRET/);
    assert.throws(
      () =>
        page('https://evil.example.net/x', () => {
          throw new Error('refused');
        }),
      /refused/,
    );
  });
});

describe('HttpTransport follows redirects by hand', () => {
  let provider: http.Server;
  let other: http.Server;
  let providerUrl = '';
  let otherUrl = '';
  const seenByOther: http.IncomingHttpHeaders[] = [];
  const transport = new HttpTransport({ timeoutMs: 2000, maxRedirects: 3 });

  before(async () => {
    other = http.createServer((req, res) => {
      seenByOther.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ at: 'other', url: req.url }));
    });
    provider = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const send = (status: number, headers: http.OutgoingHttpHeaders, payload: unknown = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(payload));
        };
        if (u.pathname === '/same') return send(302, { location: '/final' });
        if (u.pathname === '/see-other') return send(303, { location: '/final' });
        if (u.pathname === '/loop') return send(307, { location: '/loop' });
        if (u.pathname === '/away') return send(302, { location: `${otherUrl}/file?key=SECRET&x=1` });
        if (u.pathname === '/final')
          return send(200, {}, { method: req.method, auth: req.headers.authorization ?? null, body });
        send(404, {});
      });
    });
    for (const s of [provider, other]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });

  after(async () => {
    transport.close();
    for (const s of [provider, other]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  const req = (path: string, allowed: { origin: string; credentials: boolean }[] = [], method = 'GET') =>
    transport.requestJson({
      url: `${providerUrl}${path}`,
      method,
      headers: { authorization: 'Bearer SECRET', 'x-api-key': 'SECRET' },
      ...(method === 'POST' ? { body: { a: 1 } } : {}),
      urlPolicy: createUrlPolicy(providerUrl, allowed),
      credentialHeaders: ['authorization', 'x-api-key'],
      secretParams: ['key'],
    });

  it('within the origin, keeping credentials; 303 after a POST continues as a GET without a body', async () => {
    assert.deepEqual((await req('/same')).body, { method: 'GET', auth: 'Bearer SECRET', body: '' });
    assert.deepEqual((await req('/see-other', [], 'POST')).body, {
      method: 'GET',
      auth: 'Bearer SECRET',
      body: '',
    });
  });

  it('stops after the redirect limit', async () => {
    await assert.rejects(req('/loop'), /more than 3 redirects/);
  });

  it('refuses another origin with an untrusted-url error that names it, sending it nothing', async () => {
    await assert.rejects(req('/away'), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.kind, 'untrusted-url');
      assert.equal(e.failureType, 'UntrustedUrlError');
      assert.equal(e.retryable, false);
      assert.ok(e.message.includes(otherUrl), e.message);
      assert.doesNotMatch(e.message, /SECRET/);
      return true;
    });
    assert.equal(seenByOther.length, 0);
  });

  it('to an allowed origin without credentials: credential headers and parameters are dropped', async () => {
    const r = await req('/away', [{ origin: otherUrl, credentials: false }]);
    assert.deepEqual(r.body, { at: 'other', url: '/file?x=1' });
    const headers = seenByOther.at(-1)!;
    assert.equal(headers.authorization, undefined);
    assert.equal(headers['x-api-key'], undefined);
  });

  it('without a URL policy, no redirect is followed', async () => {
    await assert.rejects(
      transport.requestJson({ url: `${providerUrl}/same` }),
      (e: unknown) => e instanceof ProviderError && e.kind === 'client' && /redirect/.test(e.message),
    );
  });
});

describe('per-connection base URLs', () => {
  it('fill host values that are host names and path values as one segment', () => {
    assert.equal(
      fillBaseUrl('https://{config.sub}.zendesk.com', { sub: 'Acme-1' }, 'c'),
      'https://acme-1.zendesk.com',
    );
    assert.equal(fillBaseUrl('https://api.x/{config.t}/v1', { t: 'a/b' }, 'c'), 'https://api.x/a%2Fb/v1');
    for (const sub of ['evil.com:8443/', 'a@evil.com', 'evil.com/x', 'evil.com#', '-a', 'a..b', '', 'a b'])
      assert.throws(
        () => fillBaseUrl('https://{config.sub}.zendesk.com', { sub }, 'c'),
        BaseUrlValueError,
        sub,
      );
    assert.throws(() => fillBaseUrl('https://api.x/{config.t}', { t: '..' }, 'c'), /dot segment/);
    assert.throws(
      () => fillBaseUrl('https://{config.sub}.x', {}, 'connection a/b'),
      /connection a\/b: .*has no value/,
    );
  });

  it('a leading {config.x} of format url: the whole URL, https (http on loopback only), no user info, query or fragment, on the hosts listed', () => {
    const fields = { endpoint: { format: 'url' as const } };
    const fill = (endpoint: unknown, f: Record<string, { format?: 'url'; hosts?: string[] }> = fields) =>
      fillBaseUrl('{config.endpoint}/api/v1', { endpoint, team: 'a/b' }, 'connection c/d', undefined, f);
    assert.equal(fill('https://chat.example.org'), 'https://chat.example.org/api/v1');
    assert.equal(fill('https://chat.example.org/'), 'https://chat.example.org/api/v1');
    assert.equal(fill('https://chat.example.org/base/'), 'https://chat.example.org/base/api/v1');
    assert.equal(fill('HTTPS://Chat.Example.org:8443'), 'https://chat.example.org:8443/api/v1');
    assert.equal(fill('http://127.0.0.1:4010'), 'http://127.0.0.1:4010/api/v1');
    assert.equal(
      fillBaseUrl(
        '{config.endpoint}/t/{config.team}',
        { endpoint: 'https://a.org', team: 'a/b' },
        'c',
        undefined,
        fields,
      ),
      'https://a.org/t/a%2Fb',
      'later placeholders keep the path rules',
    );
    for (const [hostile, why] of [
      ['http://chat.example.org', /https URL/],
      ['http://10.0.0.1', /https URL/],
      ['ftp://chat.example.org', /a ftp: URL/],
      ['javascript:alert(1)', /https URL|not a URL/],
      ['file:///etc/passwd', /https URL/],
      ['https://user:pw@chat.example.org', /user info/],
      ['https://chat.example.org@evil.com', /user info/],
      ['https://chat.example.org/?x=1', /query or fragment/],
      ['https://chat.example.org/#', /query or fragment/],
      ['chat.example.org', /not a URL/],
      ['', /has no value/],
      [42, /not a URL/],
    ] as const) {
      assert.throws(
        () => fill(hostile),
        (e: unknown) =>
          e instanceof BaseUrlValueError && why.test(e.message) && /connection c\/d/.test(e.message),
        String(hostile),
      );
    }
    // Hosts listed: only those (a * is one label; a port only when the pattern says so).
    const hosts = { endpoint: { format: 'url' as const, hosts: ['*.rocket.chat', '127.0.0.1:*'] } };
    assert.equal(fill('https://acme.rocket.chat', hosts), 'https://acme.rocket.chat/api/v1');
    assert.equal(fill('http://127.0.0.1:9', hosts), 'http://127.0.0.1:9/api/v1');
    for (const hostile of [
      'https://rocket.chat',
      'https://a.b.rocket.chat',
      'https://acme.rocket.chat.evil.com',
      'https://acme.rocket.chat:444',
      'https://evil.com/acme.rocket.chat',
    ])
      assert.throws(() => fill(hostile, hosts), /not on a host the spec allows/, hostile);
    // Without the field's declaration the value is never used as a URL.
    assert.throws(() => fill('https://chat.example.org', {}), /format: url/);
    assert.throws(
      () => fillBaseUrl('{config.endpoint}/v1', { endpoint: 'https://a.org' }, 'c'),
      /needs the spec's connectionConfig\.endpoint with format: url/,
    );
  });
});
