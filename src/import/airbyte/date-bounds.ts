/**
 * A DatetimeBasedCursor's `start_datetime` / `end_datetime` as Syncwright's `incremental.startDate` /
 * `endDate`: a literal date, the connection's config, a time relative to the run
 * (`day_delta(-30)`, `now_utc() - duration('P7D')`), or alternatives of those (`config.start_date or
 * day_delta(-30)`, `config.get('start_date', '2020-01-01')`, `| default(…)`) as a list whose first
 * value wins, which is what Jinja's `or` does with an empty or missing config value.
 */
import type { StreamContext } from './context.js';
import { isoFilterOf, patternOf, readableTime } from './datetime.js';
import { expressionValue } from './expressions.js';
import { accessPath, isInterpolated, show, type Node } from './jinja.js';
import { isObject, type Component, type Json } from './manifest.js';
import { soleExpression } from './pagination.js';
import { DEFAULT_CONSTRUCTS } from './target.js';

export type BoundResult = { ok: true; bound: string | string[] } | { ok: false; reason: string };

/** The text of a MinMaxDatetime or a plain datetime value, and its own parse format. */
export function datetimeText(
  value: Json | undefined,
): { text: string; component?: Component; format?: string } | undefined {
  if (typeof value === 'string') return { text: value };
  if (isObject(value) && typeof value.datetime === 'string')
    return {
      text: value.datetime,
      component: value,
      ...(typeof value.datetime_format === 'string' ? { format: value.datetime_format } : {}),
    };
  return undefined;
}

/** The alternatives of `a or b`, `x | default(y)` and `config.get('x', y)`, in order. */
function alternatives(node: Node): Node[] {
  if (node.k === 'bin' && node.op === 'or') return [...alternatives(node.left), ...alternatives(node.right)];
  if (node.k === 'filter' && (node.name === 'default' || node.name === 'd') && node.args[0])
    return [...alternatives(node.value), ...alternatives(node.args[0])];
  if (
    node.k === 'call' &&
    node.fn.k === 'attr' &&
    node.fn.name === 'get' &&
    node.fn.obj.k === 'name' &&
    node.fn.obj.name === 'config' &&
    node.args.length === 2
  )
    return [{ k: 'call', fn: node.fn, args: [node.args[0]!], kwargs: {} }, ...alternatives(node.args[1]!)];
  return [node];
}

function isoOf(text: string): string | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * A bound for a datetime text, parsed by `parseFormat` (the MinMaxDatetime's, else the cursor's).
 * Config values read as Airbyte reads them: ISO text as it is, numbers (or `%s` text) as unix times.
 */
export function translateBound(text: string, parseFormat: string, ctx: StreamContext): BoundResult {
  if (!isInterpolated(text)) {
    const iso = isoOf(text);
    return iso ? { ok: true, bound: iso } : { ok: false, reason: `"${text}" is not a date` };
  }
  const node = soleExpression(text);
  if (!node) return { ok: false, reason: `"${text}" is not one expression` };
  const unixText = /^\s*%(s|ms)\s*$/.test(parseFormat);
  const out: string[] = [];
  for (const alt of alternatives(node)) {
    if (alt.k === 'lit') {
      if (alt.value === null || alt.value === '') continue;
      const iso = typeof alt.value === 'string' ? isoOf(alt.value) : undefined;
      if (!iso) return { ok: false, reason: `"${show(alt)}" is not a date` };
      out.push(iso);
      continue;
    }
    // format_datetime(config.start_date, …) is the same instant: a start date reads any ISO form.
    let leaf: Node = alt;
    if (leaf.k === 'call' && leaf.fn.k === 'name' && leaf.fn.name === 'format_datetime' && leaf.args[0])
      leaf = leaf.args[0];
    const access = accessPath(leaf);
    if (access?.root === 'config') {
      if (access.path.length === 0 || ctx.config.isSecret(access.path))
        return { ok: false, reason: `"${show(leaf)}" is not a plain config value` };
      if (!(ctx.scope.constructs ?? DEFAULT_CONSTRUCTS).configStart)
        return { ok: false, reason: 'a start date per connection has no equivalent' };
      // Config text written otherwise than ISO 8601 (`15/03/2026 12:34`) is read by its pattern.
      const pattern = leaf === alt && !readableTime(parseFormat) ? patternOf(parseFormat) : undefined;
      if (pattern !== undefined && ctx.config.isText(access.path)) {
        out.push(`{config.${ctx.config.use(access.path, 'value')}|parse:${pattern}}`);
        continue;
      }
      if (!readableTime(parseFormat))
        return {
          ok: false,
          reason: `config values are written as "${parseFormat}", which start and end dates do not read`,
        };
      // A number is a time only where Airbyte parses it as one (`%s`, `%ms`).
      if (!unixText && !ctx.config.isText(access.path))
        return {
          ok: false,
          reason: `config.${access.path.join('.')} is not text, and ${parseFormat} reads text`,
        };
      const name = ctx.config.use(access.path, 'value');
      out.push(unixText ? `{config.${name}|iso}` : `{config.${name}}`);
      continue;
    }
    const v = expressionValue(alt, { ...ctx.scope, window: undefined, partition: {} });
    if ('fail' in v) return { ok: false, reason: v.fail };
    if ('template' in v) return { ok: false, reason: `"${text}": a composed bound has no equivalent` };
    if ('literal' in v) {
      const iso = isoOf(v.literal);
      if (!iso) return { ok: false, reason: `"${v.literal}" is not a date` };
      out.push(iso);
      continue;
    }
    if (v.placeholder !== 'now')
      return { ok: false, reason: `{${v.placeholder}} is not the time of the run or a config value` };
    // The time is formatted only to truncate it: to the same precision, in a form read back as a time.
    const filters = v.filters.map((f) => (/^(plus|minus|default):/.test(f) ? f : isoFilterOf(f)));
    out.push(`{${[v.placeholder, ...filters].join('|')}}`);
  }
  if (out.length === 0) return { ok: false, reason: `"${text}" has no value` };
  // Before issue 20's date side, a bound was a date or a bare {config.x}.
  if (
    !(ctx.scope.constructs ?? DEFAULT_CONSTRUCTS).readsAll &&
    (out.length > 1 || (out[0]!.includes('{') && !/^\{config\.[A-Za-z0-9_]+\}$/.test(out[0]!)))
  )
    return { ok: false, reason: 'relative or computed bounds have no equivalent in this grammar' };
  return { ok: true, bound: out.length === 1 ? out[0]! : out };
}
