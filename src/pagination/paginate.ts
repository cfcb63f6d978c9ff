/**
 * Pagination as pure functions: the first request, and from each answer either the next request or the
 * reason to stop. The state is small JSON, checkpointed with each committed page, so a resumed run asks
 * for exactly the page after the last one it stored.
 */
import { valueAtPath } from '../json/path.js';
import { linkWithRel, parseLinkHeader } from './link-header.js';
import type { PaginationConfig, StopRule } from './schema.js';

export class PaginationError extends Error {
  override name = 'PaginationError';
}

/** What to send for a page: extra query parameters, or a whole URL given by the provider. */
export type PageRequest = { query: Record<string, string> } | { url: string };

export interface PaginationState {
  /** Pages answered so far. */
  pages: number;
  /** Records seen so far (for offsets and totals). */
  records: number;
  /** The request that fetched the last page (or will fetch the first). */
  request: PageRequest;
  /** Recent cursors/next URLs: a provider repeating one would loop forever. */
  recent: string[];
  /** The pagination values request templates may use: {cursor}, {page}, {offset}, {limit}. */
  vars?: PageVars;
}

export interface PageVars {
  cursor?: string;
  page?: number;
  offset?: number;
  limit?: number;
}

export interface PageResponse {
  body: unknown;
  header(name: string): string | null;
  recordCount: number;
  /** Absolute URL the page was fetched from (relative links resolve against it). */
  requestUrl: string;
  /**
   * Checks a provider-given next URL before it is followed or stored, and returns it as it may be kept
   * (e.g. without credential parameters); throws to refuse it.
   */
  acceptUrl?: (url: string) => string;
  /** The page's last record as sent (for cursors taken from it). */
  lastRecord?: unknown;
}

export type NextStep =
  | { done: true; reason: string; state: PaginationState }
  | { done: false; state: PaginationState; label: string };

const RECENT = 8;

function sizeQuery(param: string | false | undefined, size: number | undefined): Record<string, string> {
  return param && size !== undefined ? { [param]: String(size) } : {};
}

export function firstState(config: PaginationConfig): PaginationState {
  let query: Record<string, string> = {};
  switch (config.type) {
    case 'page':
      query = {
        [config.pageParam]: String(config.startPage),
        ...sizeQuery(config.sizeParam, config.pageSize),
      };
      break;
    case 'offset':
      query = { [config.offsetParam]: '0', ...sizeQuery(config.limitParam, config.pageSize) };
      break;
    case 'cursor':
      query = sizeQuery(config.limitParam, config.pageSize);
      break;
    case 'link-header':
      query = sizeQuery(config.sizeParam, config.pageSize);
      break;
    case 'none':
    case 'next-url':
      break;
  }
  return { pages: 0, records: 0, request: { query }, recent: [], vars: varsOf(config, query) };
}

/** The template values of a request's own query. */
function varsOf(config: PaginationConfig, query: Record<string, string>, cursor?: string): PageVars {
  const vars: PageVars = {};
  const size = 'pageSize' in config ? config.pageSize : undefined;
  if (size !== undefined) vars.limit = size;
  if (config.type === 'page') vars.page = Number(query[config.pageParam]);
  if (config.type === 'offset') vars.offset = Number(query[config.offsetParam]);
  if (cursor !== undefined) vars.cursor = cursor;
  return vars;
}

/**
 * The query parameters pagination adds by itself, less those a request template places (a spec that
 * writes `{cursor}` into a body or a query value decides where the cursor goes).
 */
export function ownQuery(
  config: PaginationConfig,
  query: Record<string, string>,
  templated: ReadonlySet<string>,
): Record<string, string> {
  if (templated.size === 0) return query;
  const drop = new Set<string>();
  const add = (name: string | false | undefined, v: string) => name && templated.has(v) && drop.add(name);
  switch (config.type) {
    case 'page':
      add(config.pageParam, 'page');
      add(config.sizeParam, 'limit');
      break;
    case 'offset':
      add(config.offsetParam, 'offset');
      add(config.limitParam, 'limit');
      break;
    case 'cursor':
      add(config.param, 'cursor');
      add(config.limitParam, 'limit');
      break;
    case 'link-header':
      add(config.sizeParam, 'limit');
      break;
    default:
      break;
  }
  return Object.fromEntries(Object.entries(query).filter(([k]) => !drop.has(k)));
}

