/**
 * The real page source: reads a resource of a connection as its spec describes — request building,
 * pagination, mapping and validation (auth, rate budget and HTTP are the connection client's).
 * Invalid records become quarantine entries.
 */
import { ProviderError } from '../http/errors.js';
import { namesOf } from '../template/template.js';
import { UntrustedUrlError } from '../http/url-policy.js';
import { isStreamingFormat } from '../http/record-stream.js';
import type { StreamedRecords } from '../http/transport.js';
import { PathValueError } from '../http/path-template.js';
import { parentLabel } from '../spec/parent.js';
import { keepRecord, mapRecord } from '../mapping/map-record.js';
import {
  fillBody,
  fillRecord,
  placeholdersIn,
  TemplateError,
  timeZoneProblem,
} from '../http/request-template.js';
import {
  firstState,
  nextPage,
  ownQuery,
  totalOf,
  type NextStep,
  type PaginationState,
} from '../pagination/paginate.js';
import { sinceParam, templateVars } from './request-vars.js';
import { withConnectionStart } from './run-bounds.js';
import { openStreamCache } from './open-streams.js';
import { exportPageSource, type OpenExportFile } from './export-source.js';
import {
  highWaterOf,
  recordCursorMs,
  firstWindow,
  isPastEnd,
  nextWindow,
  sinceOf,
  usesWindows,
  type Window,
} from './windows.js';
import { SpecError } from '../spec/errors.js';
import { lookupResource } from '../spec/registry.js';
import type { ResourceSpec } from '../spec/schema.js';
import type { QuarantinedRecord, SyncRun } from '../store/runs.js';
import type { KeyedRecord } from '../store/records.js';
import {
  createConnectionClients,
  type ConnectionClient,
  type OpenConnectionClient,
} from './connection-client.js';
import type { EngineDeps } from './deps.js';
import { hasWildcard, scalarText, valueAtPath } from '../json/path.js';
import {
  maxCursor,
  type OpenPageSource,
  type Page,
  type PageRequest,
  type PageSource,
} from './page-source.js';

/** What is checkpointed after each committed page. */
export interface Checkpoint {
  state: PaginationState;
  label: string | null;
  /** The incremental window being read, when the spec slices the range (windows.ts). */
  window?: Window | null;
  /** A streamed answer being committed in chunks: records of it committed so far. */
  stream?: { skip: number };
}

/** A streamed answer being read: kept open between the chunks of a run. */
interface OpenStream {
  /** The request it answers (pagination request and window), to match a checkpoint. */
  key: string;
  records: StreamedRecords;
  /** Records taken from it so far. */
  consumed: number;
  last: unknown;
  url: URL;
  header(name: string): string | null;
}

/**
 * A next link or next URL from the provider, checked before it is stored: it must stay where the
 * connection's credentials may go (else the run fails, naming the origin), and credential query
 * parameters the provider echoed back are dropped (the client adds them to each request itself), so a
 * checkpoint never holds a secret.
 */
function trustedNextUrl(
  next: string,
  client: ConnectionClient,
  current: URL,
  run: SyncRun,
  resource: ResourceSpec,
): string {
  // Sealed first: even a refusal's message names the path (path-secrets.ts).
  const url = client.sealUrl(new URL(next));
  try {
    client.urlPolicy.check(url, 'a next page link');
  } catch (error) {
    if (!(error instanceof UntrustedUrlError)) throw error;
    throw new ProviderError('untrusted-url', error.message, {
      integration: run.integration,
      connection: run.connection,
      resource: run.resource,
      method: resource.request.method,
      path: current.pathname,
    });
  }
  for (const name of client.secretParams) url.searchParams.delete(name);
  return url.toString();
}

/** A connection config value that cannot be used as a time zone: a person must fix the connection. */
export class TimeZoneValueError extends PathValueError {
  override name = 'TimeZoneValueError';
}

/** The zone of a resource's date patterns: its own, else the integration's, `{config.name}` filled. */
function timeZoneOf(
  zone: string | undefined,
  config: Readonly<Record<string, unknown>>,
  where: string,
): string | undefined {
  const field = zone?.match(/^\{config\.(.+)\}$/)?.[1];
  if (field === undefined) return zone;
  const value = config[field];
  if (value === undefined || value === null || value === '') return undefined;
  const problem = typeof value === 'string' ? timeZoneProblem(value) : 'a time zone is a string';
  if (problem) throw new TimeZoneValueError(`${where}: config.${field}: ${problem}`);
  return value as string;
}

