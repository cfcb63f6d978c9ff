/**
 * The one line a failed run deserves: the run's own typed error, found by following the cause chain
 * past Temporal's wrappers ("Workflow execution failed", "Activity task failed").
 */
import { ApplicationFailure } from '@temporalio/common';

const WRAPPERS = /^(workflow execution failed|activity task failed|child workflow execution failed)$/i;

export interface FailureSummary {
  type: string | null;
  message: string;
}

/** The first typed failure in the chain (the run's own), else the deepest message that is not a wrapper. */
export function failureOf(error: unknown): FailureSummary {
  let deepest: FailureSummary | undefined;
  const seen = new Set<unknown>();
  for (let e: unknown = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if (e instanceof ApplicationFailure && e.message) return { type: e.type ?? null, message: e.message };
    if (!WRAPPERS.test(e.message)) deepest = { type: null, message: e.message };
  }
  return deepest ?? { type: null, message: error instanceof Error ? error.message : String(error) };
}

export const failureLine = (f: FailureSummary): string => (f.type ? `${f.message} (${f.type})` : f.message);
