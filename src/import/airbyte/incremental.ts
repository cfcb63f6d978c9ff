/**
 * Incremental cursors: Airbyte's DatetimeBasedCursor as Syncwright's `incremental` — the cursor field,
 * the start and end options as request templates over `{since}` or `{window.start}`/`{window.end}`
 * formatted by the cursor's datetime_format, a literal start date, the step as windows, the lookback.
 * What has no equivalent yet (client-side filtering, data feeds, per-connection start dates, other
 * cursor types) is reported.
 */
import { inject, issue, literalName, pathOf, typeOf, type StreamContext } from './context.js';
import { cursorFormat, durationSeconds, formatFilter, patternOf, readableTime, stepOf } from './datetime.js';
import { datetimeText, translateBound } from './date-bounds.js';
import { isObject, type Json } from './manifest.js';
import { soleExpression } from './pagination.js';
import { accessPath, type Node } from './jinja.js';
import { DEFAULT_CONSTRUCTS } from './target.js';

export interface IncrementalOut {
  cursorField: string;
  format?: 'iso' | 'unix' | 'unix-ms';
  cursorFormat?: string;
  lookbackSeconds?: number;
  startDate?: string | string[];
  endDate?: string | string[];
  step?: string | number;
  clientSide?: boolean;
  readsAll?: boolean;
  order?: 'descending';
}

/** Whether an end datetime is "now" (the default), which is what Syncwright's window ends at. */
function isNow(text: string): boolean {
  const node = soleExpression(text);
  if (!node) return false;
  let n = node;
  // A format that keeps the seconds is now; one that drops them (today's date) is an earlier end.
  const keepsSeconds = (f: Node | undefined) =>
    f?.k === 'lit' && typeof f.value === 'string' && /%S|^\s*%m?s\s*$/.test(f.value);
  if (n.k === 'call' && n.fn.k === 'attr' && n.fn.name === 'isoformat') n = n.fn.obj;
  else if (n.k === 'call' && n.fn.k === 'attr' && n.fn.name === 'strftime') {
    if (!keepsSeconds(n.args[0])) return false;
    n = n.fn.obj;
  }
  if (n.k === 'call' && n.fn.k === 'name' && n.fn.name === 'format_datetime' && n.args[0]) {
    if (!keepsSeconds(n.args[1])) return false;
    n = n.args[0];
  }
  return n.k === 'call' && n.fn.k === 'name' && n.fn.name === 'now_utc';
}

/**
 * A step whose number of days (or hours, minutes, seconds) is a config value, `P{{ config.days }}D` or
 * `P{{ config.get('days', 30) }}D`, as `{config.days|default:30}d`; the default is the `get`'s, else
 * the config schema's (what a connection set up from the schema holds). Only a number field, and only
 * a whole positive default, or undefined.
 */
export function configStep(text: string, ctx: StreamContext): string | undefined {
  const m = /^P(T?)(\{\{[^{}]*\}\})([DHMS])$/.exec(text.trim());
  if (!m || (m[1] === 'T') !== (m[3] !== 'D')) return undefined;
  const unit = ({ D: 'd', H: 'h', M: 'm', S: 's' } as const)[m[3] as 'D'];
  const node = soleExpression(m[2]);
  const access = node && accessPath(node);
  if (!node || access?.root !== 'config' || access.path.length === 0) return undefined;
  const types = [ctx.config.typeOf(access.path)].flat();
  if (!types.includes('integer') && !types.includes('number')) return undefined;
  if (ctx.config.isSecret(access.path)) return undefined;
  const second = node.k === 'call' ? node.args[1] : undefined;
  const given = second ? (second.k === 'lit' ? second.value : null) : ctx.config.defaultOf(access.path);
  if (given !== undefined && !(typeof given === 'number' && Number.isInteger(given) && given > 0))
    return undefined;
  const name = ctx.config.use(access.path, 'value');
  return `{config.${name}${given === undefined ? '' : `|default:${given}`}}${unit}`;
}

/**
 * Prepares the window names for the scope before the request is translated (requests may place
 * `stream_interval.start_time` themselves), and returns a finisher that adds the options and settings.
 */