/** The zone of a resource's date patterns for a run's connection (export steps fill templates too). */
export function timeZoneFor(
  spec: { timeZone?: string | undefined },
  resource: { timeZone?: string | undefined },
  config: Readonly<Record<string, unknown>>,
  run: { integration: string; connection: string },
): string | undefined {
  return timeZoneOf(
    resource.timeZone ?? spec.timeZone,
    config,
    `connection ${run.integration}/${run.connection}`,
  );
}

export { StartDateValueError, withConnectionStart } from './run-bounds.js';

/**
 * The records of an answer, from the value at recordsPath: a list; with a wildcard (`data.*.attributes`,
 * `pages.*.items`) a matched list gives its items; with `single` an object is one record (`auto`: and a
 * list is records) and a missing or null value none. Anything else is not an array, for the caller to
 * refuse.
 */
export function recordsOf(found: unknown, resource: Pick<ResourceSpec, 'recordsPath' | 'single'>): unknown {
  if (resource.single) {
    if (found === undefined || found === null) return [];
    if (Array.isArray(found)) return resource.single === 'auto' ? found : undefined;
    // A scalar (or, with `single: true`, a list) where one object was declared is refused.
    return typeof found === 'object' ? [found] : undefined;
  }
  return Array.isArray(found) && hasWildcard(resource.recordsPath)
    ? found.flatMap((v: unknown) => (Array.isArray(v) ? (v as unknown[]) : [v]))
    : found;
}

function windowLabel(w: Window): string {
  return `window ${w.start} … ${w.end}`;
}

