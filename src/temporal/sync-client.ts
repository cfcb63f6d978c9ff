/**
 * Starting, scheduling and steering sync workflows from outside (CLI, API, tests). Every start uses the
 * readable id `sync:<integration>:<connection>:<resource>`, our search attributes and a static summary, so
 * runs are findable and legible in the Temporal UI.
 */
import {
  ScheduleOverlapPolicy,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type ScheduleDescription,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { syncWorkflowId, type SyncWorkflowInput } from '../sync/types.js';
import type { syncResource } from '../../workflows/sync-resource.js';
import type { scheduledSync } from '../../workflows/scheduled-sync.js';
import {
  cancelSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  type SyncProgress,
} from '../../workflows/definitions.js';
import { SyncConnection, SyncIntegration, SyncKind, SyncResource } from './search-attributes.js';

export function syncStartOptions(input: SyncWorkflowInput, taskQueue: string) {
  return {
    taskQueue,
    args: [input] as [SyncWorkflowInput],
    staticSummary: `${input.kind} sync of ${input.integration} / ${input.connection} / ${input.resource}`,
    typedSearchAttributes: [
      { key: SyncIntegration, value: input.integration },
      { key: SyncConnection, value: input.connection },
      { key: SyncResource, value: input.resource },
      { key: SyncKind, value: input.kind },
    ],
  };
}

export class SyncAlreadyRunningError extends Error {
  override name = 'SyncAlreadyRunningError';
}

/**
 * Starts a sync run. One live run per resource of a connection: while one runs, starting another fails
 * with SyncAlreadyRunningError (or, with `attach`, returns the running one). `eager` asks the server to
 * hand the first workflow task straight back to a worker of this process: only for a client made with
 * `workerClient` on a worker that polls `taskQueue`.
 */
export async function startSync(
  client: Client,
  input: SyncWorkflowInput,
  options: { taskQueue: string; attach?: boolean; eager?: boolean },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof syncResource>> {
  const workflowId = syncWorkflowId(input);
  try {
    return await client.workflow.start<typeof syncResource>('syncResource', {
      ...syncStartOptions(input, options.taskQueue),
      workflowId,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      workflowIdConflictPolicy: options.attach
        ? WorkflowIdConflictPolicy.USE_EXISTING
        : WorkflowIdConflictPolicy.FAIL,
      ...(options.eager ? { requestEagerStart: true } : {}),
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError') {
      throw new SyncAlreadyRunningError(
        `a sync of ${input.integration}/${input.connection}/${input.resource} is already running (workflow ${workflowId}); ` +
          'wait for it, or cancel it first',
        { cause: error },
      );
    }
    throw error;
  }
}

export function syncHandle(client: Client, workflowId: string): WorkflowHandle<typeof syncResource> {
  return client.workflow.getHandle<typeof syncResource>(workflowId);
}

export const pauseSync = (h: WorkflowHandle) => h.signal(pauseSignal);
export const resumeSync = (h: WorkflowHandle) => h.signal(resumeSignal);
export const cancelSync = (h: WorkflowHandle, reason?: string) => h.signal(cancelSignal, reason);
export const syncProgress = (h: WorkflowHandle): Promise<SyncProgress> => h.query(progressQuery);

export interface ScheduleSpecInput {
  /** e.g. "15m", "1h", "1 day" (ms-style durations). */
  every?: string;
  /** Cron expression, e.g. "0 * * * *". */
  cron?: string;
  paused?: boolean;
  note?: string;
}

export function scheduleId(
  input: Pick<SyncWorkflowInput, 'integration' | 'connection' | 'resource' | 'kind'>,
): string {
  return `${syncWorkflowId(input)}:${input.kind}`;
}

/**
 * A Temporal Schedule that starts this sync on an interval or cron; a run still going when the next is due
 * is skipped. Its action is the `scheduledSync` workflow, which starts the sync under the same workflow id
 * as `startSync` (a schedule would append its action time to any id it starts itself): a scheduled and a
 * manual run of one resource never run at once — whichever comes second is skipped or refused.
 */
export async function createSyncSchedule(
  client: Client,
  input: SyncWorkflowInput,
  spec: ScheduleSpecInput,
  options: { taskQueue: string },
) {
  if (!spec.every === !spec.cron)
    throw new Error('give exactly one of an interval (every) or a cron expression');
  const id = scheduleId(input);
  const handle = await client.schedule.create({
    scheduleId: id,
    spec: spec.every
      ? { intervals: [{ every: spec.every as `${number}${string}` }] }
      : { cronExpressions: [spec.cron!] },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledSync',
      workflowId: `${id}:scheduled`,
      ...syncStartOptions(input, options.taskQueue),
      args: [{ ...input, syncWorkflowId: syncWorkflowId(input) }] as Parameters<typeof scheduledSync>,
      staticSummary: `schedule ${id}: starts ${syncWorkflowId(input)} unless a run of it is going`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    state: { paused: spec.paused ?? false, ...(spec.note ? { note: spec.note } : {}) },
  });
  return handle;
}

export interface ScheduleListing {
  id: string;
  paused: boolean;
  note: string | undefined;
  nextActionTimes: Date[];
}

export async function listSyncSchedules(client: Client): Promise<ScheduleListing[]> {
  const out: ScheduleListing[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith('sync:')) continue;
    out.push({
      id: s.scheduleId,
      paused: s.state.paused,
      note: s.state.note,
      nextActionTimes: s.info.nextActionTimes,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export async function describeSyncSchedule(client: Client, id: string): Promise<ScheduleDescription> {
  return client.schedule.getHandle(id).describe();
}
