/**
 * What crosses the workflow boundary for a sync: ids, small pagination state and counts — never
 * records, never secrets. Pure types, shared by workflows, activities and clients.
 */

import type { RunCounts, RunStatus, SyncKind } from '../store/run-types.js';
import type { ExportCarry } from './export-poll.js';

export type { RunCounts, RunStatus, SyncKind } from '../store/run-types.js';
export { noCounts } from '../store/run-types.js';

export interface SyncTarget {
  integration: string;
  connection: string;
  resource: string;
}

/** Retry settings of an integration (from its spec), applied to the sync activities. */
export interface RetrySettings {
  maxAttempts: number;
  initialIntervalMs: number;
  maxIntervalMs: number;
}

export interface SyncWorkflowInput extends SyncTarget {
  kind: SyncKind;
  /** Pages one activity call fetches and commits before reporting back (default 10). */
  pagesPerActivity?: number;
  /** Child resources: child runs (one per parent record) in flight at once (default 4). */
  childConcurrency?: number;
  /** Pages after which the workflow continues as new even if Temporal does not suggest it yet. */
  pagesPerExecution?: number;
  retry?: RetrySettings;
  /**
   * How soon a worker that died mid-page is noticed and the page retried elsewhere (default 10 s). The
   * activity heartbeats every third of it, also while a request is in flight, so it may be shorter than
   * the spec's request timeout.
   */
  heartbeatTimeoutMs?: number;
  /** Child resources: the parent record this run syncs the children of (set by the coordinating run). */
  parent?: ParentRef;
  /** Set when continuing as new: the run this execution carries on. */
  carry?: {
    runId: string;
    startedAtMs: number;
    paused: boolean;
    /** Coordinating runs of child resources: the parent resource, the last parent key done, the totals so far. */
    childOf?: string | null;
    parentAfter?: string | null;
    totals?: RunCounts;
    /** Export runs: the job and where the workflow was with it. */
    export?: ExportCarry;
  };
}

export interface ParentRef {
  key: string;
  /** Path placeholder → value from the parent record, e.g. { repo: "syncwright" } for {parent.repo}. */
  params: Record<string, string>;
}

export interface ParentBatch {
  parents: ParentRef[];
  /** Key to continue after, or null when this was the last batch. */
  nextAfter: string | null;
  /** Parent records without a value for a path param (skipped). */
  skipped: number;
}

export interface StartRunInput extends SyncTarget {
  runId: string;
  workflowId: string;
  kind: SyncKind;
  parent?: ParentRef;
}

export interface RunSummary extends RunCounts {
  runId: string;
  status: RunStatus;
  /** Records the provider says exist, when it says so (for ETA). */
  total: number | null;
  /** Short human form of the current pagination position. */
  cursor: string | null;
  done: boolean;
  error: string | null;
  /** Set when the resource is a child of another and this run coordinates one child run per parent record. */
  childOf: string | null;
  /** Set when the resource is an export (spec `export`): the run submits a job, polls it, downloads it. */
  export?: true;
}

export interface SyncPagesInput {
  runId: string;
  maxPages: number;
  /** Start no page after this long (the call then reports back); unbounded when absent. */
  maxMs?: number;
  /**
   * Creates the run row first (as startSyncRun does) and pages only when the resource has no parent:
   * a run's first activity then also starts it.
   */
  start?: StartRunInput;
  /** Closes the run as completed (as finishSyncRun does) when its last page is committed. */
  finish?: boolean;
}

/** `sync:<integration>:<connection>:<resource>`: one live run per resource of a connection. */
export function syncWorkflowId(t: SyncTarget): string {
  return `sync:${t.integration}:${t.connection}:${t.resource}`;
}
