/**
 * Paginators: Airbyte's DefaultPaginator with a CursorPagination, OffsetIncrement or PageIncrement
 * strategy, its page_token_option and page_size_option, and a cursor's stop_condition, as Syncwright's
 * `pagination` (cursor, next-url, link-header, offset, page) plus the request templates that place the
 * token where the manifest puts it.
 */
import type { PaginationConfig, StopRule } from '../../pagination/schema.js';
import { inject, issue, pathOf, typeOf, type StreamContext } from './context.js';
import { accessPath, isInterpolated, parseTemplate, type Node } from './jinja.js';
import { isObject, type Json } from './manifest.js';
import { formatPath, pathSegments } from '../../json/path.js';

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
type CursorSource = (
  | { kind: 'body'; path: string }
  | { kind: 'header'; name: string }
  | { kind: 'link' }
  | { kind: 'first-link' }
  | { kind: 'record'; path: string }
) & {
  /** `| regex_search('…')`: the cursor is the first group of the pattern in the value. */
  pattern?: string;
  /** `x + 1`, `x | int + 1`: a page number read from the answer, moved on. */
  add?: number;
};

/** A dot path of keys; one with a dot of its own is quoted (`['@odata.nextLink']`). */
function dotted(path: string[]): string | undefined {
  return path.every((k) => k !== '') ? formatPath(path.map((key) => ({ key }))) : undefined;
}

/** The keys of a dot path the translator wrote (quoted keys unquoted). */
function keysOf(path: string): string[] {
  return pathSegments(path).map((s) => (s === '*' ? '*' : s.key));
}

/** A key with a dot of its own in the expression's access path (`response.get('@odata.nextLink')`). */
function dottedKey(node: Node | undefined): string | undefined {
  let n = node;
  while (n?.k === 'filter') n = n.value;
  return n && accessPath(n)?.path.find((k) => k.includes('.'));
}

/**
 * A Python regular expression that means the same in JavaScript: groups, classes and quantifiers, no
 * inline flags, named groups or anchors only Python has.
 */
function portablePattern(pattern: string): boolean {
  const escapes = new Set([...'\\dDwWsSbB.^$|?*+()[]{}/&=~#-ntrfv123456789']);
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (!escapes.has(pattern[i + 1] ?? '')) return false;
      i++;
    } else if (c === '(' && pattern[i + 1] === '?' && !':=!'.includes(pattern[i + 2] ?? '')) return false;
    else if (c === '[' && pattern[i + 1] === '[' && pattern[i + 2] === ':') return false;
  }
  try {
    return new RegExp(`${pattern}|`).exec('')!.length > 1;
  } catch {
    return false;
  }
}

/**
 * `headers.get('Link', {}).split(';')[0][1:-1]`: the URL of the Link header's first link, written as
 * text slicing (which the expression parser does not read), so matched as written.
 */