export function createSpecPageSources(
  deps: EngineDeps,
  openClient: OpenConnectionClient = createConnectionClients(deps),
): OpenPageSource {
  const openStreams = openStreamCache<OpenStream>();
  const exportStreams = openStreamCache<OpenExportFile>();
  return async (run: SyncRun): Promise<PageSource> => {
    const { spec, resource } = lookupResource(deps.specs, run.integration, run.resource);
    if (resource.parent && !run.parentParams) {
      throw new SpecError(spec.id, [
        `resources.${run.resource} is a child of "${parentLabel(resource.parent)}": it is synced once per parent`,
      ]);
    }
    const client = await openClient(run.integration, run.connection);
    const parentValues = Object.fromEntries(
      Object.entries(run.parentParams ?? {}).map(([k, v]) => [`parent.${k}`, v]),
    );
    const pagination = resource.pagination;
    const rules = [...resource.responseRules, ...spec.responseRules];
    const request = resource.request;
    const bodyTemplate = request.graphql
      ? { query: request.graphql.query, variables: request.graphql.variables }
      : request.body;
    const method = request.graphql ? 'POST' : request.method;
    const form = request.bodyFormat === 'form';
    // Names the templates place themselves: pagination does not add its own parameter for these. A
    // choice's condition only reads its name (`{?!cursor}…{/}`: a page size on the first page only).
    const templated = new Set(
      [request.path, request.query, request.headers, bodyTemplate].flatMap((t) =>
        placeholdersIn(t)
          .filter((p) => !p.condition)
          .flatMap(namesOf),
      ),
    );
    const fill = {
      timeZone: timeZoneOf(
        resource.timeZone ?? spec.timeZone,
        client.config,
        `connection ${run.integration}/${run.connection}`,
      ),
    };
    const inc = withConnectionStart(
      resource.incremental,
      client.config,
      `connection ${run.integration}/${run.connection}`,
      // Relative bounds ({now|minus:P30D}) are taken at the run's start: every page sees the same.
      run.startedAt.getTime(),
    );
    const windowed =
      inc !== undefined &&
      (templated.has('window.start') || templated.has('window.end') || (!inc.clientSide && usesWindows(inc)));
    /** Whether a record's cursor is above the floor; a record without a readable cursor is kept. */
    const newerThan = (record: Record<string, unknown>, floorMs: number): boolean => {
      const v = record[inc!.cursorField];
      if (v === null || v === undefined) return true;
      const ms = recordCursorMs(scalarText(v), inc!);
      return Number.isNaN(ms) || ms > floorMs;
    };

    /** Whether a record's cursor is after the ceiling; a record without a readable cursor is not. */
    const afterCeiling = (record: Record<string, unknown>, ceilingMs: number): boolean => {
      const v = record[inc!.cursorField];
      if (v === null || v === undefined) return false;
      const ms = recordCursorMs(scalarText(v), inc!);
      return !Number.isNaN(ms) && ms > ceilingMs;
    };
    if (resource.export)
      return exportPageSource({
        job: { run, spec, resource, exp: resource.export, client, fill },
        mapAll,
        streams: exportStreams,
      });

    const streaming = isStreamingFormat(resource.decoder);
    const chunkRecords = resource.decoder?.chunkRecords ?? 0;

    /** Sends the request of a page (pagination state + window), streamed when the decoder streams. */
    async function send(
      state: PaginationState,
      window: Window | null,
      since: string | null,
      req: PageRequest,
    ) {
      const vars = templateVars(state, window, since, client.config, run.parentParams ?? {});
      // The path is filled per page: it may hold the window or the page ({window.start|date}).
      const url =
        'url' in state.request
          ? new URL(state.request.url)
          : client.urlFor(client.fillPath(request.path, parentValues, vars, fill));
      if (!('url' in state.request)) {
        const query = fillRecord(request.query, vars, 'query', fill);
        const from = window ? window.start : since;
        if (inc?.param && from !== null) query[inc.param] = sinceParam(from, inc.format);
        Object.assign(query, ownQuery(pagination, state.request.query, templated));
        for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
      }
      let headers: Record<string, string>;
      let body: unknown;
      try {
        headers = fillRecord(request.headers, vars, 'header', fill);
        body = bodyTemplate === undefined ? undefined : fillBody(bodyTemplate, vars, fill);
        // A GET or a form with no field left sends no body at all (`{}` would be a body).
        if ((method === 'GET' || form) && isEmptyObject(body)) body = undefined;
      } catch (error) {
        if (error instanceof TemplateError)
          throw new SpecError(spec.id, [`resources.${run.resource}.request: ${error.message}`]);
        throw error;
      }
      const response = await client.request({
        url,
        method,
        headers,
        body,
        ...(form ? { form } : {}),
        cost: resource.requestCost,
        resource: run.resource,
        signal: req.signal,
        onWait: req.onWait,
        rules,
        ...(resource.decoder ? { decoder: resource.decoder } : {}),
        ...(streaming ? { stream: true } : {}),
      });
      return { response, url };
    }

    /**
     * Maps and validates raw records; the highest incremental cursor among them, the keys of records
     * deleted by their content, and how many were at or below a client-side floor (skipped).
     */
    function mapAll(
      raws: readonly unknown[],
      at: { state: PaginationState; window: Window | null; since: string | null },
    ) {
      const records: KeyedRecord[] = [];
      const quarantined: QuarantinedRecord[] = [];
      const deletedKeys: string[] = [];
      let highWater: string | null = null;
      let older = 0;
      // Computed fields see the parent's params, config and the run's window.
      const vars = templateVars(at.state, at.window, at.since, client.config, run.parentParams ?? {});
      // A provider that cannot filter: records at or below the high-water mark (less lookback, or
      // before startDate on a first run) are skipped here.
      const floorMs = inc?.clientSide && at.since !== null ? Date.parse(at.since) : null;
      // And records after its endDate, which a later run (with a later end) takes.
      const ceilingMs = inc?.clientSide && inc.endDate !== undefined ? Date.parse(inc.endDate) : null;
      for (const raw of raws) {
        if (!keepRecord(resource.filter, raw)) continue;
        const mapped = mapRecord(resource, raw, vars, fill);
        // Child records are unique per parent (issue 1 of repo A is not issue 1 of repo B).
        const key =
          mapped.key === null || run.parentKey === null
            ? mapped.key
            : JSON.stringify([run.parentKey, mapped.key]);
        if (resource.deletedWhen && keepRecord(resource.deletedWhen, raw)) {
          // Deleted at the provider, by its own content: marked deleted, whatever else it says.
          if (key !== null) deletedKeys.push(key);
          continue;
        }
        if (!mapped.ok) {
          // Keyed as the record is stored: the run has seen it, and the sweep leaves its stored copy.
          quarantined.push({ key, raw, reason: mapped.reason });
          continue;
        }
        if (ceilingMs !== null && afterCeiling(mapped.record, ceilingMs)) continue;
        if (floorMs !== null && !newerThan(mapped.record, floorMs)) {
          // Client-side incremental: already stored by an earlier run, so not rewritten.
          older++;
          continue;
        }
        records.push({ key: key!, data: mapped.record });
        if (resource.incremental) {
          const v = mapped.record[resource.incremental.cursorField];
          const mark =
            v === null || v === undefined ? null : highWaterOf(scalarText(v), resource.incremental);
          if (mark !== null) highWater = maxCursor(highWater, mark);
        }
      }
      return { records, quarantined, highWater, deletedKeys, older };
    }

    /** Newest first: a page holding a record at or below the high-water mark means the rest are older. */
    const stopAtOld = (paged: NextStep, older: number): NextStep =>
      older > 0 && inc?.order === 'descending' && !paged.done
        ? { done: true, reason: 'older records (descending order)', state: paged.state }
        : paged;

    /** A page with the keys its records' content marked deleted, when there are any. */
    const withDeleted = (page: Page, deletedKeys: string[]): Page =>
      deletedKeys.length > 0 ? { ...page, deletedKeys } : page;

    /** Where this run reads: the committed checkpoint's state and window, or the first ones. */
    function position(req: PageRequest) {
      const previous = req.checkpoint as Checkpoint | null;
      const state = previous ? previous.state : firstState(pagination);
      // The range this run reads. The first page fixes it (in the checkpoint), so retries and
      // resumed runs read the same window the committed pages came from.
      const since = inc ? sinceOf(inc, req.since) : null;
      const window: Window | null =
        previous && previous.window !== undefined
          ? previous.window
          : windowed && inc
            ? firstWindow(inc, since, Date.now())
            : null;
      return { previous, state, since, window };
    }

    /** A run whose start lies past its endDate (or its lag): nothing to read, no request. */
    const pastEndPage = (state: PaginationState, window: Window) =>
      finish({ done: true, reason: 'past the end date', state }, window, [], [], 0, null, null);

    const ignoredPage = (state: PaginationState, window: Window | null) =>
      // A response rule said this answer holds nothing (e.g. a child's 404): an empty last page.
      finish(
        { done: true, reason: 'ignored', state: { ...state, pages: state.pages + 1 } },
        window,
        [],
        [],
        0,
        null,
        null,
      );

    /**
     * A streamed answer (JSON Lines, CSV) is committed in chunks of `chunkRecords`: each chunk is a
     * page whose checkpoint says how many records of the answer are committed. The open download is
     * kept between chunks (also across activity calls on this worker); a retry elsewhere, or after a
     * crash, requests the answer again and skips the committed records, so each record is committed
     * exactly once.
     */
    async function readChunk(req: PageRequest): Promise<Page> {
      const { previous, state, since, window } = position(req);
      if (window && isPastEnd(window)) return pastEndPage(state, window);
      const skip = previous?.stream?.skip ?? 0;
      const key = JSON.stringify([state.request, window]);
      let open = openStreams.take(run.id);
      if (open && (open.key !== key || open.consumed !== skip)) {
        open.records.close();
        open = undefined;
      }
      const onAbort = () => open?.records.close();
      req.signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (!open) {
          const { response, url } = await send(state, window, since, req);
          if (response.ignored || !response.records) return ignoredPage(state, window);
          open = {
            key,
            records: response.records,
            consumed: 0,
            last: undefined,
            url,
            header: (name) => response.header(name),
          };
          // A resumed answer: the records before `skip` are committed already.
          while (open.consumed < skip) {
            const r = await open.records.next();
            if (r.done) throw shrunk(open.url, skip, open.consumed);
            open.consumed++;
          }
        }
        const raws: unknown[] = [];
        let ended = false;
        while (raws.length < chunkRecords) {
          const r = await open.records.next();
          if (r.done) {
            ended = true;
            break;
          }
          raws.push(r.value);
        }
        open.consumed += raws.length;
        if (raws.length) open.last = raws.at(-1);
        const { records, quarantined, highWater, deletedKeys, older } = mapAll(raws, {
          state,
          window,
          since,
        });
        const current = open;
        const total = window ? null : totalOf(pagination, null, (n) => current.header(n));
        if (!ended) {
          openStreams.keep(run.id, open);
          const label = `${window ? `${windowLabel(window)}, ` : ''}page ${state.pages + 1}, record ${open.consumed}`;
          return withDeleted(
            {
              records,
              quarantined,
              fetched: raws.length,
              total,
              highWater,
              done: false,
              checkpoint: { state, label, window, stream: { skip: open.consumed } } satisfies Checkpoint,
            },
            deletedKeys,
          );
        }
        const paged = nextPage(pagination, state, {
          body: null,
          header: (n) => current.header(n),
          recordCount: current.consumed,
          requestUrl: current.url.toString(),
          acceptUrl: (next) => trustedNextUrl(next, client, current.url, run, resource),
          lastRecord: current.last,
        });
        const step = stopAtOld(paged, older);
        return withDeleted(
          finish(step, window, records, quarantined, raws.length, total, highWater),
          deletedKeys,
        );
      } catch (error) {
        open?.records.close();
        throw error;
      } finally {
        req.signal.removeEventListener('abort', onAbort);
      }
    }

    function shrunk(url: URL, skip: number, got: number): ProviderError {
      return new ProviderError(
        'decode',
        `the answer has ${got} records now, but ${skip} of it were committed before: the provider changed it while it was read; sync again`,
        {
          integration: run.integration,
          connection: run.connection,
          resource: run.resource,
          method,
          path: url.pathname,
        },
      );
    }

    return {
      async readPage(req: PageRequest): Promise<Page> {
        if (streaming) return readChunk(req);
        const { state, since, window } = position(req);
        if (window && isPastEnd(window)) return pastEndPage(state, window);
        const { response, url } = await send(state, window, since, req);
        if (response.ignored) return ignoredPage(state, window);
        const found = valueAtPath(response.body, resource.recordsPath);
        let raws = recordsOf(found, resource);
        // An error answer a response rule calls a success: the records it holds, else none.
        if (response.errorAsSuccess && !Array.isArray(raws)) raws = [];
        if (!Array.isArray(raws)) {
          throw new ProviderError(
            'decode',
            `expected ${resource.single === true ? 'one record (an object)' : resource.single ? 'an object or an array of records' : 'an array of records'} at ${resource.recordsPath ? `"${resource.recordsPath}"` : 'the top of the body'}`,
            {
              integration: run.integration,
              connection: run.connection,
              resource: run.resource,
              method,
              path: url.pathname,
            },
          );
        }
        const { records, quarantined, highWater, deletedKeys, older } = mapAll(raws, {
          state,
          window,
          since,
        });
        // Paging does not go on from an error's body: that answer is the last page.
        const paged: NextStep = response.errorAsSuccess
          ? {
              done: true,
              reason: `answer ${response.status} read as a success (response rule)`,
              state: { ...state, pages: state.pages + 1, records: state.records + raws.length },
            }
          : nextPage(pagination, state, {
              body: response.body,
              header: (name) => response.header(name),
              recordCount: raws.length,
              requestUrl: url.toString(),
              acceptUrl: (next) => trustedNextUrl(next, client, url, run, resource),
              lastRecord: raws.at(-1),
            });
        const step = stopAtOld(paged, older);
        const total = window ? null : totalOf(pagination, response.body, (n) => response.header(n));
        return withDeleted(
          finish(step, window, records, quarantined, raws.length, total, highWater),
          deletedKeys,
        );
      },
    };

    /** The page's result; a window whose pages ended moves on to the next window, if there is one. */
    function finish(
      step: NextStep,
      window: Window | null,
      records: KeyedRecord[],
      quarantined: QuarantinedRecord[],
      fetched: number,
      total: number | null,
      highWater: string | null,
    ): Page {
      const page = { records, quarantined, fetched, total, highWater };
      if (!step.done) {
        const label = window ? `${windowLabel(window)}, ${step.label}` : step.label;
        return {
          ...page,
          done: false,
          checkpoint: { state: step.state, label, window } satisfies Checkpoint,
        };
      }
      const next = window && inc ? nextWindow(inc, window) : null;
      if (!next)
        return {
          ...page,
          done: true,
          checkpoint: { state: step.state, label: null, window } satisfies Checkpoint,
        };
      // Each window pages from its own start: offsets, totals and maxPages count within the window.
      const fresh = firstState(pagination);
      return {
        ...page,
        done: false,
        checkpoint: { state: fresh, label: windowLabel(next), window: next } satisfies Checkpoint,
      };
    }
  };
}

function isEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  );
}