/** The total number of records, when the provider tells it (a body path or a header). */
export function totalOf(
  config: PaginationConfig,
  body: unknown,
  header?: (name: string) => string | null,
): number | null {
  let raw: unknown;
  if (config.totalPath) raw = valueAtPath(body, config.totalPath);
  else if (config.totalHeader && header) raw = header(config.totalHeader);
  else return null;
  if (raw === null || raw === undefined || raw === '') return null;
  const v = Number(raw);
  return Number.isFinite(v) && v >= 0 ? v : null;
}

/** JSON values compared as a provider sends them: scalars exactly, objects and lists by their text. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Why a stop rule ends the sync on this answer, or undefined when it does not. */
export function stopReason(
  rule: StopRule,
  response: Pick<PageResponse, 'body' | 'header'>,
): string | undefined {
  const where = rule.header !== undefined ? `header ${rule.header}` : `"${rule.path}"`;
  const value: unknown =
    rule.header !== undefined
      ? (response.header(rule.header) ?? undefined)
      : valueAtPath(response.body, rule.path ?? '');
  if ('equals' in rule && rule.equals !== undefined) {
    return sameValue(value, rule.equals) ? `${where} is ${JSON.stringify(rule.equals)}` : undefined;
  }
  if (rule.equalsPath !== undefined)
    return sameValue(value, valueAtPath(response.body, rule.equalsPath))
      ? `${where} equals "${rule.equalsPath}"`
      : undefined;
  if (rule.absent) return value === undefined ? `${where} is absent` : undefined;
  if (rule.lacks !== undefined) {
    const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : undefined;
    return text !== undefined && !text.includes(rule.lacks)
      ? `${where} lacks ${JSON.stringify(rule.lacks)}`
      : undefined;
  }
  return undefined;
}

/**
 * The cursor a found value gives: the capture of `cursorPattern` in its text, then plus `cursorAdd`.
 * Undefined when the pattern does not match (the end of the pages).
 */
export function cursorOf(
  config: { cursorPattern?: string | undefined; cursorAdd?: number | undefined },
  raw: string | number,
  where: string,
): string | undefined {
  let value = String(raw);
  if (config.cursorPattern !== undefined) {
    const m = new RegExp(config.cursorPattern).exec(value);
    if (!m || m[1] === undefined || m[1] === '') return undefined;
    value = m[1];
  }
  if (config.cursorAdd !== undefined) {
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isSafeInteger(n))
      throw new PaginationError(
        `the cursor at ${where} is not a whole number, so ${config.cursorAdd} cannot be added`,
      );
    value = String(n + config.cursorAdd);
  }
  return value;
}

