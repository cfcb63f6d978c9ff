/**
 * Paginators: Airbyte's DefaultPaginator with a CursorPagination, OffsetIncrement or PageIncrement
 * strategy, its page_token_option and page_size_option, and a cursor's stop_condition, as Syncwright's
 * `pagination` (cursor, next-url, link-header, offset, page) plus the request templates that place the
 * token where the manifest puts it.
 */
import type { PaginationConfig } from '../../pagination/schema.js';
import { inject, issue, pathOf, typeOf, type StreamContext } from './context.js';
import { accessPath, isInterpolated, parseTemplate, type Node } from './jinja.js';
import { isObject, type Json } from './manifest.js';

/** A Syncwright pagination section (checked by the spec schema when the spec is assembled). */
type Pagination = { type: PaginationConfig['type'] } & Record<string, unknown>;

/** The single expression of a `{{ … }}` string, or undefined when it is more than one. */
export function soleExpression(value: Json | undefined): Node | undefined {
  if (typeof value !== 'string' || !isInterpolated(value)) return undefined;
  try {
    const parts = parseTemplate(value.trim());
    return parts.length === 1 && 'expr' in parts[0]! ? parts[0].expr : undefined;
  } catch {
    return undefined;
  }
}

/** Where a cursor comes from: a body path, a header, the Link header's next URL, or the last record. */
type CursorSource =
  | { kind: 'body'; path: string }
  | { kind: 'header'; name: string }
  | { kind: 'link' }
  | { kind: 'record'; path: string };

function cursorSource(node: Node, recordsPath: string): CursorSource | undefined {
  let n = node;
  // `x if last_record else None`, `x if response.y else None`: a missing x ends paging either way.
  if (
    n.k === 'cond' &&
    (n.else === undefined || (n.else.k === 'lit' && (n.else.value === null || n.else.value === '')))
  )
    n = n.then;
  // `response.<records>[-1].id`: a field of the page's last record.
  const last = lastRecordField(n, recordsPath);
  if (last) return { kind: 'record', path: last };
  while (n.k === 'filter' && ['string', 'trim', 'urlencode'].includes(n.name)) n = n.value;
  const access = accessPath(n);
  if (!access) return undefined;
  const { root, path } = access;
  if (root === 'response' && path.length > 0) return { kind: 'body', path: path.join('.') };
  if (
    root === 'headers' &&
    path.length === 3 &&
    path[0]!.toLowerCase() === 'link' &&
    path[1] === 'next' &&
    path[2] === 'url'
  )
    return { kind: 'link' };
  if (root === 'headers' && path.length === 1) return { kind: 'header', name: path[0]! };
  if (root === 'last_record' && path.length > 0) return { kind: 'record', path: path.join('.') };
  return undefined;
}

/** `response['entries'][-1]['uuid']` with `entries` the records path → `uuid`. */
function lastRecordField(node: Node, recordsPath: string): string | undefined {
  const keys: string[] = [];
  let n = node;
  for (;;) {
    if (n.k === 'attr') {
      keys.unshift(n.name);
      n = n.obj;
    } else if (n.k === 'call' && n.fn.k === 'attr' && n.fn.name === 'get' && n.args[0]?.k === 'lit') {
      keys.unshift(String(n.args[0].value));
      n = n.fn.obj;
    } else break;
  }
  if (
    n.k !== 'index' ||
    !(n.index.k === 'unary' && n.index.op === '-' && n.index.arg.k === 'lit' && n.index.arg.value === 1)
  )
    return undefined;
  const base = accessPath(n.obj);
  if (!base || base.root !== 'response' || base.path.join('.') !== recordsPath || keys.length === 0)
    return undefined;
  return keys.join('.');
}

/** What a stop condition adds to a cursor pagination; undefined when it has no equivalent. */
interface StopRules {
  hasMorePath?: string;
  donePath?: string;
}

