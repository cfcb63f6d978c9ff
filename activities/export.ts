/**
 * The short activities of an export job: submit it, poll its status once, cancel it. The waits between
 * polls are durable timers in the workflow (workflows/export-run.ts); no activity sleeps. The job lives
 * in the run's checkpoint, so a retried submit finds the job it already submitted; the download is the
 * ordinary page activity (syncPages) over the export page source.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { lookupResource } from '../src/spec/registry.js';
import { getRun, setRunCheckpoint, type SyncRun } from '../src/store/runs.js';
import type { OpenConnectionClient } from '../src/sync/connection-client.js';
import type { EngineDeps } from '../src/sync/deps.js';
import type { ExportPoll } from '../src/sync/export-poll.js';
import {
  createExportSteps,
  exportCheckpointOf,
  type ExportCheckpoint,
  type ExportSteps,
} from '../src/sync/export-steps.js';
import { timeZoneFor } from '../src/sync/spec-page-source.js';
import { ACTIVITY_FAILURE } from './failure-types.js';
import { toFailure } from './failures.js';

export interface ExportActivityDeps extends Pick<EngineDeps, 'db' | 'specs'> {
  openClient: OpenConnectionClient;
}

export function createExportActivities({ db, specs, openClient }: ExportActivityDeps) {
  async function stepsOf(runId: string): Promise<{ run: SyncRun; steps: ExportSteps }> {
    const run = await getRun(db, runId);
    if (!run)
      throw ApplicationFailure.create({
        type: ACTIVITY_FAILURE.runNotFound,
        message: `no sync run ${runId}`,
        nonRetryable: true,
      });
    const { spec, resource } = lookupResource(specs, run.integration, run.resource);
    if (!resource.export)
      throw ApplicationFailure.create({
        type: ACTIVITY_FAILURE.configuration,
        message: `resources.${run.resource} of ${run.integration} has no export section`,
        nonRetryable: true,
      });
    const client = await openClient(run.integration, run.connection);
    const fill = { timeZone: timeZoneFor(spec, resource, client.config, run) };
    return { run, steps: createExportSteps({ run, spec, resource, exp: resource.export, client, fill }) };
  }

  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (error) {
        throw toFailure(error);
      }
    };

  return {
    /**
     * Submits the run's export job, unless its checkpoint names one already (a retry, a restarted
     * worker): then that job is returned. `replace` names a job that expired: a new one is submitted
     * in its place.
     */
    exportSubmit: guarded(async (input: { runId: string; replace?: string }): Promise<{ jobId: string }> => {
      const { run, steps } = await stepsOf(input.runId);
      const current = exportCheckpointOf(run.checkpoint);
      if (current && current.export.jobId !== input.replace) return { jobId: current.export.jobId };
      const { jobId, window } = await steps.submit(Context.current().cancellationSignal);
      const checkpoint: ExportCheckpoint = {
        label: `job ${jobId} submitted`,
        window,
        export: {
          jobId,
          phase: 'poll',
          expected: null,
          file: 0,
          files: null,
          locator: null,
          skip: 0,
          parsed: 0,
        },
      };
      if (await setRunCheckpoint(db, run.id, run.checkpoint, checkpoint)) return { jobId };
      // Another attempt wrote first: its job is the run's (this one is left to expire).
      const now = exportCheckpointOf((await getRun(db, run.id))?.checkpoint);
      if (!now) throw new Error(`run ${run.id} is no longer running`);
      return { jobId: now.export.jobId };
    }),

    /**
     * Polls the job once. A completed job's reported record count is written to the checkpoint, which
     * moves to the download (once: a download under way is not reset).
     */
    exportPoll: guarded(async (input: { runId: string }): Promise<ExportPoll> => {
      const { run, steps } = await stepsOf(input.runId);
      const cp = exportCheckpointOf(run.checkpoint);
      if (!cp) throw new Error(`run ${run.id}: no export job to poll`);
      const { poll } = await steps.status(cp.export.jobId, cp.window, Context.current().cancellationSignal);
      if (poll.state === 'completed' && cp.export.phase === 'poll') {
        const next: ExportCheckpoint = {
          ...cp,
          label: `job ${cp.export.jobId} ${poll.providerState}, downloading`,
          export: { ...cp.export, phase: 'download', expected: poll.records },
        };
        await setRunCheckpoint(db, run.id, run.checkpoint, next, poll.records);
      }
      return poll;
    }),

    /** Asks the provider to cancel the run's job; never fails the run's closing (the answer says why not). */
    async exportCancel(input: { runId: string }): Promise<{ cancelled: boolean; message: string }> {
      try {
        const { run, steps } = await stepsOf(input.runId);
        const cp = exportCheckpointOf(run.checkpoint);
        if (!cp || cp.export.phase === 'done') return { cancelled: false, message: 'no job in progress' };
        const sent = await steps.cancel(cp.export.jobId, cp.window, Context.current().cancellationSignal);
        return sent
          ? { cancelled: true, message: `cancel of job ${cp.export.jobId} sent` }
          : { cancelled: false, message: 'the spec has no export.cancel request' };
      } catch (error) {
        return { cancelled: false, message: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
