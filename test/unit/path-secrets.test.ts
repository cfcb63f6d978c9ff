/**
 * Secrets in URL paths (src/http/path-secrets.ts): markers in, values out only on the wire to an origin
 * with credentials, every form of the value scrubbed from errors; the spec accepts `{secrets.x}` only
 * as a whole path segment of a request path or token URL, naming the problem's path otherwise.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createPathSecrets, pathSecretProblem, secretMarker } from '../../src/http/path-secrets.js';
import { HttpTransport } from '../../src/http/transport.js';
import { ProviderError } from '../../src/http/errors.js';
import { createUrlPolicy } from '../../src/http/url-policy.js';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';

const ACCOUNT = 'ac/ct 7?';
const secrets = createPathSecrets({ account_id: ACCOUNT, tenant: 'ten-42' }, 'connection x/c1');

describe('path secrets: markers and values', () => {
  it('reveals marker segments, seals value segments, scrubs every form of a value', () => {
    const marked = `https://api.x.test/v1/a/${secretMarker('account_id')}/calls?page=2`;
    assert.equal(secretMarker('account_id'), '%7Bsecrets.account_id%7D');
    assert.equal(
      secrets.reveal(marked),
      `https://api.x.test/v1/a/${encodeURIComponent(ACCOUNT)}/calls?page=2`,
    );
    // A marker inside a longer segment is not one: only whole segments are revealed.
    assert.equal(
      secrets.reveal('https://api.x.test/x%7Bsecrets.tenant%7D'),
      'https://api.x.test/x%7Bsecrets.tenant%7D',
    );
    const given = new URL(
      `https://api.x.test/v1/a/${encodeURIComponent(ACCOUNT).toLowerCase().replace('ac', 'AC')}/calls`,
    );
    assert.equal(
      secrets.seal(new URL('https://api.x.test/v1/a/ten-42/t')).pathname,
      '/v1/a/%7Bsecrets.tenant%7D/t',
    );
    assert.ok(given.pathname.includes('%2f') || given.pathname.includes('%2F'));
    const text = `GET /a/${encodeURIComponent(ACCOUNT)}/calls failed for ${ACCOUNT} at /t/ten-42`;
    assert.equal(secrets.scrub(text), 'GET /a/[redacted]/calls failed for [redacted] at /t/[redacted]');
  });

  it('refuses a value that is empty or a dot segment, without quoting it', () => {
    assert.throws(
      () => createPathSecrets({ id: '..' }, 'connection x/c1'),
      (e: Error) =>
        e.message ===
        'connection x/c1: secret "id" cannot be a path segment (it is empty or a server could read it as "." or "..")',
    );
    assert.throws(() => createPathSecrets({ id: '%2e%2E' }, 'w'), /cannot be a path segment/);
  });

  it('says where a placeholder may stand', () => {
    assert.equal(pathSecretProblem('/a/{secrets.id}/b'), undefined);
    assert.equal(pathSecretProblem('/a/{secrets.id}'), undefined);
    assert.match(pathSecretProblem('/a/x{secrets.id}/b')!, /must be a whole path segment/);
    assert.match(pathSecretProblem('/a/{secrets.id|upper}')!, /without filters/);
    assert.match(
      pathSecretProblem('https://{secrets.id}.x.test/a', 'https://x.test'.length)!,
      /whole path segment/,
    );
  });
});

describe('path secrets: the transport', () => {
  let server: http.Server;
  let base = '';
  const seen: string[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url?.startsWith('/hop')) {
        res.writeHead(307, {
          location: `http://localhost:${(server.address() as AddressInfo).port}${req.url.slice(4)}`,
        });
        return res.end();
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `no route ${req.url}` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the value, and the 404 that quotes it comes back scrubbed, naming the marker', async () => {
    const t = new HttpTransport({ timeoutMs: 2000 });
    const url = `${base}/v1/a/${secretMarker('tenant')}/calls`;
    await assert.rejects(t.requestJson({ url, pathSecrets: secrets }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      const all = `${e.message} ${e.stack} ${e.details.body} ${e.context.path} ${JSON.stringify(e)}`;
      assert.ok(!all.includes('ten-42'), all);
      assert.match(e.message, /GET \/v1\/a\/%7Bsecrets\.tenant%7D\/calls/);
      assert.match(e.details.body ?? '', /\[redacted\]/);
      return true;
    });
    assert.equal(seen.at(-1), '/v1/a/ten-42/calls');
    t.close();
  });

  it('sends nothing of it to an origin without credentials, even when a redirect writes it out', async () => {
    const t = new HttpTransport({ timeoutMs: 2000 });
    const policy = createUrlPolicy(base, [
      { origin: `http://localhost:${new URL(base).port}`, credentials: false },
    ]);
    await assert.rejects(
      t.requestJson({
        url: `${base}/hop/v1/${secretMarker('tenant')}/x`,
        pathSecrets: secrets,
        urlPolicy: policy,
      }),
      ProviderError,
    );
    assert.deepEqual(seen.slice(-2), ['/hop/v1/ten-42/x', '/v1/%7Bsecrets.tenant%7D/x']);
    t.close();
  });
});

describe('path secrets in a spec', () => {
  const base = {
    id: 'calls',
    baseUrl: 'https://api.calls.test/v3',
    secrets: { key: 'API key', account: 'Account id', tenant: 'Tenant' },
    auth: { type: 'bearer', token: 'key' },
    resources: { calls: { request: { path: '/a/{secrets.account}/calls.json' }, primaryKey: 'id' } },
  };
  const problems = (over: Record<string, unknown>): string[] => {
    try {
      parseSpec({ ...base, ...over }, 'calls.json');
    } catch (error) {
      assert.ok(error instanceof SpecError, String(error));
      return error.problems;
    }
    return [];
  };

  it('accepts a declared secret as a whole segment of a request path and of a token URL', () => {
    assert.deepEqual(problems({}), []);
    assert.deepEqual(
      problems({
        auth: {
          type: 'oauth2-client-credentials',
          tokenUrl: 'https://login.calls.test/{secrets.tenant}/oauth2/token',
          clientId: 'key',
          clientSecret: 'key',
        },
      }),
      [],
    );
  });

  it('refuses it elsewhere, naming the path', () => {
    const path = (p: string) => ({ resources: { calls: { request: { path: p }, primaryKey: 'id' } } });
    assert.deepEqual(problems(path('/a/{secrets.nope}/calls')), [
      'resources.calls.request.path: {secrets.nope}: secret "nope" is not declared in secrets (declared: key, account, tenant)',
    ]);
    assert.match(
      problems(path('/a/{secrets.account}.json'))[0]!,
      /^resources\.calls\.request\.path: .*whole path segment/,
    );
    assert.match(problems({ baseUrl: 'https://api.calls.test/{secrets.account}' })[0]!, /^baseUrl: /);
    const oauth = (tokenUrl: string, type = 'oauth2-client-credentials') => ({
      auth: {
        type,
        tokenUrl,
        clientId: 'key',
        clientSecret: 'key',
        ...(type === 'oauth2-authorization-code'
          ? { authorizeUrl: 'https://login.calls.test/authorize' }
          : {}),
      },
    });
    assert.match(
      problems(oauth('https://{secrets.tenant}.login.test/token'))[0]!,
      /^auth\.tokenUrl: .*whole path segment/,
    );
    assert.match(
      problems(oauth('https://login.test/{secrets.tenant}/token', 'oauth2-authorization-code'))[0]!,
      /^auth\.tokenUrl: \{secrets\.tenant\}: a secret may be in the path of a client-credentials/,
    );
  });
});