function truncated(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}…` : value;
}

/**
 * A label for a page fetched from a provider-given URL: the page number and the URL's path only. Labels
 * reach heartbeats, run summaries and the Temporal UI, and a URL's query may carry a key or a signature.
 */
function urlLabel(after: PaginationState, url: string): string {
  return `page ${after.pages + 1} at ${truncated(new URL(url).pathname)}`;
}

function guardRepeat(state: PaginationState, token: string, what: string): string[] {
  if (state.recent.includes(token)) {
    throw new PaginationError(
      `the provider sent the same ${what} again ("${truncated(token)}") after page ${state.pages}: stopping instead of looping forever`,
    );
  }
  return [...state.recent, token].slice(-RECENT);
}

/** After a page was received: stop, or the request for the next page. */
export function nextPage(config: PaginationConfig, state: PaginationState, response: PageResponse): NextStep {
  const after: PaginationState = {
    ...state,
    pages: state.pages + 1,
    records: state.records + response.recordCount,
  };
  const stop = (reason: string): NextStep => ({ done: true, reason, state: after });

  if (config.type === 'none') return stop('single page');
  if (response.recordCount === 0 && config.stopOnEmptyPage) return stop('empty page');
  // Without a page size an offset only moves by the records read: an empty page would be asked for again.
  if (response.recordCount === 0 && config.type === 'offset' && config.pageSize === undefined)
    return stop('empty page');
  for (const rule of config.stopWhen ?? []) {
    const reason = stopReason(rule, response);
    if (reason !== undefined) return stop(reason);
  }
  // What the provider says about the rest: true (more), false (the end) or undefined (it does not say).
  let saysMore: boolean | undefined;
  if (config.hasMorePath !== undefined) {
    const more = valueAtPath(response.body, config.hasMorePath);
    if (more === false || more === 'false' || more === 0) return stop(`${config.hasMorePath} is false`);
    if (more === true || more === 'true' || more === 1) saysMore = true;
  }
  if (config.donePath !== undefined) {
    const done = valueAtPath(response.body, config.donePath);
    if (done === true || done === 'true' || done === 1) return stop(`${config.donePath} is true`);
    if (done === false || done === 'false' || done === 0) saysMore = true;
  }
  if (config.maxPages !== undefined && after.pages >= config.maxPages)
    return stop(`maxPages (${config.maxPages}) reached`);
  const total = totalOf(config, response.body, (name) => response.header(name));
  if (total !== null && after.records >= total) return stop(`all ${total} records read`);
  if (total !== null && after.records < total) saysMore = true;
  // A short page ends page and offset styles only when the provider does not say more remain: Stripe
  // and others document the page size as a maximum.
  const short = (size: number | undefined) => size !== undefined && response.recordCount < size && !saysMore;

  switch (config.type) {
    case 'page': {
      const current = Number(
        (state.request as { query?: Record<string, string> }).query?.[config.pageParam] ?? config.startPage,
      );
      if (config.totalPagesPath) {
        const pages = Number(valueAtPath(response.body, config.totalPagesPath));
        if (Number.isFinite(pages) && current - config.startPage + 1 >= pages)
          return stop(`last of ${pages} pages`);
      }
      if (short(config.pageSize)) return stop('short page');
      const next = current + 1;
      const query = { [config.pageParam]: String(next), ...sizeQuery(config.sizeParam, config.pageSize) };
      return {
        done: false,
        label: `page ${next}`,
        state: { ...after, request: { query }, vars: varsOf(config, query) },
      };
    }
    case 'offset': {
      if (short(config.pageSize)) return stop('short page');
      const offset = after.records;
      const query = {
        [config.offsetParam]: String(offset),
        ...sizeQuery(config.limitParam, config.pageSize),
      };
      return {
        done: false,
        label: `offset ${offset}`,
        state: { ...after, request: { query }, vars: varsOf(config, query) },
      };
    }
    case 'cursor': {
      const where = config.cursorHeader
        ? `header ${config.cursorHeader}`
        : config.lastRecordPath !== undefined
          ? `"${config.lastRecordPath}" of the last record`
          : `"${config.cursorPath}"`;
      const raw = config.cursorHeader
        ? response.header(config.cursorHeader)
        : config.lastRecordPath !== undefined
          ? response.recordCount === 0
            ? undefined
            : valueAtPath(response.lastRecord, config.lastRecordPath)
          : valueAtPath(response.body, config.cursorPath ?? '');
      if (raw === null || raw === undefined || raw === '') return stop('no next cursor');
      if (typeof raw !== 'string' && typeof raw !== 'number') {
        throw new PaginationError(`the cursor at ${where} is not a string or number`);
      }
      const cursor = cursorOf(config, raw, where);
      if (cursor === undefined) return stop(`no cursor matches the pattern at ${where}`);
      const recent = guardRepeat(state, cursor, 'cursor');
      const query = { [config.param]: cursor, ...sizeQuery(config.limitParam, config.pageSize) };
      return {
        done: false,
        label: `cursor ${truncated(cursor)}`,
        state: { ...after, recent, request: { query }, vars: varsOf(config, query, cursor) },
      };
    }
    case 'link-header': {
      const link = config.firstLink
        ? parseLinkHeader(response.header('link'), response.requestUrl)[0]?.url
        : linkWithRel(response.header('link'), 'next', response.requestUrl);
      if (!link) return stop(config.firstLink ? 'no link' : 'no rel="next" link');
      const url = response.acceptUrl ? response.acceptUrl(link) : link;
      const recent = guardRepeat(state, url, 'next link');
      return { done: false, label: urlLabel(after, url), state: { ...after, recent, request: { url } } };
    }
    case 'next-url': {
      const fromRecord = config.nextUrlRecordPath !== undefined;
      const where = config.nextUrlHeader
        ? `header ${config.nextUrlHeader}`
        : fromRecord
          ? `"${config.nextUrlRecordPath}" of the last record`
          : `"${config.nextUrlPath}"`;
      const raw = config.nextUrlHeader
        ? response.header(config.nextUrlHeader)
        : fromRecord
          ? response.recordCount === 0
            ? undefined
            : valueAtPath(response.lastRecord, config.nextUrlRecordPath ?? '')
          : valueAtPath(response.body, config.nextUrlPath ?? '');
      if (raw === null || raw === undefined || raw === '') return stop('no next URL');
      if (typeof raw !== 'string') throw new PaginationError(`${where} is not a URL string`);
      const resolved = new URL(raw, response.requestUrl).toString();
      const url = response.acceptUrl ? response.acceptUrl(resolved) : resolved;
      const recent = guardRepeat(state, url, 'next URL');
      return { done: false, label: urlLabel(after, url), state: { ...after, recent, request: { url } } };
    }
  }
}
