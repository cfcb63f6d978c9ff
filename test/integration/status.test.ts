/**
 * `syncwright status` as an operator runs it (a child process, through pipes) against a real Postgres
 * and Temporal: a synced and a refused connection, a schedule, inbox rows and the rate ledger.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StatusReport } from '../../src/cli/commands/status.js';
import { createSyncSchedule, scheduleId } from '../../src/temporal/sync-client.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { spawn } from 'node:child_process';
import { startEngine, TEST_KEY, type EngineHarness } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';
import { testEnv, type TestEnv } from '../helpers/stack.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';

describe('syncwright status', { timeout: 240_000 }, () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;
  let home: string;
  let base: Record<string, string | undefined>;

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(250) },
    });
    const spec = trackerSpec(sim.url, 50);
    engine = await startEngine(env, [spec]);
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-status-'));
    const specsFile = path.join(home, 'tracker.json');
    // The spec as a user writes it (a parsed spec's limits are in another form).
    await fs.writeFile(specsFile, JSON.stringify({ ...spec, rateLimits: [{ limit: 50, per: 'second' }] }));
    base = {
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: engine.taskQueue,
      SYNCWRIGHT_SPECS: specsFile,
      SYNCWRIGHT_HOME: home,
    };
  });
  after(async () => {
    await engine?.close();
    await sim?.close();
    await env?.close();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('shows freshness, failures, the next scheduled run, the inbox and rate use; --stale fails when due', async () => {
    const good = env.uniqueId('good');
    const bad = env.uniqueId('bad');
    await engine.addConnection('tracker', good, { token: TOKEN });
    await engine.addConnection('tracker', bad, { token: 'wrong-token' });

    const before = sim.requests.get('/issues') ?? 0;
    const ok = await engine.run(engine.input('tracker', good, 'issues'));
    assert.equal((await ok.result()).inserted, 250);
    const goodRequests = (sim.requests.get('/issues') ?? 0) - before;
    assert.equal(goodRequests, 3);

    // Only fresh, successful resources so far: --stale passes.
    const fresh = await runCli(['status', '--stale', '1h'], base);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, new RegExp(`tracker/${good}/issues  \\d+s ago`));
    assert.match(fresh.stdout, /Nothing older than 3600s/);

    const refused = await engine.run(engine.input('tracker', bad, 'issues'));
    await assert.rejects(refused.result());
    const schedule = engine.input('tracker', good, 'by_cursor');
    await createSyncSchedule(env.client, schedule, { every: '1h' }, { taskQueue: engine.taskQueue });
    const scheduleHandle = env.client.schedule.getHandle(scheduleId(schedule));
    const next = (await scheduleHandle.describe()).info.nextActionTimes[0]!;
    await env.db
      .insertInto('webhook_events')
      .values(
        (['received', 'received', 'dispatched', 'failed', 'processed'] as const).map((status, i) => ({
          integration: 'tracker',
          connection: good,
          dedup_scope: good,
          event_id: `evt-${i}`,
          event_type: 'issue.updated',
          action: 'upsert' as const,
          resource: 'issues',
          entity_key: String(i),
          payload: '{}',
          status,
          ...(status === 'failed' ? { error: 'provider answered 503' } : {}),
        })),
      )
      .execute();

    try {
      const r = await runCli(['--json', 'status'], base);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as StatusReport;
      assert.deepEqual(s.connections.map((c) => c.id).sort(), [bad, good].sort());

      const goodRes = s.resources.find((x) => x.connection === good && x.resource === 'issues');
      assert.ok(goodRes, 'the synced resource is listed');
      assert.equal(goodRes.latestStatus, 'completed');
      assert.ok(goodRes.lastSuccessAt && goodRes.ageSeconds !== null && goodRes.ageSeconds < 120);
      const badRes = s.resources.find((x) => x.connection === bad);
      assert.deepEqual(
        [badRes?.latestStatus, badRes?.lastSuccessAt, badRes?.ageSeconds],
        ['failed', null, null],
      );
      assert.match(badRes?.error ?? '', /401/);

      assert.equal(s.failing.length, 1);
      assert.equal(s.failing[0]?.target, `tracker/${bad}/issues`);
      assert.equal(s.failing[0]?.workflowId, `sync:tracker:${bad}:issues`);
      assert.match(s.failing[0]?.error ?? '', /401/);

      const scheduled = s.resources.find((x) => x.connection === good && x.resource === 'by_cursor');
      assert.equal(scheduled?.latestStatus, 'never run');
      assert.equal(scheduled?.nextRunAt, next.toISOString());
      assert.deepEqual(scheduled?.schedules, [scheduleId(schedule)]);

      assert.deepEqual(s.inbox.byStatus, { received: 2, dispatched: 1, failed: 1, processed: 1, ignored: 0 });
      assert.equal(s.inbox.backlog, 3);
      assert.ok(s.inbox.oldestWaitingSeconds !== null);

      // Every request of the good sync was admitted by the ledger; the refused one spent one try.
      const rate = s.rate.find((x) => x.connection === `tracker:${good}`);
      assert.deepEqual(
        [rate?.admittedLastMinute, rate?.limitPerMinute, rate?.usePercent],
        [goodRequests, 3000, Math.round((goodRequests / 3000) * 100)],
      );
      assert.equal(s.rate.find((x) => x.connection === `tracker:${bad}`)?.admittedLastMinute, 1);

      // The human screen says the same on one page.
      const human = await runCli(['status'], base);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /Failing \(1\)/);
      assert.match(human.stdout, new RegExp(`tracker/${bad}/issues .*error: .*401`));
      assert.match(human.stdout, /Webhook inbox: backlog 3 \(oldest \d+s\), failed 1, processed 1/);
      assert.match(human.stdout, new RegExp(`tracker:${good}  ${goodRequests} of 3000/min`));
      assert.ok(human.stdout.includes(`next ${next.toISOString()}`));

      // --stale: the refused resource never succeeded; the scheduled one never ran.
      const staleNow = await runCli(['status', '--stale', '1h'], base);
      assert.equal(staleNow.code, 1);
      assert.match(
        staleNow.stderr,
        new RegExp(`^syncwright: 2 resource\\(s\\) without a successful sync in the last 1h: `),
      );
      assert.ok(staleNow.stderr.includes(`tracker/${bad}/issues`));
      assert.ok(!staleNow.stderr.includes(`tracker/${good}/issues`));

      // Two hours later (the good run moved back): it is stale for 1h, not for 3h.
      await env.db
        .updateTable('sync_runs')
        .set({ ended_at: new Date(Date.now() - 2 * 3600_000) })
        .where('connection', '=', good)
        .execute();
      const older = await runCli(['--json', 'status', '--stale', '1h'], base);
      assert.equal(older.code, 1);
      const o = JSON.parse(older.stdout) as StatusReport;
      assert.deepEqual(
        o.stale.sort(),
        [`tracker/${bad}/issues`, `tracker/${good}/by_cursor`, `tracker/${good}/issues`].sort(),
      );
      const notThatOld = await runCli(['--json', 'status', '--stale', '3h'], base);
      assert.ok(!(JSON.parse(notThatOld.stdout) as StatusReport).stale.includes(`tracker/${good}/issues`));

      const wrong = await runCli(['status', '--stale', 'soon'], base);
      assert.equal(wrong.code, 1);
      assert.equal(
        wrong.stderr.trim(),
        'syncwright: --stale "soon": expected a duration such as 90s, 15m, 1h or 2d',
      );
    } finally {
      await scheduleHandle.delete();
    }
  });

  it('--watch redraws until Ctrl-C', async () => {
    const child = spawn(process.execPath, ['bin/syncwright.js', '--json', 'status', '--watch', '1'], {
      env: { ...process.env, ...base, SYNCWRIGHT_ENCRYPTION_KEY: TEST_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 30_000;
    while ((out.match(/"at": /g) ?? []).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.ok((out.match(/"at": /g) ?? []).length >= 2, `redrawn: ${out.slice(0, 200)}`);
    assert.equal(code, 130);
  });
});
