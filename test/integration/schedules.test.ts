import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { listRecords } from '../../src/store/records.js';
import { getRun } from '../../src/store/runs.js';
import type { SyncWorkflowInput } from '../../src/sync/types.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import type { ScheduledSyncResult } from '../../workflows/scheduled-sync.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { TOKEN, trackerSpec } from '../helpers/tracker-spec.js';
import {
  createSyncSchedule,
  describeSyncSchedule,
  listSyncSchedules,
  scheduleId,
  startSync,
  SyncAlreadyRunningError,
} from '../../src/temporal/sync-client.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('scheduled syncs: Temporal Schedules per (connection, resource)', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;
  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      auth: { type: 'bearer', token: TOKEN },
      resources: { issues: generateRecords(500) },
    });
    engine = await startEngine(env, [trackerSpec(sim.url)]);
  });
  after(async () => {
    await engine?.close();
    await sim?.close();
    await env?.close();
  });

  /** Triggers the schedule now and returns the result of the scheduledSync run it started. */
  async function triggerAndWait(client: Client, id: string, nth: number): Promise<ScheduledSyncResult> {
    const schedule = client.schedule.getHandle(id);
    await schedule.trigger();
    for (let i = 0; i < 100; i++) {
      const actions = (await schedule.describe()).info.recentActions;
      const started = actions[nth]?.action;
      if (started?.type === 'startWorkflow')
        return client.workflow
          .getHandle(started.workflow.workflowId)
          .result() as Promise<ScheduledSyncResult>;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`schedule ${id} started no run`);
  }

  it('a schedule starts a run that completes with records; a scheduled and a manual run never overlap', async () => {
    const input: SyncWorkflowInput = engine.input('tracker', uniqueId('acme'), 'issues', 'full', {
      pagesPerActivity: 1,
    });
    await engine.addConnection('tracker', input.connection, { token: TOKEN });
    const id = scheduleId(input);
    await createSyncSchedule(
      env.client,
      input,
      { every: '1 day', paused: true },
      { taskQueue: engine.taskQueue },
    );
    try {
      // 1. The schedule's run: under startSync's id, completed, with the records in Postgres.
      const first = await triggerAndWait(env.client, id, 0);
      assert.equal(first.outcome, 'ran');
      assert.ok(first.outcome === 'ran');
      assert.deepEqual([first.summary.status, first.summary.inserted], ['completed', 500]);
      const run = await getRun(env.db, first.summary.runId);
      assert.equal(run?.workflowId, `sync:tracker:${input.connection}:issues`);
      const stored = await listRecords(env.db, {
        integration: 'tracker',
        connection: input.connection,
        resource: 'issues',
      });
      assert.equal(stored.length, 500);

      sim.setLatency(300);
      // 2. A manual run going: the scheduled one is skipped, not run beside it.
      const manual = await startSync(env.client, input, { taskQueue: engine.taskQueue });
      const second = await triggerAndWait(env.client, id, 1);
      assert.equal(second.outcome, 'skipped');
      assert.equal((await manual.result()).status, 'completed');

      // 3. A scheduled run going: a manual start is refused.
      const third = triggerAndWait(env.client, id, 2);
      const wfId = `sync:tracker:${input.connection}:issues`;
      for (let i = 0; i < 100; i++) {
        const d = await env.client.workflow.getHandle(wfId).describe();
        if (d.status.name === 'RUNNING' && d.runId !== manual.firstExecutionRunId) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await assert.rejects(
        startSync(env.client, input, { taskQueue: engine.taskQueue }),
        SyncAlreadyRunningError,
      );
      const t = await third;
      assert.equal(t.outcome, 'ran');
    } finally {
      sim.setLatency(0);
      await env.client.schedule.getHandle(id).delete();
    }
  });

  it('creates, lists, pauses, unpauses and deletes a schedule that starts the sync workflow', async () => {
    const input = {
      integration: 'tracker',
      connection: uniqueId('acme'),
      resource: 'issues',
      kind: 'incremental' as const,
    };
    const id = scheduleId(input);
    await createSyncSchedule(
      env.client,
      input,
      { every: '15m', note: 'every quarter hour' },
      { taskQueue: 'nowhere' },
    );
    try {
      const d = await describeSyncSchedule(env.client, id);
      assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
      assert.equal(d.action.type, 'startWorkflow');
      // The schedule starts scheduledSync, which starts the sync under startSync's own id.
      assert.equal(d.action.type === 'startWorkflow' ? d.action.workflowType : '', 'scheduledSync');
      assert.equal(d.action.type === 'startWorkflow' ? d.action.workflowId : '', `${id}:scheduled`);
      assert.deepEqual(d.action.type === 'startWorkflow' ? d.action.args : [], [
        { ...input, syncWorkflowId: `sync:tracker:${input.connection}:issues` },
      ]);
      assert.deepEqual(
        d.spec.intervals?.map((i) => i.every),
        [15 * 60 * 1000],
      );

      const listed = async () => (await listSyncSchedules(env.client)).find((s) => s.id === id);
      // The schedule list is eventually consistent.
      for (let i = 0; i < 50 && !(await listed()); i++) await new Promise((r) => setTimeout(r, 200));
      assert.equal((await listed())?.paused, false);

      const handle = env.client.schedule.getHandle(id);
      await handle.pause('maintenance');
      assert.equal((await describeSyncSchedule(env.client, id)).state.paused, true);
      await handle.unpause();
      assert.equal((await describeSyncSchedule(env.client, id)).state.paused, false);
      await assert.rejects(
        createSyncSchedule(env.client, input, { every: '1h' }, { taskQueue: 'nowhere' }),
        /already/i,
        'one schedule per (connection, resource, kind)',
      );
      await assert.rejects(
        createSyncSchedule(env.client, input, {}, { taskQueue: 'x' }),
        /exactly one of an interval/,
      );
    } finally {
      await env.client.schedule.getHandle(id).delete();
    }
    await assert.rejects(describeSyncSchedule(env.client, id), /not found/i);
  });
});
