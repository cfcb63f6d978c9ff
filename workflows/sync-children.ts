/**
 * The run of a child resource: one child `syncResource` workflow per parent record, a bounded number at a
 * time. `syncResource` hands such a run over to this workflow type (continue-as-new under the same
 * workflow id, so signals, queries, search attributes and `result()` carry on).
 */
import {
  allHandlersFinished,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { noCounts, type RunCounts, type RunSummary, type SyncWorkflowInput } from '../src/sync/types.js';
import type { syncResource } from './sync-resource.js';
import { SyncRun, syncActivities } from './sync-run.js';

export interface SyncChildrenInput extends SyncWorkflowInput {
  /** The run this coordinates: its row, the parent resource, and the parents done so far. */
  carry: NonNullable<SyncWorkflowInput['carry']> & { childOf: string };
}

/** Parent records listed per activity call, and so between two checks for continue-as-new. */
const PARENTS_PER_BATCH = 20;

/** Runs the child runs of a child resource's run (started by `syncResource`, by continue-as-new). */
export async function syncChildren(input: SyncChildrenInput): Promise<RunSummary> {
  const run = new SyncRun(input, input.carry.runId);
  return run.closing(() => coordinateChildren(run, input.carry.childOf));
}

/**
 * The coordinator's loop: list a batch of parents after the last done, run their children, repeat.
 * Continues as new (as the workflow type it runs in) when Temporal suggests it, between batches. Also run
 * inline by `syncResource` when it replays a history from before this workflow type existed.
 */
export async function coordinateChildren(run: SyncRun, childOf: string): Promise<RunSummary> {
  const { input, runId } = run;
  const info = workflowInfo();
  const { listParents } = syncActivities(input);
  let after = input.carry?.parentAfter ?? null;
  const sums: RunCounts = run.totals ?? noCounts();
  run.totals = sums;
  const show = (cursor: string | null): RunSummary => ({
    runId,
    status: 'running',
    ...sums,
    total: null,
    cursor,
    done: false,
    error: null,
    childOf,
  });
  run.summary = show(after === null ? null : `after parent ${after}`);
  run.report();
  for (;;) {
    await run.waitWhilePaused();
    if (run.cancelReason !== undefined) return await run.finish('cancelled', run.cancelReason);
    // Coordinating runs always read the live info (so their histories need no patch).
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return await continueAsNew<(input: SyncWorkflowInput) => Promise<RunSummary>>({
        ...input,
        carry: run.carry({ childOf, parentAfter: after, totals: sums }),
      });
    }
    const batch = await listParents.executeWithOptions(
      { summary: `list ${childOf} records after ${after ?? 'the start'}` },
      [
        {
          integration: input.integration,
          connection: input.connection,
          resource: input.resource,
          after,
          limit: PARENTS_PER_BATCH,
          runId,
        },
      ],
    );
    await childrenOf(batch.parents, input.childConcurrency ?? 4, async (parent) => {
      const r = await executeChild<typeof syncResource>('syncResource', {
        workflowId: `${info.workflowId}:${parent.key}`,
        args: [{ ...input, parent, carry: undefined }],
        typedSearchAttributes: info.typedSearchAttributes,
        staticSummary: `${input.kind} sync of ${input.resource} for ${childOf} ${parent.key}`,
        // A child that is stopped closes its own run row (as cancelled); a terminated one could not.
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
      for (const k of Object.keys(sums) as (keyof RunCounts)[]) sums[k] += r[k];
      run.summary = show(`parent ${parent.key}`);
      run.report();
    });
    if (batch.nextAfter === null) break;
    after = batch.nextAfter;
  }
  const done = await run.finish('completed');
  run.summary = { ...done, childOf };
  run.report();
  return run.summary;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight (deterministic: workflow promises only). When one
 * fails, no further item starts, the others in flight are cancelled and awaited (so each child run closes
 * its row as cancelled), and then the first failure is thrown.
 */
async function childrenOf<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const scope = new CancellationScope();
  const lane = async () => {
    while (next < items.length && !failure) {
      try {
        await scope.run(() => fn(items[next++]!));
      } catch (error) {
        if (failure) continue;
        failure = { error };
        scope.cancel();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}
