import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SyncInput, SyncResult } from '../src/sync/types.js';
import { progressQuery, type SyncProgress } from './definitions.js';

// Kept in sync with FAILURE_TYPE in src/http/errors.ts; a workflow may not import that module's Node deps.
const NON_RETRYABLE = ['AuthError', 'ClientError', 'DecodeError', 'SpecError'];

const { syncPage } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
  summary: 'fetch a page and upsert its records',
});

/** Syncs a resource of a connection into the records table. Records stay out of history; only counts return. */
export async function syncResource(input: SyncInput): Promise<SyncResult> {
  const progress: SyncProgress = { pages: 0, records: 0, status: 'running' };
  setHandler(progressQuery, () => progress);
  const counts = await syncPage(input);
  progress.pages = 1;
  progress.records = counts.fetched;
  progress.status = 'completed';
  return { pages: 1, ...counts };
}
