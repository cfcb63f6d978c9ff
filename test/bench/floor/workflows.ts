/**
 * The fan-out benchmark's floor: a workflow of three no-op activities in a row, the least a sync run
 * could cost on the same Temporal server (start, one page, finish). Bundled only by the benchmark.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { FloorActivities } from './activities.js';

const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

export async function floorWorkflow(): Promise<number> {
  await noop();
  await noop();
  await noop();
  return 3;
}
