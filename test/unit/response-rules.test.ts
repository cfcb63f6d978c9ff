/**
 * Response rules: matching (status classes, body paths, headers, equals/matches/exists), their errors in
 * the spec, and the transport turning verdicts into typed errors on a real local server — Slack's
 * 200-with-error, GraphQL's errors, GitHub's secondary rate limit and a 404 that means "no rows".
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ProviderError } from '../../src/http/errors.js';
import { matchResponseRules, responseRuleSchema, type ResponseRule } from '../../src/http/response-rules.js';
import { HttpTransport } from '../../src/http/transport.js';
import { formatIssues } from '../../src/spec/errors.js';

const rules = (list: unknown[]): ResponseRule[] => list.map((r) => responseRuleSchema.parse(r));
const input = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  header: (n: string) => headers[n.toLowerCase()] ?? null,
  body: () => body,
});

const SLACK = rules([
  { when: { path: 'error', equals: 'ratelimited' }, action: 'rate-limited', retryAfterSeconds: 30 },
  { when: { path: 'ok', equals: false }, action: 'fail', message: 'Slack said {body.error}' },
]);

describe('matchResponseRules', () => {
  it('takes the first matching rule, in order', () => {
    assert.equal(matchResponseRules(SLACK, input(200, { ok: true, messages: [] })), undefined);
    const limited = matchResponseRules(SLACK, input(200, { ok: false, error: 'ratelimited' }));
    assert.deepEqual([limited?.action, limited?.retryAfterMs, limited?.index], ['rate-limited', 30_000, 1]);
    const failed = matchResponseRules(SLACK, input(200, { ok: false, error: 'invalid_auth' }));
    assert.deepEqual([failed?.action, failed?.message], ['fail', 'Slack said invalid_auth']);
  });

  it('matches status classes and lists, headers, regular expressions and presence', () => {
    const r = rules([
      { when: { status: [404, 410] }, action: 'ignore' },
      { when: { status: '5xx', path: 'code', matches: '^TRY_AGAIN' }, action: 'retry' },
      { when: { status: 403, header: 'x-ratelimit-remaining', equals: 0 }, action: 'rate-limited' },
      { when: { path: 'errors', exists: true }, action: 'fail', message: 'GraphQL: {body.errors.0.message}' },
    ]);
    assert.equal(matchResponseRules(r, input(410, null))?.action, 'ignore');
    assert.equal(matchResponseRules(r, input(503, { code: 'TRY_AGAIN_LATER' }))?.action, 'retry');
    assert.equal(matchResponseRules(r, input(503, { code: 'BROKEN' })), undefined);
    assert.equal(
      matchResponseRules(r, input(403, {}, { 'x-ratelimit-remaining': '0' }))?.action,
      'rate-limited',
    );
    assert.equal(matchResponseRules(r, input(403, {}, { 'x-ratelimit-remaining': '12' })), undefined);
    assert.equal(
      matchResponseRules(r, input(200, { data: {}, errors: [] })),
      undefined,
      'an empty list is absent',
    );
    assert.equal(
      matchResponseRules(r, input(200, { errors: [{ message: 'Field "x" does not exist' }] }))?.message,
      'GraphQL: Field "x" does not exist',
    );
  });

  it('explains mistakes by path', () => {
    const bad = (rule: unknown) => {
      const r = responseRuleSchema.safeParse(rule);
      assert.ok(!r.success);
      return formatIssues(r.error.issues).join('\n');
    };
    assert.match(bad({ when: { path: 'ok' }, action: 'fail' }), /exactly one of equals, matches or exists/);
    assert.match(bad({ when: {}, action: 'fail' }), /at least one of status, path or header/);
    assert.match(bad({ when: { status: '6xx' }, action: 'fail' }), /status such as 404/);
    assert.match(bad({ when: { path: 'a', matches: '(' }, action: 'fail' }), /valid regular expression/);
    assert.match(bad({ when: { status: 404 }, action: 'explode' }), /action/);
  });
});

describe('HttpTransport applies response rules', () => {
  let server: http.Server;
  let base = '';
  const transport = new HttpTransport({ timeoutMs: 2000 });

  before(async () => {
    server = http.createServer((req, res) => {
      const send = (status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      switch (req.url) {
        case '/slack-limited':
          return send(200, { ok: false, error: 'ratelimited' }, { 'retry-after': '7' });
        case '/slack-denied':
          return send(200, { ok: false, error: 'not_authed' });
        case '/github-secondary':
          return send(403, { message: 'You have exceeded a secondary rate limit' }, { 'retry-after': '60' });
        case '/github-primary':
          return send(
            403,
            { message: 'API rate limit exceeded' },
            {
              'x-ratelimit-remaining': '0',
              'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 120),
            },
          );
        case '/forbidden':
          return send(403, { message: 'Must have admin rights' });
        case '/missing':
          return send(404, { message: 'Not Found' });
        case '/stale-token':
          return send(200, { error: { code: 'TOKEN_EXPIRED' } });
        default:
          return send(500, {});
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    transport.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const call = (path: string, list: ResponseRule[] = []) =>
    transport.requestJson({ url: `${base}${path}`, rules: list });
  const fails = (path: string, list: ResponseRule[], check: (e: ProviderError) => void) =>
    assert.rejects(call(path, list), (e: unknown) => {
      assert.ok(e instanceof ProviderError, String(e));
      check(e);
      return true;
    });

  it("Slack's 200 with ok: false becomes a rate limit (Retry-After wins) or a failure with Slack's words", async () => {
    await fails('/slack-limited', SLACK, (e) => {
      assert.equal(e.kind, 'rate-limited');
      assert.equal(e.details.retryAfterMs, 7000);
    });
    await fails('/slack-denied', SLACK, (e) => {
      assert.equal(e.kind, 'client');
      assert.equal(e.retryable, false);
      assert.match(e.message, /Slack said not_authed \[response rule 2: fail\]/);
    });
  });

  it("GitHub's secondary and primary rate limits (403 with Retry-After or remaining 0) are rate limits, not auth errors", async () => {
    await fails('/github-secondary', [], (e) => {
      assert.equal(e.kind, 'rate-limited');
      assert.equal(e.details.retryAfterMs, 60_000);
    });
    await fails('/github-primary', [], (e) => {
      assert.equal(e.kind, 'rate-limited');
      assert.ok(
        e.details.retryAfterMs! > 100_000 && e.details.retryAfterMs! <= 120_000,
        String(e.details.retryAfterMs),
      );
    });
    await fails('/forbidden', [], (e) => assert.equal(e.kind, 'auth'));
  });

  it('ignore makes an answer hold nothing; refresh-token asks for one token refresh', async () => {
    const r = await call('/missing', rules([{ when: { status: 404 }, action: 'ignore' }]));
    assert.deepEqual([r.ignored, r.body, r.status], [true, null, 404]);
    await fails(
      '/stale-token',
      rules([{ when: { path: 'error.code', equals: 'TOKEN_EXPIRED' }, action: 'refresh-token' }]),
      (e) => {
        assert.equal(e.kind, 'auth');
        assert.equal(e.details.refreshToken, true);
      },
    );
  });
});