function stopRules(node: Node, cursor: CursorSource, recordsPath: string): StopRules | undefined {
  if (node.k === 'bin' && node.op === 'or') {
    const a = stopRules(node.left, cursor, recordsPath);
    const b = stopRules(node.right, cursor, recordsPath);
    if (!a || !b) return undefined;
    if ((a.hasMorePath && b.hasMorePath) || (a.donePath && b.donePath)) return undefined;
    return { ...a, ...b };
  }
  // The cursor's own path, or an object on the way to it (`response.next` for `response.next.page`).
  const onCursorPath = (root: string, path: string[]) => {
    const full =
      cursor.kind === 'body'
        ? ['response', ...cursor.path.split('.')]
        : cursor.kind === 'record'
          ? ['last_record', ...cursor.path.split('.')]
          : undefined;
    const mine = [root, ...path];
    return (
      full !== undefined &&
      mine.length > 1 &&
      mine.length <= full.length &&
      mine.every((k, i) => full[i] === k)
    );
  };
  const isCursor = (p: { root: string; path: string[] } | undefined) =>
    p !== undefined &&
    (onCursorPath(p.root, p.path) ||
      (cursor.kind === 'header' &&
        p.root === 'headers' &&
        p.path.length === 1 &&
        p.path[0] === cursor.name) ||
      (cursor.kind === 'link' && p.root === 'headers' && p.path[0]?.toLowerCase() === 'link') ||
      (p.root === 'response' && recordsPath !== '' && p.path.join('.') === recordsPath));
  // "it is absent / empty": the end Syncwright sees anyway (no cursor, or an empty page).
  const absent = (n: Node): boolean => {
    if (n.k === 'unary' && n.op === 'not') return isCursor(accessPath(n.arg)) || lengthOf(n.arg);
    if (n.k === 'test' && n.name === 'none' && !n.negated) return isCursor(accessPath(n.value));
    if (
      n.k === 'bin' &&
      (n.op === '==' || n.op === 'is') &&
      n.right.k === 'lit' &&
      (n.right.value === null || n.right.value === '')
    )
      return isCursor(accessPath(n.left));
    if (n.k === 'bin' && n.op === 'not in' && n.right.k !== 'lit') {
      const p = accessPath(n.right);
      if (p?.root === 'headers' && p.path[0]?.toLowerCase() === 'link') return true;
      // `'next_token' not in response['meta']`: the cursor's key is absent.
      return (
        p !== undefined &&
        n.left.k === 'lit' &&
        typeof n.left.value === 'string' &&
        onCursorPath(p.root, [...p.path, n.left.value])
      );
    }
    if (n.k === 'bin' && n.op === '==' && n.right.k === 'lit' && n.right.value === 0)
      return lengthOf(n.left) || (n.left.k === 'name' && n.left.name === 'last_page_size');
    return false;
  };
  const lengthOf = (n: Node): boolean =>
    (n.k === 'filter' && n.name === 'length' && isCursor(accessPath(n.value))) ||
    (n.k === 'call' &&
      n.fn.k === 'name' &&
      n.fn.name === 'len' &&
      n.args[0] !== undefined &&
      isCursor(accessPath(n.args[0]))) ||
    (n.k === 'filter' &&
      n.name === 'length' &&
      accessPath(n.value)?.root === 'response' &&
      accessPath(n.value)?.path.join('.') === recordsPath);
  if (absent(node)) return {};
  // A flag in the body: `not response.has_more`, `response.has_more == false` → has-more; `response.done` → done.
  const flag = (n: Node, negated: boolean): StopRules | undefined => {
    const p = accessPath(n);
    if (!p || p.root !== 'response' || p.path.length === 0) return undefined;
    const path = p.path.join('.');
    return negated ? { hasMorePath: path } : { donePath: path };
  };
  if (node.k === 'unary' && node.op === 'not') return flag(node.arg, true);
  if (
    node.k === 'bin' &&
    (node.op === '==' || node.op === '!=' || node.op === 'is') &&
    node.right.k === 'lit' &&
    typeof node.right.value === 'boolean'
  ) {
    const truth = node.op === '!=' ? !node.right.value : node.right.value;
    return flag(node.left, !truth);
  }
  if (node.k === 'test' && (node.name === 'false' || node.name === 'true'))
    return flag(node.value, (node.name === 'false') !== node.negated);
  if (node.k === 'name' || node.k === 'attr' || node.k === 'call') return flag(node, false);
  return undefined;
}

