/**
 * `syncwright status`: one screen of what an operator needs — connections, each resource's freshness,
 * failing runs, the next scheduled runs, the webhook inbox and rate-budget use. `--stale 1h` fails
 * (exit 1) when a resource's last successful sync is older, for cron and monitoring.
 */
import type { IntegrationSpec } from '../../spec/schema.js';
import { listConnections } from '../../store/connections.js';
import type { Db } from '../../store/db.js';
import { inboxBacklog, rateUse, resourceFreshness, type InboxBacklog } from '../../store/status.js';
import { syncWorkflowId } from '../../sync/types.js';
import { listSyncSchedules, type ScheduleListing } from '../../temporal/sync-client.js';
import type { Client } from '@temporalio/client';
import { openDatabase, openTemporal, UsageError, type CliContext } from '../context.js';
import { print } from '../output.js';
import { specsFor } from './shared.js';

export interface ResourceStatus {
  integration: string;
  connection: string;
  resource: string;
  lastSuccessAt: string | null;
  ageSeconds: number | null;
  /** Older than --stale, or never completed (only with --stale). */
  stale: boolean;
  latestStatus: string;
  latestWorkflowId: string | null;
  /** The latest run's error when it failed. */
  error: string | null;
  nextRunAt: string | null;
  schedules: string[];
}

export interface StatusReport {
  at: string;
  connections: { integration: string; id: string; createdAt: string }[];
  resources: ResourceStatus[];
  failing: { workflowId: string; target: string; endedAt: string | null; error: string }[];
  schedules: { id: string; paused: boolean; nextRunAt: string | null }[];
  inbox: InboxBacklog;
  rate: {
    connection: string;
    admittedLastMinute: number;
    /** The tightest declared limit, per minute; null without declared limits (or specs not loaded). */
    limitPerMinute: number | null;
    usePercent: number | null;
    providerBlocksLastHour: number;
    blockedUntil: string | null;
  }[];
  staleAfterSeconds: number | null;
  stale: string[];
}

/** "90s", "15m", "1h", "2d" or plain seconds → seconds. */
export function parseAge(text: string, option = '--stale'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} "${text}": expected a duration such as 90s, 15m, 1h or 2d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** The tightest declared limit of a spec as requests per minute. */
function perMinute(spec: IntegrationSpec | undefined): number | null {
  if (!spec?.rateLimits.length) return null;
  return Math.min(...spec.rateLimits.map((r) => (r.limit * 60_000) / r.intervalMs));
}

export async function collectStatus(
  db: Db,
  client: Client,
  specs: Map<string, IntegrationSpec> | undefined,
  staleAfterSeconds: number | null,
): Promise<StatusReport> {
  const [connections, fresh, inbox, rate, schedules] = await Promise.all([
    listConnections(db),
    resourceFreshness(db),
    inboxBacklog(db),
    rateUse(db),
    listSyncSchedules(client),
  ]);
  const byTarget = new Map<string, ResourceStatus>();
  const key = (i: string, c: string, r: string) =>
    syncWorkflowId({ integration: i, connection: c, resource: r });
  for (const f of fresh) {
    byTarget.set(key(f.integration, f.connection, f.resource), {
      integration: f.integration,
      connection: f.connection,
      resource: f.resource,
      lastSuccessAt: f.lastSuccessAt?.toISOString() ?? null,
      ageSeconds: f.ageSeconds,
      stale: false,
      latestStatus: f.latest.status,
      latestWorkflowId: f.latest.workflowId,
      error: f.latest.status === 'failed' ? f.latest.error : null,
      nextRunAt: null,
      schedules: [],
    });
  }
  for (const s of schedules) attachSchedule(byTarget, s);
  const resources = [...byTarget.values()].sort((a, b) =>
    `${a.integration}/${a.connection}/${a.resource}`.localeCompare(
      `${b.integration}/${b.connection}/${b.resource}`,
    ),
  );
  const stale: string[] = [];
  if (staleAfterSeconds !== null) {
    for (const r of resources) {
      r.stale = r.ageSeconds === null || r.ageSeconds > staleAfterSeconds;
      if (r.stale) stale.push(`${r.integration}/${r.connection}/${r.resource}`);
    }
  }
  return {
    at: new Date().toISOString(),
    connections: connections.map((c) => ({
      integration: c.integration,
      id: c.id,
      createdAt: c.createdAt.toISOString(),
    })),
    resources,
    failing: fresh
      .filter((f) => f.latest.status === 'failed')
      .map((f) => ({
        workflowId: f.latest.workflowId,
        target: `${f.integration}/${f.connection}/${f.resource}`,
        endedAt: f.latest.endedAt?.toISOString() ?? null,
        error: f.latest.error ?? 'failed (no message)',
      })),
    schedules: schedules.map((s) => ({
      id: s.id,
      paused: s.paused,
      nextRunAt: s.paused ? null : (s.nextActionTimes[0]?.toISOString() ?? null),
    })),
    inbox,
    rate: rate.map((r) => {
      const limit = perMinute(specs?.get(r.connectionKey.split(':')[0] ?? ''));
      return {
        connection: r.connectionKey,
        admittedLastMinute: r.admittedLastMinute,
        limitPerMinute: limit === null ? null : Math.round(limit),
        usePercent: limit ? Math.round((r.admittedLastMinute / limit) * 100) : null,
        providerBlocksLastHour: r.providerBlocksLastHour,
        blockedUntil: r.blockedUntil?.toISOString() ?? null,
      };
    }),
    staleAfterSeconds,
    stale,
  };
}

