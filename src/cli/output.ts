/**
 * How commands show what they did: JSON (--json) or lines for people, and the one-line forms of
 * connections, runs, records, schedules and webhook events. The live progress of `sync --wait` is in
 * progress-display.ts.
 */
import type { ConnectionInfo } from '../store/connections.js';
import type { SyncRun } from '../store/runs.js';
import type { ScheduleListing } from '../temporal/sync-client.js';
import type { EventSummary } from '../webhooks/inbox-queries.js';
import type { CliContext } from './context.js';
import type { RecordPage } from './records.js';

/** With --json the value, pretty-printed; otherwise the human lines. */
export function print(ctx: CliContext, value: unknown, human: () => string[]): void {
  if (ctx.json) ctx.out(JSON.stringify(value, null, 2));
  else for (const line of human()) ctx.out(line);
}

/** The lines of a list, or one line saying it is empty. */
export const linesOr = <T>(items: readonly T[], line: (item: T) => string, empty: string): string[] =>
  items.length ? items.map(line) : [empty];

export const connectionLine = (c: ConnectionInfo) =>
  `${c.integration}/${c.id}  config ${JSON.stringify(c.config)}  secrets ${c.hasSecrets ? 'set' : 'none'}` +
  (c.account !== null ? `  account ${c.account}` : '');

export const runLine = (r: SyncRun) =>
  `${r.startedAt.toISOString()}  ${r.status.padEnd(9)} ${r.kind.padEnd(11)} ${r.integration}/${r.connection}/${r.resource}  ` +
  `pages ${r.pages}, +${r.inserted} ~${r.updated} =${r.unchanged} -${r.deleted} !${r.quarantined}  ${r.workflowId}${r.error ? `  error: ${r.error}` : ''}`;

export const recordLine = (r: RecordPage['rows'][number]) =>
  `${r.key}\t${JSON.stringify(r.data)}${r.deletedAt ? `\tdeleted ${r.deletedAt.toISOString()}` : ''}`;

export const scheduleLine = (s: ScheduleListing) =>
  `${s.id}  ${s.paused ? 'paused' : 'active'}  next ${s.nextActionTimes[0]?.toISOString() ?? '-'}${s.note ? `  (${s.note})` : ''}`;

export const eventLine = (e: EventSummary) =>
  `${String(e.id).padStart(6)}  ${e.status.padEnd(10)} ${e.integration}/${e.connection}  ${e.eventType}  ${e.eventId}` +
  (e.entityKey ? `  ${e.resource} ${e.entityKey}` : '') +
  (e.result && e.result !== e.status ? `  (${e.result})` : '') +
  (e.error ? `  error: ${e.error}` : '');
