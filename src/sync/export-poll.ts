/**
 * What the export workflow and its activities exchange, and the pure polling arithmetic. Import-free:
 * workflows use it (no Node built-ins may reach the workflow sandbox).
 */

/** Failure types of export jobs (activities/failure-types.ts lists them as not retryable). */
export const EXPORT_FAILURE = {
  /** The records downloaded are not the records the provider said the job produced. */
  incomplete: 'ExportIncomplete',
  /** The job or its results are gone at the provider: the workflow submits the job again. */
  expired: 'ExportJobExpired',
  /** The provider says the job failed (its message is in the failure). */
  failed: 'ExportJobFailed',
  /** The provider refused the job when it was submitted. */
  refused: 'ExportJobRefused',
  /** The job did not finish within the spec's status timeoutSeconds. */
  timedOut: 'ExportJobTimedOut',
} as const;

/** The engine's job states; a provider's own state names are mapped onto them (spec export.status.states). */
export type ExportJobState = 'pending' | 'running' | 'completed' | 'failed' | 'expired';

/** One poll of the job's status: no URLs (they may be signed), no records. */
export interface ExportPoll {
  jobId: string;
  state: ExportJobState;
  /** The provider's own state name, for the operator. */
  providerState: string;
  /** Records the provider says the job produced, when it says so. */
  records: number | null;
  /** The provider's explanation of a failed job. */
  message: string | null;
  /** A wait the provider suggests before the next poll (Retry-After or a field), if any. */
  suggestedMs: number | null;
  /** The spec's polling interval settings, in milliseconds. */
  interval: PollInterval;
  /** Give up after this long without a finished job. */
  timeoutMs: number;
}

export interface PollInterval {
  initialMs: number;
  minMs: number;
  maxMs: number;
  backoff: number;
}

/**
 * The wait before the next poll: the provider's suggestion when it gives one (clamped to min/max), else
 * the previous wait grown by the back-off factor (the first wait is `initialMs`), at most `maxMs`.
 */
export function nextPollDelay(
  interval: PollInterval,
  previousMs: number | null,
  suggestedMs: number | null,
): number {
  const clamp = (ms: number) => Math.min(interval.maxMs, Math.max(interval.minMs, ms));
  if (suggestedMs !== null && Number.isFinite(suggestedMs)) return clamp(suggestedMs);
  return clamp(previousMs === null ? interval.initialMs : previousMs * interval.backoff);
}

/** The export part of a run that continues as new: the job and where the workflow was with it. */
export interface ExportCarry {
  jobId: string | null;
  phase: 'submit' | 'poll' | 'download';
  /** The last poll's wait, for the back-off. */
  delayMs: number | null;
  polls: number;
  submits: number;
  providerState: string | null;
  /** When the current job was submitted (workflow time, ms), for the status timeout. */
  submittedAtMs: number | null;
}

export function freshExport(): ExportCarry {
  return {
    jobId: null,
    phase: 'submit',
    delayMs: null,
    polls: 0,
    submits: 0,
    providerState: null,
    submittedAtMs: null,
  };
}

/** The line of the run's current details that says where the export stands. */
export function exportLine(e: ExportCarry, nextPollInS: number | null): string {
  if (e.jobId === null)
    return `export: submitting the job${e.submits > 0 ? ` again (submit ${e.submits + 1})` : ''}`;
  const job = `export job \`${e.jobId}\``;
  if (e.phase === 'download') return `${job}: ${e.providerState ?? 'completed'} — downloading its results`;
  const next = nextPollInS !== null ? `, next poll in ${nextPollInS}s` : '';
  return `${job}: ${e.providerState ?? 'submitted'} after ${e.polls} poll${e.polls === 1 ? '' : 's'}${next}`;
}
