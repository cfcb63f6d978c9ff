/**
 * Prometheus metrics scraped over HTTP while real syncs and a webhook burst run on the real stack: the
 * counts must equal what happened. Also: `syncwright worker` serves ours together with the Temporal
 * SDK runtime's own metrics on SYNCWRIGHT_METRICS_PORT, and serves nothing without it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configureMetrics } from '../../src/metrics/metrics.js';
import { blockConnection } from '../../src/ratelimit/ledger.js';
import { startMetricsServer, type RunningMetricsServer } from '../../src/metrics/server.js';
import { watchInbox } from '../../src/cli/metrics.js';
import { WebhookDispatcher } from '../../src/temporal/webhook-dispatcher.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { postWebhook } from '../../src/testing/webhooks.js';
import { countEvents } from '../../src/webhooks/inbox-queries.js';
import { startWebhookReceiver, type RunningReceiver } from '../../src/webhooks/receiver.js';
import { startEngine, TEST_KEY, type EngineHarness } from '../helpers/engine.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec, trackerWebhooks, WEBHOOK_SECRET } from '../helpers/tracker-spec.js';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The Prometheus text format, sample lines only. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `where`. */
function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

describe('Prometheus metrics', { timeout: 300_000 }, () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;
  let metrics: RunningMetricsServer;
  let receiver: RunningReceiver;
  let dispatcher: WebhookDispatcher;
  const spec = () => trackerSpec(sim.url, 200, trackerWebhooks());
  const scrape = async () => {
    const r = await fetch(metrics.url);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    return parse(await r.text());
  };

  before(async () => {
    env = await testEnv();
    configureMetrics({ connectionLabel: false });
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(250) },
    });
    const s = spec();
    engine = await startEngine(env, [s]);
    metrics = await startMetricsServer({ host: '127.0.0.1', port: 0 });
    watchInbox(env.db);
    dispatcher = new WebhookDispatcher({
      db: env.db,
      connect: () => Promise.resolve(env.client),
      taskQueue: engine.taskQueue,
      pollMs: 100,
    });
    receiver = await startWebhookReceiver({
      db: env.db,
      specs: new Map([[s.id, s]]),
      secretBox: engine.box,
      env: {},
      onAccepted: () => dispatcher.nudge(),
    });
    dispatcher.start();
  });
  after(async () => {
    await dispatcher?.stop();
    await receiver?.close();
    await metrics?.close();
    await engine?.close();
    await sim?.close();
    await env?.close();
  });

  it('a sync, a refused connection and a 429: records, pages, runs, requests, blocks', async () => {
    const conn = env.uniqueId('acme');
    await engine.addConnection('tracker', conn, { token: TOKEN });
    const before = await scrape();
    // The second page answers 429 with Retry-After: 1 once; Temporal retries the page.
    sim.injectFaults([{ kind: 'rate-limited', retryAfterSeconds: 1 }]);
    const ok = await engine.run(engine.input('tracker', conn, 'issues'));
    const summary = await ok.result();
    assert.equal(summary.inserted, 250);
    const refused = env.uniqueId('refused');
    await engine.addConnection('tracker', refused, { token: 'wrong' });
    await assert.rejects(engine.run(engine.input('tracker', refused, 'issues')).then((h) => h.result()));

    const after = await scrape();
    const delta = (name: string, where: Record<string, string> = {}) =>
      Math.round((sum(after, name, where) - sum(before, name, where)) * 1000) / 1000;
    const t = { integration: 'tracker', resource: 'issues' };
    assert.equal(delta('syncwright_records_fetched_total', t), 250);
    assert.equal(
      delta('syncwright_records_written_total', { ...t, outcome: 'inserted', source: 'sync' }),
      250,
    );
    assert.equal(delta('syncwright_records_written_total', { ...t, outcome: 'updated' }), 0);
    assert.equal(delta('syncwright_pages_total', t), 3);
    assert.equal(delta('syncwright_runs_total', { ...t, status: 'completed', error_type: '' }), 1);
    assert.equal(delta('syncwright_runs_total', { ...t, status: 'failed', error_type: 'AuthError' }), 1);
    // Three pages answered 200, one 429 (then retried), one 401 for the refused connection.
    const requests = 'syncwright_provider_request_duration_seconds_count';
    assert.equal(delta(requests, { integration: 'tracker', status: '200' }), 3);
    assert.equal(delta(requests, { integration: 'tracker', status: '429' }), 1);
    assert.equal(delta(requests, { integration: 'tracker', status: '401' }), 1);
    assert.equal(delta('syncwright_provider_429_total', { integration: 'tracker' }), 1);
    assert.equal(
      delta('syncwright_provider_blocks_total', { integration: 'tracker', source: 'retry-after' }),
      1,
    );
    assert.equal(delta('syncwright_provider_retry_after_seconds_count', { integration: 'tracker' }), 1);
    assert.equal(delta('syncwright_provider_retry_after_seconds_sum', { integration: 'tracker' }), 1);
    // Bounded labels: no connection id anywhere unless opted in.
    assert.ok(!after.some((s) => 'connection' in s.labels || Object.values(s.labels).includes(conn)));
  });

  it('a webhook burst: deliveries by answer code, signature failures, dispatch lag, apply latency, inbox depth', async () => {
    const conn = env.uniqueId('hooks');
    await engine.addConnection('tracker', conn, { token: TOKEN, webhook_secret: WEBHOOK_SECRET });
    const url = `${receiver.url}/webhooks/tracker/${conn}`;
    const scheme = spec().webhooks!.signature;
    const before = await scrape();
    const events = Array.from({ length: 40 }, (_, i) => ({
      id: `evt_${conn}_${i}`,
      type: 'issue.updated',
      sequence: i,
      data: {
        id: 5000 + i,
        title: `Hook ${i}`,
        state: 'open',
        priority: 1,
        updated_at: '2026-11-01T00:00:00Z',
      },
    }));
    const answers = await Promise.all([
      ...events.map((e) => postWebhook(url, scheme, WEBHOOK_SECRET, e)),
      // 10 duplicates, 5 forged, 3 to an unknown connection.
      ...events.slice(0, 10).map((e) => postWebhook(url, scheme, WEBHOOK_SECRET, e)),
      ...events
        .slice(0, 5)
        .map((e) => postWebhook(url, scheme, 'whsec_d3Jvbmcgc2VjcmV0', { ...e, id: `${e.id}-x` })),
      ...events
        .slice(0, 3)
        .map((e) => postWebhook(`${receiver.url}/webhooks/tracker/nobody`, scheme, WEBHOOK_SECRET, e)),
    ]);
    const codes = answers.map((a) => a.status);
    const count = (code: number) => codes.filter((c) => c === code).length;
    // A duplicate racing its original may be either; together they are 50.
    assert.equal(count(202) + count(200), 50);
    assert.equal(count(401), 5);
    assert.equal(count(404), 3);

    const deadline = Date.now() + 60_000;
    for (;;) {
      const c = await countEvents(env.db);
      if (c.received + c.dispatched === 0) break;
      assert.ok(Date.now() < deadline, `events still pending: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await scrape();
    const delta = (name: string, where: Record<string, string> = {}) =>
      sum(after, name, where) - sum(before, name, where);
    const hooks = 'syncwright_webhook_deliveries_total';
    assert.equal(delta(hooks, { integration: 'tracker', code: '202' }), count(202));
    assert.equal(delta(hooks, { integration: 'tracker', code: '200' }), count(200));
    assert.equal(delta(hooks, { integration: 'tracker', code: '401' }), 5);
    assert.equal(delta(hooks, { integration: 'tracker', code: '404' }), 3);
    assert.equal(count(202), 40);
    assert.equal(delta('syncwright_webhook_signature_failures_total', { integration: 'tracker' }), 5);
    assert.equal(delta('syncwright_webhook_dispatch_lag_seconds_count', { integration: 'tracker' }), 40);
    assert.equal(
      delta('syncwright_webhook_apply_latency_seconds_count', { integration: 'tracker', result: 'applied' }),
      40,
    );
    assert.equal(
      delta('syncwright_records_written_total', {
        integration: 'tracker',
        source: 'webhook',
        outcome: 'upserted',
      }),
      40,
    );
    assert.equal(
      sum(after, 'syncwright_webhook_inbox_events', { integration: 'tracker', status: 'received' }),
      0,
    );
  });

  it('the inbox depth gauge reads Postgres at each scrape', async () => {
    await env.db
      .insertInto('webhook_events')
      .values(
        (['received', 'received', 'failed'] as const).map((status, i) => ({
          integration: 'depth-probe',
          connection: 'c',
          dedup_scope: 'c',
          event_id: `depth-${i}`,
          event_type: 't',
          action: 'ignore' as const,
          payload: '{}',
          status,
        })),
      )
      .execute();
    const s = await scrape();
    assert.equal(
      sum(s, 'syncwright_webhook_inbox_events', { integration: 'depth-probe', status: 'received' }),
      2,
    );
    assert.equal(
      sum(s, 'syncwright_webhook_inbox_events', { integration: 'depth-probe', status: 'failed' }),
      1,
    );
    await env.db.deleteFrom('webhook_events').where('integration', '=', 'depth-probe').execute();
  });

  it('a connection blocked in the ledger: the wait slept in the worker is counted', async () => {
    const conn = env.uniqueId('blocked');
    await engine.addConnection('tracker', conn, { token: TOKEN });
    const before = await scrape();
    // As a provider's Retry-After would: every worker of the connection waits 1.5 s (slept in the activity).
    await blockConnection(env.db, `tracker:${conn}`, spec().rateLimits, {
      until: new Date(Date.now() + 1500),
    });
    await (await engine.run(engine.input('tracker', conn, 'issues'))).result();
    const after = await scrape();
    const waited =
      sum(after, 'syncwright_rate_ledger_wait_seconds_total', { integration: 'tracker' }) -
      sum(before, 'syncwright_rate_ledger_wait_seconds_total', { integration: 'tracker' });
    // What was left of the 1.5 s when the first request asked (starting the run takes a moment).
    assert.ok(waited >= 0.5 && waited <= 1.6, `waited ${waited}s in the worker`);
  });

  it('connection ids become a label only when opted in', async () => {
    configureMetrics({ connectionLabel: true });
    try {
      const conn = env.uniqueId('tenant');
      await engine.addConnection('tracker', conn, { token: TOKEN });
      await (await engine.run(engine.input('tracker', conn, 'issues'))).result();
      const s = await scrape();
      assert.equal(sum(s, 'syncwright_records_fetched_total', { connection: conn, resource: 'issues' }), 250);
    } finally {
      configureMetrics({ connectionLabel: false });
    }
  });

  it('syncwright worker: /metrics on SYNCWRIGHT_METRICS_PORT with the Temporal SDK’s metrics; none unless asked', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-metrics-'));
    const specsFile = path.join(home, 'tracker.json');
    await fs.writeFile(specsFile, JSON.stringify({ ...spec(), rateLimits: [] }));
    const start = (extra: Record<string, string>) => {
      const child = spawn(process.execPath, ['bin/syncwright.js', 'worker'], {
        env: {
          ...process.env,
          DATABASE_URL: env.databaseUrl,
          TEMPORAL_ADDRESS: env.temporalAddress,
          TEMPORAL_TASK_QUEUE: env.uniqueId('metrics-q'),
          SYNCWRIGHT_SPECS: specsFile,
          SYNCWRIGHT_HOME: home,
          SYNCWRIGHT_ENCRYPTION_KEY: TEST_KEY,
          ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const ready = new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (/worker polling/.test(out)) setTimeout(() => resolve(out), 300);
        });
        child.on('close', (code) => reject(new Error(`worker exited ${code}: ${err}`)));
      });
      const stop = async () => {
        child.kill('SIGINT');
        await new Promise((r) => child.once('close', r));
      };
      return { ready, stop };
    };
    const on = start({ SYNCWRIGHT_METRICS_PORT: '0' });
    try {
      const out = await on.ready;
      const url = /metrics on (http:\/\/\S+)/.exec(out)?.[1];
      assert.ok(url, `the worker says where its metrics are: ${out}`);
      let text = '';
      // The SDK's exporter reports its worker's pollers once they have polled.
      for (let i = 0; i < 50 && !/^temporal_\w+/m.test(text); i++) {
        text = await (await fetch(url)).text();
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(text, /^# HELP syncwright_records_fetched_total/m);
      assert.match(text, /^temporal_\w+/m, 'the Temporal SDK runtime’s own metrics are appended');
    } finally {
      await on.stop();
    }
    const off = start({ SYNCWRIGHT_METRICS_PORT: '' });
    try {
      const out = await off.ready;
      assert.doesNotMatch(out, /metrics on/);
    } finally {
      await off.stop();
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
