/** Records and page commits for tests of the runs store (commitPage). */
import type { KeyedRecord } from '../../src/store/records.js';
import type { PageCommit } from '../../src/store/runs.js';

/** Records keyed "from" … "to", each `{ id, ...extra }`. */
export const recordRange = (from: number, to: number, extra: Record<string, unknown> = {}): KeyedRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    key: String(from + i),
    data: { id: from + i, ...extra },
  }));

/** The commit of page `expectedPages + 1` of a run (records 1–3 unless given), tracking seen keys. */
export function pageCommit(
  runId: string,
  expectedPages: number,
  records: KeyedRecord[] = recordRange(1, 3),
  over: Partial<PageCommit> = {},
): PageCommit {
  return {
    runId,
    expectedPages,
    checkpoint: { next: expectedPages + 1 },
    done: false,
    total: null,
    highWater: null,
    fetched: records.length,
    records,
    quarantined: [],
    trackSeen: true,
    ...over,
  };
}