export function prepareIncremental(
  cursor: Json | undefined,
  ctx: StreamContext,
  requesterText = '',
): ((placed: boolean) => IncrementalOut | undefined) | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  const at = pathOf(ctx, cursor, 'incremental_sync');
  if (!isObject(cursor) || cursor.type !== 'DatetimeBasedCursor') {
    issue(
      ctx,
      at,
      typeOf(cursor),
      'incremental',
      'this cursor type has no equivalent: the stream is imported for full syncs only',
    );
    return undefined;
  }
  const cursorField = literalName(cursor.cursor_field, ctx);
  if (!cursorField) {
    issue(
      ctx,
      `${at}.cursor_field`,
      'cursor_field',
      'incremental',
      'not a literal field name: the stream is imported for full syncs only',
    );
    return undefined;
  }
  const datetimeFormat =
    typeof cursor.datetime_format === 'string' ? cursor.datetime_format : '%Y-%m-%dT%H:%M:%S.%f%z';
  const filter = formatFilter(datetimeFormat);
  const formatKnown = filter !== undefined || /^%Y-%m-%dT%H:%M:%S(\.%f)?(%z|Z)$/.test(datetimeFormat);
  if (!formatKnown) {
    issue(
      ctx,
      `${at}.datetime_format`,
      'datetime_format',
      'incremental',
      `the format "${datetimeFormat}" has no equivalent: the stream is imported for full syncs only`,
    );
    return undefined;
  }
  // The high-water mark is the greatest cursor value of the records: they must read as times, in order.
  const recordFormats =
    Array.isArray(cursor.cursor_datetime_formats) && cursor.cursor_datetime_formats.length > 0
      ? cursor.cursor_datetime_formats.filter((f): f is string => typeof f === 'string')
      : [datetimeFormat];
  const unreadable = recordFormats.find((f) => !readableTime(f));
  // One other format, written in fields the pattern language reads back, is read by that pattern.
  const readBy = unreadable !== undefined && recordFormats.length === 1 ? patternOf(unreadable) : undefined;
  if (unreadable !== undefined && readBy === undefined) {
    issue(
      ctx,
      `${at}.${Array.isArray(cursor.cursor_datetime_formats) ? 'cursor_datetime_formats' : 'datetime_format'}`,
      'DatetimeBasedCursor',
      'incremental',
      `cursor values written as "${unreadable}" are not read as times in order (Syncwright reads ISO 8601 and unix times): the stream is imported for full syncs only`,
    );
    return undefined;
  }
  const stepText = typeof cursor.step === 'string' ? cursor.step : undefined;
  const step = stepText ? (stepOf(stepText) ?? configStep(stepText, ctx)) : undefined;
  const endGiven = datetimeText(cursor.end_datetime);
  const endOption = isObject(cursor.end_time_option) ? cursor.end_time_option : undefined;
  // A range when the end is sent or the range is read in steps; otherwise an open-ended start.
  const startKeys = [
    'start_time',
    ...(typeof cursor.partition_field_start === 'string' ? [cursor.partition_field_start] : []),
  ];
  const endKeys = [
    'end_time',
    ...(typeof cursor.partition_field_end === 'string' ? [cursor.partition_field_end] : []),
  ];
  const placesEnd = endKeys.some((k) =>
    new RegExp(`stream_(interval|slice|partition)[^a-z_]+${k}\\b`).test(requesterText),
  );
  const ranged = endOption !== undefined || step !== undefined || placesEnd;
  ctx.scope.window = {
    startKeys,
    endKeys,
    filter: filter === 'iso' ? undefined : filter,
    cursorField,
    ranged,
  };

  return (placedByRequest) => {
    const out: IncrementalOut = { cursorField, ...(readBy ? { cursorFormat: readBy } : {}) };
    const fmt = cursorFormat(
      Array.isArray(cursor.cursor_datetime_formats) && typeof cursor.cursor_datetime_formats[0] === 'string'
        ? cursor.cursor_datetime_formats[0]
        : datetimeFormat,
    );
    if (fmt !== 'iso') out.format = fmt;
    const fmtFilter = ctx.scope.window?.filter;
    const tpl = (name: string) => `{${[name, ...(fmtFilter ? [fmtFilter] : [])].join('|')}}`;
    let placed = placedByRequest;
    const startOption = isObject(cursor.start_time_option) ? cursor.start_time_option : undefined;
    if (startOption) {
      const why = inject(startOption, tpl(ranged ? 'window.start' : 'since'), ctx);
      if (why) {
        issue(
          ctx,
          pathOf(ctx, startOption, 'incremental_sync.start_time_option'),
          'RequestOption',
          'incremental',
          `${why}: the stream is imported for full syncs only`,
        );
        return undefined;
      }
      placed = true;
    }
    if (endOption) {
      const why = inject(endOption, tpl('window.end'), ctx);
      if (why) {
        issue(
          ctx,
          pathOf(ctx, endOption, 'incremental_sync.end_time_option'),
          'RequestOption',
          'incremental',
          `${why}: the stream is imported for full syncs only`,
        );
        return undefined;
      }
    }
    // A record filter `record.<cursor> >= stream_interval.start_time` is client-side incremental
    // written by hand: records before the window's start are skipped (the stream's floor).
    const byFilter =
      ctx.windowFilter?.field === cursorField &&
      stepText === undefined &&
      (ctx.scope.constructs ?? DEFAULT_CONSTRUCTS).clientSide;
    if (byFilter) ctx.windowFilter = undefined;
    const clientSide = cursor.is_client_side_incremental === true || cursor.is_data_feed === true || byFilter;
    if (clientSide && (ctx.scope.constructs ?? DEFAULT_CONSTRUCTS).clientSide) {
      // Records at or below the high-water mark are skipped; a data feed is newest first.
      out.clientSide = true;
      if (cursor.is_data_feed === true) out.order = 'descending';
    } else if (clientSide) {
      issue(
        ctx,
        `${at}.${cursor.is_data_feed === true ? 'is_data_feed' : 'is_client_side_incremental'}`,
        'DatetimeBasedCursor',
        'incremental',
        'client-side incremental filtering has no equivalent yet: the stream is imported for full syncs only',
      );
      return undefined;
    }
    if (!placed && !out.clientSide) {
      // Airbyte filters records on such a cursor only when it is declared client-side: every sync
      // reads and emits every record, and only the state moves. `readsAll` is that.
      if (!(ctx.scope.constructs ?? DEFAULT_CONSTRUCTS).readsAll) {
        issue(
          ctx,
          at,
          'DatetimeBasedCursor',
          'incremental',
          'no request carries the cursor (no start_time_option and no template): the stream is imported for full syncs only',
        );
        return undefined;
      }
      issue(
        ctx,
        at,
        'DatetimeBasedCursor',
        'note',
        'no request carries the cursor and it is not client-side, so Airbyte reads and emits every record on every sync: incremental.readsAll',
      );
      return {
        cursorField,
        ...(out.format ? { format: out.format } : {}),
        ...(readBy ? { cursorFormat: readBy } : {}),
        readsAll: true,
      };
    }
    if (stepText && out.clientSide) {
      // A provider that cannot filter cannot be asked for windows: the step only sliced requests.
    } else if (stepText) {
      if (step === undefined)
        issue(
          ctx,
          `${at}.step`,
          'step',
          'differs',
          `the step "${stepText}" is ${stepText.includes('{{') ? 'computed (from config), which a spec step cannot be' : 'not a whole number of seconds'}: the range is read in one window`,
        );
      else out.step = step;
    }
    const lookback =
      typeof cursor.lookback_window === 'string' ? durationSeconds(cursor.lookback_window) : undefined;
    if (typeof cursor.lookback_window === 'string' && lookback === undefined)
      issue(
        ctx,
        `${at}.lookback_window`,
        'lookback_window',
        'differs',
        `"${cursor.lookback_window}" is not a fixed duration: no lookback`,
      );
    if (lookback) out.lookbackSeconds = Math.round(lookback);

    const bound = (which: 'start_datetime' | 'end_datetime') => {
      const given = datetimeText(cursor[which]);
      if (!given) return undefined;
      const result = translateBound(given.text, given.format ?? datetimeFormat, ctx);
      if (given.component && (given.component.min_datetime || given.component.max_datetime))
        issue(
          ctx,
          `${at}.${which}`,
          'MinMaxDatetime',
          'differs',
          'min_datetime/max_datetime bounds are not applied',
        );
      return { given, result };
    };
    const start = bound('start_datetime');
    if (start?.result.ok) out.startDate = start.result.bound;
    else if (start && !start.result.ok)
      issue(
        ctx,
        `${at}.start_datetime`,
        'start_datetime',
        'differs',
        `"${start.given.text}": ${start.result.reason}: a first run reads from the provider's beginning`,
      );
    const end = endGiven && !isNow(endGiven.text) ? bound('end_datetime') : undefined;
    if (end?.result.ok) out.endDate = end.result.bound;
    else if (end && !end.result.ok)
      issue(
        ctx,
        `${at}.end_datetime`,
        'end_datetime',
        'differs',
        `"${end.given.text}": ${end.result.reason}: the range ends at the time of the run`,
      );
    if (cursor.clamping)
      issue(ctx, `${at}.clamping`, 'clamping', 'differs', 'windows are not clamped to calendar periods');
    return out;
  };
}