/** Schedule ids are `<sync workflow id>:<kind>` (sync-client.ts scheduleId). */
function attachSchedule(byTarget: Map<string, ResourceStatus>, s: ScheduleListing): void {
  const m = /^sync:([^:]+):(.+):([^:]+):(full|incremental)$/.exec(s.id);
  if (!m) return;
  const [, integration, connection, resource] = m as unknown as [string, string, string, string];
  const id = syncWorkflowId({ integration, connection, resource });
  let r = byTarget.get(id);
  if (!r) {
    r = {
      integration,
      connection,
      resource,
      lastSuccessAt: null,
      ageSeconds: null,
      stale: false,
      latestStatus: 'never run',
      latestWorkflowId: null,
      error: null,
      nextRunAt: null,
      schedules: [],
    };
    byTarget.set(id, r);
  }
  r.schedules.push(s.id);
  const next = s.paused ? undefined : s.nextActionTimes[0];
  if (next && (!r.nextRunAt || next.toISOString() < r.nextRunAt)) r.nextRunAt = next.toISOString();
}

export function age(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

export function statusLines(s: StatusReport): string[] {
  const lines = [`Syncwright status at ${s.at}`, ''];
  lines.push(`Connections (${s.connections.length})`);
  for (const c of s.connections) lines.push(`  ${c.integration}/${c.id}`);
  if (!s.connections.length) lines.push('  none');
  lines.push('', 'Resources (last successful sync)');
  for (const r of s.resources) {
    const flag = r.stale ? '  STALE' : '';
    const next = r.nextRunAt ? `  next ${r.nextRunAt}` : '';
    lines.push(
      `  ${r.integration}/${r.connection}/${r.resource}  ${age(r.ageSeconds)}${r.lastSuccessAt ? ` (${r.lastSuccessAt})` : ''}  latest ${r.latestStatus}${next}${flag}`,
    );
  }
  if (!s.resources.length) lines.push('  none synced yet');
  lines.push('', `Failing (${s.failing.length})`);
  for (const f of s.failing)
    lines.push(`  ${f.target}  ${f.workflowId}  ${f.endedAt ?? ''}  error: ${f.error}`);
  lines.push('', 'Schedules');
  for (const sc of s.schedules)
    lines.push(`  ${sc.id}  ${sc.paused ? 'paused' : `next ${sc.nextRunAt ?? '-'}`}`);
  if (!s.schedules.length) lines.push('  none');
  const b = s.inbox.byStatus;
  lines.push(
    '',
    `Webhook inbox: backlog ${s.inbox.backlog}${s.inbox.oldestWaitingSeconds !== null ? ` (oldest ${s.inbox.oldestWaitingSeconds}s)` : ''}, failed ${b.failed}, processed ${b.processed}, ignored ${b.ignored}`,
    '',
    'Rate budget (last minute)',
  );
  for (const r of s.rate) {
    const of = r.limitPerMinute !== null ? ` of ${r.limitPerMinute}/min (${r.usePercent}%)` : '';
    const blocked = r.blockedUntil ? `, blocked by the provider until ${r.blockedUntil}` : '';
    lines.push(
      `  ${r.connection}  ${r.admittedLastMinute}${of}, ${r.providerBlocksLastHour} provider blocks in the last hour${blocked}`,
    );
  }
  if (!s.rate.length) lines.push('  no requests in the last hour');
  if (s.staleAfterSeconds !== null)
    lines.push(
      '',
      s.stale.length ? `Stale: ${s.stale.join(', ')}` : `Nothing older than ${s.staleAfterSeconds}s`,
    );
  return lines;
}

export async function statusCommand(
  ctx: CliContext,
  opts: { stale?: string; watch?: boolean | string; specs?: string },
): Promise<void> {
  const staleAfter = opts.stale !== undefined ? parseAge(opts.stale) : null;
  const db = await openDatabase(ctx, 2);
  const { client } = await openTemporal(ctx);
  // Specs only add the declared limits to the rate lines: status works without them.
  const specs = await specsFor(ctx, opts.specs).catch(() => undefined);
  const once = () => collectStatus(db, client, specs, staleAfter);
  if (opts.watch) {
    const everyS = opts.watch === true ? 2 : parseAge(opts.watch, '--watch');
    const tty = Boolean(process.stdout.isTTY) && !ctx.json;
    for (;;) {
      const s = await once();
      if (tty) process.stdout.write('\x1b[2J\x1b[H');
      print(ctx, s, () => statusLines(s));
      const stopped = await Promise.race([
        ctx.scope.untilSignal().then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), everyS * 1000).unref()),
      ]);
      if (stopped) return;
    }
  }
  const s = await once();
  print(ctx, s, () => statusLines(s));
  if (s.stale.length)
    throw new UsageError(
      `${s.stale.length} resource(s) without a successful sync in the last ${opts.stale}: ${s.stale.join(', ')}`,
    );
}