function firstLinkUrl(value: Json | undefined): boolean {
  return (
    typeof value === 'string' &&
    /^\{\{\s*headers(?:\.get\(\s*(["'])link\1\s*(?:,\s*\{\}\s*)?\)|\[\s*(["'])link\2\s*\])\.split\(\s*(["']);\3\s*\)\[0\]\[1:-1\]\s*\}\}$/i.test(
      value.trim(),
    )
  );
}

function cursorSource(node: Node, recordsPath: string): CursorSource | undefined {
  const n = node;
  // `x + 1`: a page number from the answer, plus one (`| int` reads it as a number first).
  if (n.k === 'bin' && n.op === '+' && n.right.k === 'lit' && typeof n.right.value === 'number') {
    if (!Number.isInteger(n.right.value)) return undefined;
    const add = n.right.value;
    const inner =
      n.left.k === 'filter' && n.left.name === 'int' && n.left.args.length === 0 ? n.left.value : n.left;
    const base = plainSource(inner, recordsPath);
    return base && base.kind !== 'link' && base.pattern === undefined ? { ...base, add } : undefined;
  }
  // `x | regex_search('…')`: what the pattern's first group captures in x.
  if (n.k === 'filter' && n.name === 'regex_search') {
    const arg = n.args[0];
    if (
      n.args.length !== 1 ||
      arg?.k !== 'lit' ||
      typeof arg.value !== 'string' ||
      !portablePattern(arg.value)
    )
      return undefined;
    const base = plainSource(n.value, recordsPath);
    return base && base.kind !== 'link' ? { ...base, pattern: arg.value } : undefined;
  }
  return plainSource(n, recordsPath);
}

function plainSource(node: Node, recordsPath: string): CursorSource | undefined {
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
  // `| default(None)`: a missing value is none, which ends paging just as a missing cursor does.
  while (
    n.k === 'filter' &&
    (['string', 'trim', 'urlencode'].includes(n.name) ||
      (n.name === 'default' &&
        (n.args.length === 0 ||
          (n.args.length === 1 &&
            n.args[0]!.k === 'lit' &&
            (n.args[0].value === null || n.args[0].value === '')))))
  )
    n = n.value;
  const access = accessPath(n);
  if (!access) return undefined;
  const { root } = access;
  const path = access.path;
  if (root === 'response' && path.length > 0) {
    const dot = dotted(path);
    return dot === undefined ? undefined : { kind: 'body', path: dot };
  }
  if (
    root === 'headers' &&
    path.length === 3 &&
    path[0]!.toLowerCase() === 'link' &&
    path[1] === 'next' &&
    path[2] === 'url'
  )
    return { kind: 'link' };
  if (root === 'headers' && path.length === 1) return { kind: 'header', name: path[0]! };
  if (root === 'last_record' && path.length > 0) {
    const dot = dotted(path);
    return dot === undefined ? undefined : { kind: 'record', path: dot };
  }
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
  if (!base || base.root !== 'response' || dotted(base.path) !== recordsPath || keys.length === 0)
    return undefined;
  return dotted(keys);
}

/** What a stop condition adds to a cursor pagination; undefined when it has no equivalent. */
interface StopRules {
  hasMorePath?: string;
  donePath?: string;
  stopWhen?: StopRule[];
}

/**
 * A body path the expression reads, and what a missing key reads as: undefined for `response.x` (which
 * equals nothing), none for `.get('x')`, the default of `.get('x', 0)`, or 'other' for `.get('x', {})`.
 */
function bodyValue(
  n: Node,
): { path: string; missing: { value: string | number | boolean | null } | undefined | 'other' } | undefined {
  const p = accessPath(n);
  const path = p?.root === 'response' && p.path.length > 0 ? dotted(p.path) : undefined;
  if (path === undefined) return undefined;
  if (n.k !== 'call') return { path, missing: undefined };
  const d = n.args[1];
  if (d === undefined) return { path, missing: { value: null } };
  return { path, missing: d.k === 'lit' ? { value: d.value } : 'other' };
}

/** A header the expression reads (`headers.get('Link', {})`, `headers['X-Next']`). */
function headerName(n: Node): string | undefined {
  const p = accessPath(n);
  return p?.root === 'headers' && p.path.length === 1 ? p.path[0] : undefined;
}

/** One test of the answer as stop rules; undefined when it is no such test. */
function stopTest(n: Node): StopRules | undefined {
  const rules = (...stopWhen: StopRule[]): StopRules => ({ stopWhen });
  // `x is not defined`: a key that is not there; `.get('x')` gives none instead, so it never holds.
  if (n.k === 'test' && n.name === 'defined' && n.negated) {
    if (n.value.k === 'call') return accessPath(n.value)?.root === 'response' ? {} : undefined;
    const v = bodyValue(n.value);
    return v && rules({ path: v.path, absent: true });
  }
  const isNone = (x: Node) => x.k === 'lit' && x.value === null;
  // `x is none`, `x == none`, `x == 'inf'`, `x == 0`, `x == y`.
  const compared =
    n.k === 'test' && n.name === 'none' && !n.negated
      ? { left: n.value, right: { k: 'lit', value: null } as Node }
      : n.k === 'bin' && (n.op === '==' || (n.op === 'is' && isNone(n.right)))
        ? { left: n.left, right: n.right }
        : undefined;
  // A comparison with true or false is a has-more or done flag (below).
  if (compared && !(compared.right.k === 'lit' && typeof compared.right.value === 'boolean')) {
    const v = bodyValue(compared.left);
    if (!v) return undefined;
    const { right } = compared;
    if (right.k === 'lit') {
      const equals: StopRule = { path: v.path, equals: right.value };
      // `.get('x') == none`, `.get('x', 0) == 0`: a missing key holds too.
      return typeof v.missing === 'object' && v.missing.value === right.value
        ? rules(equals, { path: v.path, absent: true })
        : rules(equals);
    }
    // Two missing keys are equal (as Jinja's undefined values are); a `.get` default would not be.
    const w = bodyValue(right);
    return w && v.missing === undefined && w.missing === undefined
      ? rules({ path: v.path, equalsPath: w.path })
      : undefined;
  }
  // `not headers.get('Link', {})`: a header that is missing or empty.
  if (n.k === 'unary' && n.op === 'not') {
    const header = headerName(n.arg);
    if (header !== undefined) return rules({ header, absent: true }, { header, equals: '' });
  }
  // `'next' not in headers.get('Link', {})`, `not 'next' in headers['Link']`.
  const inHeader =
    n.k === 'bin' && n.op === 'not in'
      ? n
      : n.k === 'unary' && n.op === 'not' && n.arg.k === 'bin' && n.arg.op === 'in'
        ? n.arg
        : undefined;
  if (inHeader?.left.k === 'lit' && typeof inHeader.left.value === 'string' && inHeader.left.value !== '') {
    const header = headerName(inHeader.right);
    return header === undefined ? undefined : rules({ header, lacks: inHeader.left.value });
  }
  return undefined;
}

function stopRules(node: Node, cursor: CursorSource, recordsPath: string): StopRules | undefined {
  if (node.k === 'bin' && node.op === 'or') {
    const a = stopRules(node.left, cursor, recordsPath);
    const b = stopRules(node.right, cursor, recordsPath);
    if (!a || !b) return undefined;
    if ((a.hasMorePath && b.hasMorePath) || (a.donePath && b.donePath)) return undefined;
    const stopWhen = [...(a.stopWhen ?? []), ...(b.stopWhen ?? [])];
    return { ...a, ...b, ...(stopWhen.length ? { stopWhen } : {}) };
  }
  // The cursor's own path, or an object on the way to it (`response.next` for `response.next.page`).
  const onCursorPath = (root: string, path: string[]) => {
    const full =
      cursor.kind === 'body'
        ? ['response', ...keysOf(cursor.path)]
        : cursor.kind === 'record'
          ? ['last_record', ...keysOf(cursor.path)]
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
      (p.root === 'response' && recordsPath !== '' && dotted(p.path) === recordsPath));
  // "it is absent / empty": the end Syncwright sees anyway (no cursor, or an empty page).
  const absent = (n: Node): boolean => {
    if (n.k === 'unary' && n.op === 'not') return isCursor(accessPath(n.arg)) || lengthOf(n.arg);
    if (n.k === 'test' && n.name === 'none' && !n.negated) return isCursor(accessPath(n.value));
    // `x is not defined` of the cursor: a missing cursor ends paging anyway.
    if (n.k === 'test' && n.name === 'defined' && n.negated) return isCursor(accessPath(n.value));
    if (
      n.k === 'bin' &&
      (n.op === '==' || n.op === 'is') &&
      n.right.k === 'lit' &&
      (n.right.value === null || n.right.value === '')
    )
      return isCursor(accessPath(n.left));
    if (n.k === 'bin' && n.op === 'not in' && n.right.k !== 'lit') {
      const p = accessPath(n.right);
      if (cursor.kind === 'link' && p?.root === 'headers' && p.path[0]?.toLowerCase() === 'link') return true;
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
      dotted(accessPath(n.value)?.path ?? []) === recordsPath);
  if (absent(node)) return {};
  const tested = stopTest(node);
  if (tested) return tested;
  // A flag in the body: `not response.has_more`, `response.has_more == false` → has-more; `response.done` → done.
  const flag = (n: Node, negated: boolean): StopRules | undefined => {
    const p = accessPath(n);
    if (!p || p.root !== 'response' || p.path.length === 0) return undefined;
    const path = dotted(p.path);
    if (path === undefined) return undefined;
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
    // That first page is asked for with the page size, as the first request of the manifest is.
    if (pageSize !== undefined) fixLimit(ctx, pageSize);
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
      const source = firstLinkUrl(strategy.cursor_value)
        ? ({ kind: 'first-link' } as const)
        : valueNode && cursorSource(valueNode, recordsPath);
      if (!source)
        return broken(
          'CursorPagination',
          `${sAt}.cursor_value`,
          dottedKey(valueNode)
            ? `the cursor value ${JSON.stringify(strategy.cursor_value)} reads the key "${dottedKey(valueNode)}", which a dot path cannot name`
            : `the cursor value ${JSON.stringify(strategy.cursor_value)} is not a value of the answer, a header or the last record`,
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
            `the stop condition ${JSON.stringify(strategy.stop_condition)} has no equivalent (Syncwright stops on a missing cursor, an empty page, a has-more or a done flag, or a body value or header tested by stopWhen)`,
          );
        stop = rules;
      }
      ctx.scope.pageToken = 'cursor';
      const size = { ...(pageSize !== undefined ? { pageSize } : {}) };
      const token = placeToken('cursor');
      if (token === 'RequestPath') {
        if (source.kind === 'link' || source.kind === 'first-link')
          return {
            pagination: {
              type: 'link-header',
              ...(source.kind === 'first-link' ? { firstLink: true } : {}),
              ...size,
              ...(sizeParam ? { sizeParam } : {}),
              ...stop,
            },
            complete: true,
          };
        if (source.pattern !== undefined || source.add !== undefined)
          return broken('RequestPath', `${sAt}.cursor_value`, 'a next URL made from a part of a value');
        // The Link header's whole text is no URL (its next URL is `headers.link.next.url`).
        if (source.kind === 'header' && source.name.toLowerCase() === 'link')
          return broken('RequestPath', `${sAt}.cursor_value`, 'the whole Link header taken as a URL');
        if (sizeParam && pageSize !== undefined) ctx.request.query[sizeParam] = pageSize;
        const from =
          source.kind === 'body'
            ? { nextUrlPath: source.path }
            : source.kind === 'record'
              ? { nextUrlRecordPath: source.path }
              : { nextUrlHeader: source.name };
        // A next URL has no {limit}: the page size placed in a header or the body is sent as written.
        if (pageSize !== undefined) fixLimit(ctx, pageSize);
        return { pagination: { type: 'next-url', ...from, ...stop }, complete: true };
      }
      if (typeof token === 'string')
        return broken(
          'RequestOption',
          pathOf(ctx, tokenOption, 'retriever.paginator.page_token_option'),
          token,
        );
      if (source.kind === 'link' || source.kind === 'first-link') {
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
          ...(source.pattern !== undefined ? { cursorPattern: source.pattern } : {}),
          ...(source.add !== undefined ? { cursorAdd: source.add } : {}),
          param: token.param ?? '_cursor',
          ...size,
          ...(sizeParam ? { limitParam: sizeParam } : {}),
          ...stop,
        },
        complete: true,
      };
    }
    case 'OffsetIncrement': {
      // Without a page size the offset moves by the records of each page and an empty page ends it.
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
          ...(pageSize !== undefined ? { pageSize } : {}),
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
