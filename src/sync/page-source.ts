/**
 * What the sync activities need from "the provider side": read the page after a checkpoint. The real
 * implementation (spec + connection + auth + rate ledger + HTTP + pagination + mapping) lives in
 * spec-page-source.ts; tests may pass their own.
 */
import { maxOrderValue } from '../order/order-key.js';
import type { KeyedRecord } from '../store/records.js';
import type { QuarantinedRecord, SyncRun } from '../store/runs.js';

export interface PageRequest {
  /** Pagination state after the last committed page; null for the first page. */
  checkpoint: unknown;
  /** Pages committed so far in this run. */
  pagesSoFar: number;
  /** Incremental runs: only records changed since this cursor value (lookback already applied by the source). */
  since: string | null;
  signal: AbortSignal;
  /** Called while waiting (rate limits) so the activity can heartbeat. */
  onWait?: (waitMs: number, reason: string) => void;
}

export interface Page {
  records: KeyedRecord[];
  quarantined: QuarantinedRecord[];
  /** Records the provider returned on this page (valid + quarantined). */
  fetched: number;
  checkpoint: unknown;
  done: boolean;
  total: number | null;
  /** Highest incremental cursor value on this page, if the resource is incremental. */
  highWater: string | null;
  /** Keys of records whose content says they are deleted (the resource's deletedWhen). */
  deletedKeys?: string[];
}

export interface PageSource {
  readPage(request: PageRequest): Promise<Page>;
}

/** Builds the page source of a run (spec lookup, connection secrets, auth). */
export type OpenPageSource = (run: SyncRun) => Promise<PageSource>;

/**
 * The later of two incremental cursor values: numbers as numbers, timestamps as instants (the shared
 * order comparison); values of different kinds throw OrderKindMismatchError.
 */
export const maxCursor = maxOrderValue;