/** A page size: a number, or a config value (its schema default, else 100, reported). */
function pageSizeOf(value: Json | undefined, ctx: StreamContext, at: string): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value);
  if (value === undefined || value === null) return undefined;
  const node = soleExpression(value);
  const access = node && accessPath(node.k === 'filter' ? node.value : node);
  if (access?.root === 'config') {
    const d = ctx.config.defaultOf(access.path);
    const size = typeof d === 'number' && d > 0 ? d : 100;
    issue(
      ctx,
      at,
      'page_size',
      'differs',
      `the page size from config.${access.path.join('.')} is fixed at ${size} (Syncwright's page size is part of the spec)`,
    );
    return size;
  }
  return undefined;
}

export interface PaginationResult {
  pagination: Pagination;
  /** false when the stream would read only part of its pages. */
  complete: boolean;
}

/** Translates a retriever's paginator. `recordsPath` helps read stop conditions on the records array. */
export function translatePaginator(
  paginator: Json | undefined,
  ctx: StreamContext,
  recordsPath: string,
): PaginationResult {
  const none: PaginationResult = { pagination: { type: 'none' }, complete: true };
  if (paginator === undefined || paginator === null) return none;
  const at = pathOf(ctx, paginator, 'retriever.paginator');
  if (!isObject(paginator)) return none;
  if (paginator.type === 'NoPagination') return none;
  if (paginator.type !== 'DefaultPaginator') {
    issue(
      ctx,
      at,
      typeOf(paginator),
      'data',
      'this paginator has no equivalent: only the first page would be read',
    );
    return { pagination: { type: 'none' }, complete: false };
  }
  const strategy = paginator.pagination_strategy;
  const sAt = pathOf(ctx, strategy, 'retriever.paginator.pagination_strategy');
  if (!isObject(strategy)) {
    issue(ctx, sAt, 'pagination_strategy', 'data', 'missing: only the first page would be read');
    return { pagination: { type: 'none' }, complete: false };
  }
  const tokenOption = isObject(paginator.page_token_option) ? paginator.page_token_option : undefined;
  const sizeOption = isObject(paginator.page_size_option) ? paginator.page_size_option : undefined;
  const pageSize = pageSizeOf(strategy.page_size, ctx, `${sAt}.page_size`);
  const broken = (component: string, path: string, message: string): PaginationResult => {
    issue(ctx, path, component, 'data', `${message}: only the first page would be read`);
    return { pagination: { type: 'none' }, complete: false };
  };

  /** Places `{limit}` where page_size_option says; a query parameter is pagination's own. */
  const placeSize = (): string | undefined | false => {
    if (!sizeOption || pageSize === undefined) return undefined;
    if (sizeOption.inject_into === 'request_parameter') {
      const name = sizeOption.field_name;
      return typeof name === 'string' && !isInterpolated(name)
        ? name
        : (inject(sizeOption, '{limit}', ctx), undefined);
    }
    const why = inject(sizeOption, '{limit}', ctx);
    if (why) {
      issue(
        ctx,
        pathOf(ctx, sizeOption, 'retriever.paginator.page_size_option'),
        'RequestOption',
        'data',
        why,
      );
      return false;
    }
    return undefined;
  };

  /** Places the token (`{cursor}`, `{page}`, `{offset}`); a query parameter name is returned instead. */
  const placeToken = (placeholder: string): { param?: string } | string => {
    if (!tokenOption) return {};
    if (tokenOption.type === 'RequestPath') return 'RequestPath';
    if (
      tokenOption.inject_into === 'request_parameter' &&
      typeof tokenOption.field_name === 'string' &&
      !isInterpolated(tokenOption.field_name)
    )
      return { param: tokenOption.field_name };
    const why = inject(tokenOption, `{${placeholder}}`, ctx);
    return why ? `page_token_option: ${why}` : {};
  };

  const sizeParam = placeSize();
  if (sizeParam === false) return { pagination: { type: 'none' }, complete: false };

  switch (strategy.type) {
    case 'CursorPagination': {
      const valueNode = soleExpression(strategy.cursor_value);
      const source = valueNode && cursorSource(valueNode, recordsPath);
      if (!source)
        return broken(
          'CursorPagination',
          `${sAt}.cursor_value`,
          `the cursor value ${JSON.stringify(strategy.cursor_value)} is not a value of the answer, a header or the last record`,
        );
      let stop: StopRules = {};
      if (
        strategy.stop_condition !== undefined &&
        strategy.stop_condition !== null &&
        strategy.stop_condition !== ''
      ) {
        const stopNode = soleExpression(strategy.stop_condition);
        const rules = stopNode && stopRules(stopNode, source, recordsPath);
        if (!rules)
          return broken(
            'CursorPagination',
            `${sAt}.stop_condition`,
            `the stop condition ${JSON.stringify(strategy.stop_condition)} has no equivalent (Syncwright stops on a missing cursor, an empty page, a has-more or a done flag)`,
          );
        stop = rules;
      }
      ctx.scope.pageToken = 'cursor';
      const size = { ...(pageSize !== undefined ? { pageSize } : {}) };
      const token = placeToken('cursor');
      if (token === 'RequestPath') {
        if (source.kind === 'link')
          return {
            pagination: { type: 'link-header', ...size, ...(sizeParam ? { sizeParam } : {}), ...stop },
            complete: true,
          };
        if (source.kind !== 'body')
          return broken(
            'RequestPath',
            `${sAt}.cursor_value`,
            'a next URL taken from a header other than Link or from a record',
          );
        if (sizeParam && pageSize !== undefined) ctx.request.query[sizeParam] = pageSize;
        // A next URL has no {limit}: the page size placed in a header or the body is sent as written.
        if (pageSize !== undefined) fixLimit(ctx, pageSize);
        return { pagination: { type: 'next-url', nextUrlPath: source.path, ...stop }, complete: true };
      }
      if (typeof token === 'string')
        return broken(
          'RequestOption',
          pathOf(ctx, tokenOption, 'retriever.paginator.page_token_option'),
          token,
        );
      if (source.kind === 'link') {
        // The next URL's own query would be lost if only its text were sent as a parameter.
        return broken('CursorPagination', `${sAt}.cursor_value`, 'the Link header URL sent as a parameter');
      }
      const from =
        source.kind === 'body'
          ? { cursorPath: source.path }
          : source.kind === 'header'
            ? { cursorHeader: source.name }
            : { lastRecordPath: source.path };
      return {
        pagination: {
          type: 'cursor',
          ...from,
          param: token.param ?? '_cursor',
          ...size,
          ...(sizeParam ? { limitParam: sizeParam } : {}),
          ...stop,
        },
        complete: true,
      };
    }
    case 'OffsetIncrement': {
      if (pageSize === undefined)
        return broken(
          'OffsetIncrement',
          `${sAt}.page_size`,
          "without a page size: Syncwright's offset style needs one",
        );
      ctx.scope.pageToken = 'offset';
      const token = placeToken('offset');
      if (typeof token === 'string')
        return broken(
          'RequestOption',
          pathOf(ctx, tokenOption, 'retriever.paginator.page_token_option'),
          token,
        );
      return {
        pagination: {
          type: 'offset',
          offsetParam: token.param ?? 'offset',
          // Without a page_size_option the size is only where the manifest places it (or nowhere).
          limitParam: sizeParam || false,
          pageSize,
        },
        complete: true,
      };
    }
    case 'PageIncrement': {
      ctx.scope.pageToken = 'page';
      const start = typeof strategy.start_from_page === 'number' ? strategy.start_from_page : 0;
      const token = placeToken('page');
      if (typeof token === 'string')
        return broken(
          'RequestOption',
          pathOf(ctx, tokenOption, 'retriever.paginator.page_token_option'),
          token,
        );
      return {
        pagination: {
          type: 'page',
          pageParam: token.param ?? 'page',
          startPage: start,
          ...(pageSize !== undefined ? { pageSize } : {}),
          ...(sizeParam ? { sizeParam } : {}),
        },
        complete: true,
      };
    }
    default:
      return broken(typeOf(strategy), sAt, 'this pagination strategy has no equivalent');
  }
}

/** `{limit}` in the headers or body replaced by the page size itself. */
function fixLimit(ctx: StreamContext, pageSize: number): void {
  for (const [k, v] of Object.entries(ctx.request.headers))
    if (v === '{limit}') ctx.request.headers[k] = String(pageSize);
  const walk = (node: Record<string, Json>) => {
    for (const [k, v] of Object.entries(node)) {
      if (v === '{limit}') node[k] = pageSize;
      else if (isObject(v)) walk(v);
    }
  };
  if (ctx.request.body) walk(ctx.request.body);
}
