import {
  ChildWorkflowCancellationType,
  executeChild,
  log,
  ParentClosePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunSummary, SyncWorkflowInput } from '../src/sync/types.js';
import { syncResource } from './sync-resource.js';

/** What a scheduled action did: ran the sync, or skipped it because a run of the resource was going. */
export type ScheduledSyncResult =
  { outcome: 'ran'; summary: RunSummary } | { outcome: 'skipped'; reason: string };

/**
 * What a Temporal Schedule starts. A schedule appends its action time to the workflow id it starts, so
 * it cannot start `sync:<integration>:<connection>:<resource>` itself; this workflow starts the sync under
 * that id, the one `startSync` uses. Temporal lets only one execution of an id run at a time: while a
 * manual run goes on, the scheduled one is skipped (like an overlapping scheduled run), and while the
 * scheduled run goes on, a manual start is refused with SyncAlreadyRunningError.
 */
export async function scheduledSync(
  input: SyncWorkflowInput & { syncWorkflowId: string },
): Promise<ScheduledSyncResult> {
  const { syncWorkflowId, ...sync } = input;
  try {
    const summary = await executeChild(syncResource, {
      workflowId: syncWorkflowId,
      args: [sync],
      typedSearchAttributes: workflowInfo().typedSearchAttributes,
      staticSummary: `scheduled ${sync.kind} sync of ${sync.integration} / ${sync.connection} / ${sync.resource}`,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
    return { outcome: 'ran', summary };
  } catch (error) {
    // Matched by name: the class lives in @temporalio/common, which workflows do not import.
    if (error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError') {
      const reason = `a run of ${syncWorkflowId} is already going`;
      log.info(`scheduled sync skipped: ${reason}`);
      return { outcome: 'skipped', reason };
    }
    throw error;
  }
}
