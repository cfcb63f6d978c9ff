/**
 * What a sync run is, in words both the store and the workflows use: its status and its counts.
 * Import-free, so workflow code may import it.
 */

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';
export type SyncKind = 'full' | 'incremental';

export interface RunCounts {
  pages: number;
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  quarantined: number;
}

/** Counts of a run that has done nothing yet. */
export function noCounts(): RunCounts {
  return { pages: 0, fetched: 0, inserted: 0, updated: 0, unchanged: 0, deleted: 0, quarantined: 0 };
}
