import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import {
  createSyncSchedule,
  describeSyncSchedule,
  listSyncSchedules,
  scheduleId,
} from '../../src/temporal/sync-client.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('scheduled syncs: Temporal Schedules per (connection, resource)', () => {
  let env: TestEnv;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.close();
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
      assert.equal(d.action.type === 'startWorkflow' ? d.action.workflowType : '', 'syncResource');
      assert.equal(
        d.action.type === 'startWorkflow' ? d.action.workflowId : '',
        `sync:tracker:${input.connection}:issues`,
      );
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
