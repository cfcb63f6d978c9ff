/** Signals and queries shared by workflows and the clients that send or ask them. */
import { defineQuery } from '@temporalio/workflow';

export interface SyncProgress {
  pages: number;
  records: number;
  status: 'running' | 'completed';
}

export const progressQuery = defineQuery<SyncProgress>('progress');
