/** Pure progress arithmetic for the sync workflow's query and the Temporal UI's current details. */
import type { RunSummary, SyncTarget } from '../src/sync/types.js';
import type { SyncProgress, WaitingNotice } from './definitions.js';

const WAITING_ON: Record<WaitingNotice['on'], string> = {
  'rate-limit': 'the rate budget',
  concurrency: 'a concurrent-request slot',
  'retry-after': "the provider's Retry-After",
};

/** "waiting: on the rate budget for about 12s — <reason>" for the current details. */
export function waitingLine(w: WaitingNotice, nowMs: number): string {
  const s = Math.max(0, Math.ceil((w.untilMs - nowMs) / 1000));
  return `waiting: on **${WAITING_ON[w.on]}**${s > 0 ? ` for about ${s}s` : ''} — ${w.reason}`;
}

export function progressOf(
  runId: string,
  s: RunSummary | undefined,
  paused: boolean,
  startedAtMs: number,
  nowMs: number,
): SyncProgress {
  const records = s?.fetched ?? 0;
  const seconds = Math.max((nowMs - startedAtMs) / 1000, 0.001);
  const ratePerSecond = Math.round((records / seconds) * 10) / 10;
  const total = s?.total ?? null;
  const etaSeconds =
    total !== null && ratePerSecond > 0 && s?.status === 'running'
      ? Math.max(0, Math.round((total - records) / ratePerSecond))
      : null;
  return {
    runId,
    status: paused && (s?.status ?? 'running') === 'running' ? 'paused' : (s?.status ?? 'running'),
    pages: s?.pages ?? 0,
    records,
    inserted: s?.inserted ?? 0,
    updated: s?.updated ?? 0,
    unchanged: s?.unchanged ?? 0,
    deleted: s?.deleted ?? 0,
    quarantined: s?.quarantined ?? 0,
    cursor: s?.cursor ?? null,
    total,
    ratePerSecond,
    etaSeconds,
  };
}

/** Markdown for the Temporal UI's "current details" of the run. */
export function progressDetails(t: SyncTarget, p: SyncProgress, waiting?: string): string {
  const total = p.total !== null ? ` of ${p.total}` : '';
  const eta = p.etaSeconds !== null ? `, about ${p.etaSeconds}s left` : '';
  return [
    `**${t.integration} / ${t.connection} / ${t.resource}** — ${p.status}`,
    `${p.pages} pages, ${p.records}${total} records (${p.ratePerSecond}/s${eta})`,
    `inserted ${p.inserted}, updated ${p.updated}, unchanged ${p.unchanged}, deleted ${p.deleted}, quarantined ${p.quarantined}`,
    p.cursor ? `cursor: \`${p.cursor}\`` : '',
    waiting ?? '',
  ]
    .filter(Boolean)
    .join('\n\n');
}
