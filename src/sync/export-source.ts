/**
 * The download of a completed export job as a page source: each result file (or result page) is
 * streamed through the JSON Lines / CSV decoders and committed in chunks, each chunk a page whose
 * checkpoint says which file and how many of its records are committed. A retry elsewhere, or after a
 * crash, opens that file again and skips the committed records: no record is lost or committed twice.
 * When the job's files end, the records parsed must be the records the provider said it produced.
 */
import type { DecoderConfig } from '../http/decoders.js';
import { ProviderError } from '../http/errors.js';
import type { StreamedRecords } from '../http/transport.js';
import { firstState, type PaginationState } from '../pagination/paginate.js';
import type { KeyedRecord } from '../store/records.js';
import type { QuarantinedRecord } from '../store/runs.js';
import { ExportExpiredError, ExportIncompleteError } from './export-errors.js';
import {
  createExportSteps,
  exportCheckpointOf,
  type ExportCheckpoint,
  type ExportJobContext,
  type ExportSteps,
} from './export-steps.js';
import { maxCursor, type Page, type PageRequest, type PageSource } from './page-source.js';
import type { openStreamCache } from './open-streams.js';
import type { Window } from './windows.js';

/** Records mapped at a time while a chunk is read (see readChunk). */
const MAP_BATCH = 64;

/** A result file being read, kept open between the chunks of a run. */
export interface OpenExportFile {
  key: string;
  records: StreamedRecords;
  consumed: number;
  /** Result files of the job (URL modes). */
  files: number | null;
  header(name: string): string | null;
  path: string;
}

type MapAll = (
  raws: readonly unknown[],
  at: { state: PaginationState; window: Window | null; since: string | null },
) => {
  records: KeyedRecord[];
  quarantined: QuarantinedRecord[];
  highWater: string | null;
  deletedKeys: string[];
  older: number;
};

