/**
 * Response rules in a real sync (Temporal dev server, Postgres, a real HTTP provider): a Slack-shaped
 * 200 `{"ok": false, "error": "ratelimited"}` is retried after the provider's Retry-After and every
 * record still lands once; `ok: false` with another error fails the run with Slack's words, unretried;
 * a child resource's 404 that means "no rows" completes with nothing; a GitHub-style 403 with
 * `x-ratelimit-remaining: 0` is retried as a rate limit instead of failing as an AuthError.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { defineIntegration } from '../../src/spec/define.js';
import { listRecords } from '../../src/store/records.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { startRecordingServer, type RecordingServer } from '../helpers/hostile-servers.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('response rules in a sync', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let provider: RecordingServer;
  // Answers to serve before the real one, per path: a test queues its faults here.
  const faults = new Map<string, { status: number; body: unknown; headers?: Record<string, string> }[]>();

  before(async () => {
    env = await testEnv();
    provider = await startRecordingServer((req, res) => {
      const u = new URL(req.url, 'http://x');
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const fault = faults.get(`${u.pathname}?${u.searchParams.get('cursor') ?? ''}`)?.shift();
      if (fault) return send(fault.status, fault.body, fault.headers);
      if (u.pathname === '/api/conversations.history') {
        // Slack: the cursor is "" on the last page.
        const page = Number(u.searchParams.get('cursor') || '0');
        const messages = Array.from({ length: 10 }, (_, i) => ({
          ts: `${page * 10 + i}`,
          text: `m${page * 10 + i}`,
        }));
        return send(200, {
          ok: true,
          messages,
          response_metadata: { next_cursor: page < 2 ? String(page + 1) : '' },
        });
      }
      if (u.pathname === '/api/channels')
        return send(200, { ok: true, channels: [{ id: 'C1' }, { id: 'C2' }] });
      if (u.pathname === '/api/channels/C1/pins') return send(200, { ok: true, items: [{ id: 'p1' }] });
      if (u.pathname === '/api/channels/C2/pins') return send(404, { ok: false, error: 'channel_not_found' });
      send(500, { ok: false, error: 'unexpected' });
    });
    engine = await startEngine(env, [
      defineIntegration({
        id: 'slackish',
        baseUrl: `${provider.url}/api`,
        secrets: { token: 'bot token' },
        auth: { type: 'bearer', token: 'token' },
        responseRules: [
          { when: { path: 'error', equals: 'ratelimited' }, action: 'rate-limited', retryAfterSeconds: 1 },
          { when: { path: 'ok', equals: false }, action: 'fail', message: 'Slack said {body.error}' },
        ],
        resources: {
          messages: {
            request: { path: '/conversations.history' },
            recordsPath: 'messages',
            primaryKey: 'ts',
            pagination: { type: 'cursor', cursorPath: 'response_metadata.next_cursor', param: 'cursor' },
          },
          channels: { request: { path: '/channels' }, recordsPath: 'channels', primaryKey: 'id' },
          pins: {
            request: { path: '/channels/{parent.channel}/pins' },
            recordsPath: 'items',
            primaryKey: 'id',
            parent: { resource: 'channels', params: { channel: 'id' } },
            // Checked before the integration's rules: this 404 means "no pins", not a failure.
            responseRules: [
              { when: { status: 404, path: 'error', equals: 'channel_not_found' }, action: 'ignore' },
            ],
          },
        },
      }),
    ]);
  });

  after(async () => {
    await engine?.close();
    await provider?.close();
    await env?.close();
  });

  const records = async (conn: string, resource: string) =>
    (await listRecords(env.db, { integration: 'slackish', connection: conn, resource }))
      .map((r) => r.key)
      .sort();

  it('a 200 that says "ratelimited" is retried after Retry-After; every record lands once', async () => {
    const conn = uniqueId('s');
    await engine.addConnection('slackish', conn, { token: 'xoxb-1' });
    faults.set('/api/conversations.history?1', [
      { status: 200, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } },
    ]);
    const seen = provider.requests.length;
    const started = Date.now();
    const result = await (await engine.run(engine.input('slackish', conn, 'messages'))).result();
    assert.equal(result.status, 'completed');
    assert.equal(result.inserted, 30);
    assert.equal((await records(conn, 'messages')).length, 30);
    const page2 = provider.requests.slice(seen).filter((r) => r.url.includes('cursor=1'));
    assert.equal(page2.length, 2, 'page 2 was asked for twice: the rate-limited answer, then the real one');
    assert.ok(Date.now() - started >= 900, 'the retry waited for Retry-After');
    const ledger = await env.db
      .selectFrom('rate_ledger')
      .select('kind')
      .where('connection_key', '=', `slackish:${conn}`)
      .execute();
    assert.ok(
      ledger.some((r) => r.kind === 'provider-block'),
      'the block was recorded for every worker',
    );
  });

  it("ok: false with another error fails the run with the provider's words, unretried", async () => {
    const conn = uniqueId('s');
    await engine.addConnection('slackish', conn, { token: 'xoxb-1' });
    faults.set('/api/conversations.history?', [{ status: 200, body: { ok: false, error: 'invalid_auth' } }]);
    const seen = provider.requests.length;
    const handle = await engine.run(engine.input('slackish', conn, 'messages'));
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      const cause = error.cause as { type?: string; message?: string };
      assert.equal(cause.type, 'ClientError');
      assert.match(cause.message ?? '', /Slack said invalid_auth \[response rule 2: fail\]/);
      return true;
    });
    assert.equal(provider.requests.length - seen, 1, 'not retried');
  });

  it("a child's 404 that a rule ignores means no rows; the other children sync", async () => {
    const conn = uniqueId('s');
    await engine.addConnection('slackish', conn, { token: 'xoxb-1' });
    await (await engine.run(engine.input('slackish', conn, 'channels'))).result();
    const result = await (await engine.run(engine.input('slackish', conn, 'pins'))).result();
    assert.equal(result.status, 'completed');
    assert.deepEqual(await records(conn, 'pins'), [JSON.stringify(['C1', 'p1'])]);
  });

  it('a 403 with x-ratelimit-remaining: 0 is a rate limit, retried, not an AuthError', async () => {
    const conn = uniqueId('s');
    await engine.addConnection('slackish', conn, { token: 'xoxb-1' });
    faults.set('/api/conversations.history?2', [
      {
        status: 403,
        body: { message: 'API rate limit exceeded' },
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1),
        },
      },
    ]);
    const result = await (await engine.run(engine.input('slackish', conn, 'messages'))).result();
    assert.equal(result.status, 'completed');
    assert.equal((await records(conn, 'messages')).length, 30);
  });
});
