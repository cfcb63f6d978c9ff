/**
 * What the bulk-export simulators share (salesforce-bulk.ts, shopify-bulk.ts): a generated dataset of
 * any size, produced lazily in slices so a million-record file streams with flat memory; the faults an
 * export job can meet; and writing a result body with backpressure, optionally gzip or cut off.
 */
import type http from 'node:http';
import { once } from 'node:events';
import zlib from 'node:zlib';

/** Faults an export job can meet; set at start or later with `faults(...)`. */
export interface BulkFaults {
  /** Polls the job answers pending/running before it completes (a slow job); default 1. */
  slowPolls?: number;
  /** The job fails: its status says so, with the provider's message. */
  failJob?: boolean;
  /** The next this-many result downloads answer as expired (a signed URL past its time, a deleted job). */
  expireDownloads?: number;
  /** The next this-many completed jobs answer "expired" at their next poll (results deleted). */
  expireJobs?: number;
  /** Result bodies are cut off in the middle of a record. */
  truncate?: boolean;
  /** The status reports this many records more (or fewer, when negative) than the results hold. */
  countSkew?: number;
  /** Pause this long (ms) after each slice of 1,000 records, so a download takes a while. */
  sliceDelayMs?: number;
}

export interface BulkRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  at: number;
}

export const BULK_DATASET_START = Date.parse('2026-01-01T00:00:00Z');

/** Record n (1-based) of the dataset: updated one minute after the one before, unless touched. */
export function bulkUpdated(n: number, touched: ReadonlyMap<number, number>): number {
  return touched.get(n) ?? BULK_DATASET_START + (n - 1) * 60_000;
}

/** The record numbers of a job: all of the dataset, or those updated after `sinceMs`. */
export function jobRows(
  count: number,
  touched: ReadonlyMap<number, number>,
  sinceMs: number | null,
): number[] | null {
  if (sinceMs === null) return null;
  const rows: number[] = [];
  for (let n = 1; n <= count; n++) if (bulkUpdated(n, touched) > sinceMs) rows.push(n);
  return rows;
}

/** A job's rows: `null` rows means the whole dataset 1..count (kept as a range, not a list). */
export interface RowSet {
  rows: number[] | null;
  count: number;
}
export const rowCount = (s: RowSet) => (s.rows ? s.rows.length : s.count);
export const rowAt = (s: RowSet, i: number) => (s.rows ? s.rows[i]! : i + 1);

/**
 * Writes rows [from, to) of a row set, rendered by `line`, with backpressure; `head` first (a CSV
 * header). A truncated body stops halfway through the line of the record at 60%. Gzip when asked.
 */
export async function writeRows(
  res: http.ServerResponse,
  set: RowSet,
  from: number,
  to: number,
  line: (n: number) => string,
  opts: { head?: string; gzip?: boolean; truncate?: boolean; sliceDelayMs?: number },
): Promise<void> {
  const out: NodeJS.WritableStream = opts.gzip ? zlib.createGzip({ level: 1 }) : res;
  if (opts.gzip) (out as zlib.Gzip).pipe(res);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out as NodeJS.EventEmitter, 'drain');
  };
  const cut = opts.truncate ? from + Math.floor((to - from) * 0.6) : -1;
  try {
    if (opts.head) await write(opts.head);
    for (let start = from; start < to; start += 1000) {
      let text = '';
      for (let i = start; i < Math.min(to, start + 1000); i++) {
        if (i === cut) {
          const l = line(rowAt(set, i));
          text += l.slice(0, Math.floor(l.length / 2));
          await write(text);
          out.end();
          return;
        }
        text += line(rowAt(set, i));
      }
      await write(text);
      if (opts.sliceDelayMs) await new Promise((r) => setTimeout(r, opts.sliceDelayMs));
    }
    out.end();
  } catch {
    // The client went away mid-body.
    res.destroy();
  }
}

/** A request body read whole (the simulators' request bodies are small JSON). */
export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