export function exportPageSource(opts: {
  job: ExportJobContext;
  mapAll: MapAll;
  streams: ReturnType<typeof openStreamCache<OpenExportFile>>;
  steps?: ExportSteps;
}): PageSource {
  const { job, mapAll, streams } = opts;
  const { run, exp, client, resource } = job;
  const steps = opts.steps ?? createExportSteps(job);
  const decoder: DecoderConfig = { ...exp.download };
  const where = `${run.integration}/${run.connection}/${run.resource}`;
  const expired = (status: number | undefined) =>
    status !== undefined && exp.results.expiredStatuses.includes(status);

  async function download(url: URL, method: string, headers: Record<string, string>, signal: AbortSignal) {
    return client.request({
      url,
      method,
      headers,
      cost: resource.requestCost,
      resource: run.resource,
      signal,
      decoder,
      stream: true,
    });
  }

  /** Opens the checkpoint's result file and skips its committed records; null: the job has no files. */
  async function openFile(
    cp: ExportCheckpoint,
    req: PageRequest,
    key: string,
  ): Promise<OpenExportFile | null> {
    const e = cp.export;
    let response;
    let files: number | null = null;
    let path: string;
    if (exp.results.pages) {
      const page = steps.resultsPage(e.jobId, cp.window, e.locator);
      path = page.url.pathname;
      try {
        response = await download(page.url, page.method, page.headers, req.signal);
      } catch (error) {
        if (!(error instanceof ProviderError && expired(error.details.status))) throw error;
        // The job itself may be gone too (deleted past its retention): either way it is submitted again.
        const st = await steps.status(e.jobId, cp.window, req.signal).catch(() => undefined);
        throw new ExportExpiredError(
          `${where}: the results of export job ${e.jobId} are gone (${error.details.status}; the job is ${st ? st.poll.providerState : 'gone too'})`,
        );
      }
    } else {
      // Result URLs may be signed and short-lived: each file's comes from a status poll made now,
      // and an answer that says it expired gets one more, fresh URL.
      for (let attempt = 1; ; attempt++) {
        const st = await steps.status(e.jobId, cp.window, req.signal);
        if (st.poll.state !== 'completed')
          throw new ExportExpiredError(
            `${where}: export job ${e.jobId} is ${st.poll.providerState} now, not completed: its results are gone`,
          );
        files = st.urls.length;
        if (e.file >= files) return null;
        const url = new URL(st.urls[e.file]!);
        path = url.pathname;
        try {
          response = await download(url, 'GET', {}, req.signal);
          break;
        } catch (error) {
          if (!(error instanceof ProviderError && expired(error.details.status))) throw error;
          if (attempt >= 2)
            throw new ExportExpiredError(
              `${where}: result file ${e.file + 1} of export job ${e.jobId} answered ${error.details.status} with a fresh URL too`,
            );
        }
      }
    }
    if (response.ignored || !response.records) return null;
    const open: OpenExportFile = {
      key,
      records: response.records,
      consumed: 0,
      files,
      header: (n) => response.header(n),
      path,
    };
    while (open.consumed < e.skip) {
      const r = await open.records.next();
      if (r.done) {
        open.records.close();
        throw new ExportIncompleteError(
          `${where}: result file ${e.file + 1} of export job ${e.jobId} has ${open.consumed} records now, but ${e.skip} of it were committed before`,
        );
      }
      open.consumed++;
    }
    return open;
  }

  /**
   * Reads up to a chunk of records, mapping them MAP_BATCH at a time as they arrive: a decoded record
   * is garbage moments after it was parsed instead of living (and outliving V8's young generation)
   * until the whole chunk is read, which kept the worker's old generation filling with them.
   */
  async function readChunk(records: StreamedRecords, at: Parameters<MapAll>[1]) {
    const mapped: ReturnType<MapAll> = {
      records: [],
      quarantined: [],
      highWater: null,
      deletedKeys: [],
      older: 0,
    };
    const batch: unknown[] = [];
    const flush = () => {
      const m = mapAll(batch, at);
      batch.length = 0;
      for (const r of m.records) mapped.records.push(r);
      for (const q of m.quarantined) mapped.quarantined.push(q);
      for (const k of m.deletedKeys) mapped.deletedKeys.push(k);
      mapped.highWater = maxCursor(mapped.highWater, m.highWater);
      mapped.older += m.older;
    };
    let read = 0;
    let ended = false;
    while (read < exp.download.chunkRecords) {
      const r = await records.next();
      if (r.done) {
        ended = true;
        break;
      }
      batch.push(r.value);
      read++;
      if (batch.length >= MAP_BATCH) flush();
    }
    flush();
    return { mapped, read, ended };
  }

  function checkCount(e: ExportCheckpoint['export'], parsed: number): void {
    if (e.expected !== null && parsed !== e.expected)
      throw new ExportIncompleteError(
        `${where}: export job ${e.jobId} reported ${e.expected} records but its results held ${parsed}: nothing of this run is final (no high-water mark, no deletions); sync again`,
      );
  }

  return {
    async readPage(req: PageRequest): Promise<Page> {
      const cp = exportCheckpointOf(req.checkpoint);
      if (!cp || cp.export.phase !== 'download')
        throw new Error(
          `run ${run.id}: no completed export job to download (checkpoint ${JSON.stringify(req.checkpoint)})`,
        );
      const e = cp.export;
      const state = firstState(resource.pagination);
      const at = { state, window: cp.window, since: cp.window?.start ?? null };
      const key = JSON.stringify([e.jobId, e.file, e.locator]);
      let open = streams.take(run.id);
      if (open && (open.key !== key || open.consumed !== e.skip)) {
        open.records.close();
        open = undefined;
      }
      const onAbort = () => open?.records.close();
      req.signal.addEventListener('abort', onAbort, { once: true });
      try {
        open ??= (await openFile(cp, req, key)) ?? undefined;
        if (!open) {
          // A job without result files (nothing matched), or a file a response rule says to ignore.
          checkCount(e, e.parsed);
          return {
            records: [],
            quarantined: [],
            fetched: 0,
            total: e.expected,
            highWater: null,
            done: true,
            checkpoint: { ...cp, label: null, export: { ...e, phase: 'done' } } satisfies ExportCheckpoint,
          };
        }
        const { mapped, read, ended } = await readChunk(open.records, at);
        open.consumed += read;
        const parsed = e.parsed + read;
        const page = (checkpoint: ExportCheckpoint, done: boolean): Page => ({
          records: mapped.records,
          quarantined: mapped.quarantined,
          fetched: read,
          total: e.expected,
          highWater: mapped.highWater,
          done,
          checkpoint,
          ...(mapped.deletedKeys.length ? { deletedKeys: mapped.deletedKeys } : {}),
        });
        const fileLabel = exp.results.pages
          ? `result page ${e.file + 1}`
          : `file ${e.file + 1}${open.files !== null ? ` of ${open.files}` : ''}`;
        if (!ended) {
          streams.keep(run.id, open);
          return page(
            {
              ...cp,
              label: `job ${e.jobId}, ${fileLabel}, record ${open.consumed}`,
              export: { ...e, files: open.files ?? e.files, skip: open.consumed, parsed },
            },
            false,
          );
        }
        let next: string | null = null;
        let more: boolean;
        const pages = exp.results.pages;
        if (pages) {
          const said = pages.countHeader ? open.header(pages.countHeader) : null;
          if (said !== null && Number(said) !== open.consumed)
            throw new ExportIncompleteError(
              `${where}: result page ${e.file + 1} of export job ${e.jobId} says ${said} records (${pages.countHeader}) but held ${open.consumed}: a truncated page`,
            );
          next = open.header(pages.locatorHeader);
          more = next !== null && !pages.lastLocator.includes(next);
        } else {
          more = open.files !== null && e.file + 1 < open.files;
        }
        if (more)
          return page(
            {
              ...cp,
              label: `job ${e.jobId}, ${fileLabel} read`,
              export: {
                ...e,
                files: open.files ?? e.files,
                file: e.file + 1,
                locator: next,
                skip: 0,
                parsed,
              },
            },
            false,
          );
        checkCount(e, parsed);
        return page(
          { ...cp, label: null, export: { ...e, phase: 'done', skip: open.consumed, parsed } },
          true,
        );
      } catch (error) {
        open?.records.close();
        throw error;
      } finally {
        req.signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
