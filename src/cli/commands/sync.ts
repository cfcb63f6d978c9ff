/** `syncwright sync`, `runs`, `run` and `records`: starting syncs and reading what they did. */
import type { RunStatus } from '../../store/run-types.js';
import { listRuns } from '../../store/runs.js';
import type { SyncKind } from '../../sync/types.js';
import { startSync, syncHandle, syncProgress } from '../../temporal/sync-client.js';
import { openDatabase, openTemporal, UsageError, type CliContext } from '../context.js';
import { failureLine, failureOf } from '../failures.js';
import { linesOr, print, recordLine, runLine } from '../output.js';
import { createProgressDisplay } from '../progress-display.js';
import { readRecords } from '../records.js';
import { specsFor, syncInput } from './shared.js';

export async function syncCommand(
  ctx: CliContext,
  integration: string,
  resource: string,
  opts: { connection: string; mode: SyncKind; wait?: boolean; specs?: string },
): Promise<void> {
  const specs = await specsFor(ctx, opts.specs);
  const input = syncInput(specs, integration, resource, opts.connection, opts.mode);
  const { client, taskQueue, uiUrl } = await openTemporal(ctx);
  const handle = await startSync(client, input, { taskQueue });
  const link = uiUrl
    ? `${uiUrl}/namespaces/${ctx.config.temporal.namespace}/workflows/${encodeURIComponent(handle.workflowId)}`
    : undefined;
  if (!opts.wait) {
    print(ctx, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, ui: link ?? null }, () => [
      `started ${handle.workflowId} (run ${handle.firstExecutionRunId})`,
      ...(link ? [`  ${link}`] : []),
    ]);
    return;
  }
  const started = Date.now();
  const display = ctx.json
    ? undefined
    : createProgressDisplay({ tty: Boolean(process.stdout.isTTY), out: (line) => ctx.out(line) });
  const timer = setInterval(() => {
    syncProgress(handle)
      .then((p) => display?.update(p))
      .catch(() => undefined);
  }, 1000);
  try {
    const r = await handle.result().catch((error: unknown) => {
      display?.stop();
      // The run's own typed error, not Temporal's "Workflow execution failed".
      throw new UsageError(failureLine(failureOf(error)), { cause: error });
    });
    clearInterval(timer);
    display?.stop();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    print(
      ctx,
      { workflowId: handle.workflowId, ...r, durationSeconds: Number(seconds), ui: link ?? null },
      () => [
        `${r.status}: inserted ${r.inserted}, updated ${r.updated}, unchanged ${r.unchanged}, deleted ${r.deleted}, quarantined ${r.quarantined}`,
        `${r.pages} pages, ${r.fetched} records in ${seconds}s — workflow ${handle.workflowId}`,
        ...(link ? [`  ${link}`] : []),
      ],
    );
  } finally {
    clearInterval(timer);
  }
}

export async function runsCommand(
  ctx: CliContext,
  opts: { integration?: string; status?: RunStatus; limit: number },
): Promise<void> {
  const db = await openDatabase(ctx);
  const runs = await listRuns(db, {
    ...(opts.integration ? { integration: opts.integration } : {}),
    ...(opts.status ? { status: opts.status } : {}),
    limit: opts.limit,
  });
  print(
    ctx,
    runs.map(({ checkpoint: _c, ...r }) => r),
    () => linesOr(runs, runLine, 'no runs'),
  );
}

export async function runCommand(ctx: CliContext, workflowId: string): Promise<void> {
  const { client } = await openTemporal(ctx);
  const handle = syncHandle(client, workflowId);
  const d = await handle.describe();
  const progress = d.status.name === 'RUNNING' ? await syncProgress(handle) : undefined;
  const result = d.status.name === 'COMPLETED' ? await handle.result() : undefined;
  const error = ['FAILED', 'TIMED_OUT', 'TERMINATED'].includes(d.status.name)
    ? await handle.result().then(
        () => undefined,
        (e: unknown) => failureOf(e),
      )
    : undefined;
  const out = {
    workflowId,
    runId: d.runId,
    status: d.status.name,
    started: d.startTime,
    closed: d.closeTime ?? null,
    progress,
    result,
    error: error ?? null,
  };
  print(ctx, out, () => [
    `${workflowId}  ${d.status.name}  started ${d.startTime.toISOString()}${d.closeTime ? `, closed ${d.closeTime.toISOString()}` : ''}`,
    ...(progress ? [`  progress: ${JSON.stringify(progress)}`] : []),
    ...(result ? [`  result: ${JSON.stringify(result)}`] : []),
    ...(error ? [`  error: ${failureLine(error)}`] : []),
  ]);
}

export async function recordsCommand(
  ctx: CliContext,
  integration: string,
  resource: string,
  opts: { connection: string; limit: number; all?: boolean; includeDeleted?: boolean },
): Promise<void> {
  const db = await openDatabase(ctx);
  const includeDeleted = Boolean(opts.includeDeleted);
  const { rows, total } = await readRecords(
    db,
    { integration, connection: opts.connection, resource },
    { limit: opts.all ? null : opts.limit, includeDeleted },
  );
  print(
    ctx,
    rows.map((r) => r.data),
    () => linesOr(rows, recordLine, 'no records'),
  );
  // On stderr, so the records on stdout stay whole for a pipe.
  if (rows.length < total)
    ctx.note(
      `showing ${rows.length} of ${total} records${includeDeleted ? ' (deleted included)' : ''}: --all for every one, --limit <n> for more`,
    );
}
