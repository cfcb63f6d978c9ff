/**
 * The filters a template may apply, each a pure function of one value (and the clock, for `now`):
 *
 *   iso, unix, unix-ms, date, or a pattern (yyyy MM dd HH mm ss SSS)   a time, formatted (patterns in
 *                                     the fill's time zone, UTC by default; iso is always UTC)
 *   parse:<pattern>                   a text written in a date pattern (`parse:dd/MM/yyyy HH:mm`), read as
 *                                     a UTC time (ISO text), for values that are not ISO 8601
 *   tz:<zone>                         later patterns in the chain are wall-clock times in that IANA zone
 *   plus:<duration>, minus:<duration>                                    time arithmetic (ISO 8601
 *                                     durations: P30D, PT12H, P1M, P1Y2M3DT4H5M6S, P2W; or 30d, 12h, 30m, 45s)
 *   default:<text>                    the text when the value is missing, null or empty
 *   upper, lower, trim                text case and spaces
 *   join:<separator>                  a list's items as text (`{record.tags|join:,}`)
 *   dq, sq                            the value inside a double- or single-quoted query-language string
 *                                     (JQL, SOQL): `\` and the quote are escaped, so it cannot end the string
 *   if:<a>:<b>                        a choice between two literal texts: <a> when the value is set (true,
 *                                     a non-zero number, non-empty text or list), <b> otherwise (also missing)
 *   eq:<text>:<a>:<b>                 <a> when the value, as text, is <text>; <b> otherwise (also missing)
 *                                     (a sandbox host: `https://{config.env|eq:live:api:sandbox}.x.com`)
 *
 * Times are read from ISO 8601 text, or from numbers as unix seconds (or milliseconds when larger
 * than 10^11). A missing value stays missing through every filter except `default`.
 */

import { parsePatternTime, timePatternProblem } from './parse-time.js';

export type Filter =
  | { op: 'format'; pattern: string }
  | { op: 'plus' | 'minus'; duration: Duration }
  | { op: 'default'; text: string }
  | { op: 'join'; separator: string }
  | { op: 'tz'; zone: string }
  | { op: 'parse'; pattern: string }
  | { op: 'if'; then: string; otherwise: string }
  | { op: 'eq'; equals: string; then: string; otherwise: string }
  | { op: 'upper' | 'lower' | 'trim' | 'dq' | 'sq' };

export interface Duration {
  months: number;
  ms: number;
}

const FORMAT_WORDS = new Set(['iso', 'unix', 'unix-ms', 'date']);
const DATE_TOKEN = /yyyy|MM|dd|HH|mm|ss|SSS/g;
const SIMPLE = new Set(['upper', 'lower', 'trim', 'dq', 'sq']);
const WITH_ARG = /^(plus|minus|default|join|tz|parse):([\s\S]*)$/;
/** The choices: literal texts separated by ":" (so no ":" inside them). */
const CHOICE = /^(if|eq):([\s\S]*)$/;
const ISO_DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const SHORT_DURATION = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const FILTER_HELP =
  'use iso, unix, unix-ms, date, a date pattern such as yyyy-MM-dd HH:mm, tz:<zone>, plus:<duration>, minus:<duration>, default:<text>, upper, lower, trim, join:<separator>, dq, sq, if:<a>:<b> or eq:<text>:<a>:<b>';

/** Why a time zone name is not one Intl knows, or undefined. */
export function timeZoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return `unknown time zone "${zone}": use an IANA name such as America/New_York or UTC`;
  }
}

/** A duration (P30D, PT1H, 30d…), or undefined when it is not one. */
export function parseDuration(text: string): Duration | undefined {
  const short = SHORT_DURATION.exec(text);
  if (short) return { months: 0, ms: Number(short[1]) * UNIT_MS[short[2] as keyof typeof UNIT_MS] };
  const m = ISO_DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  return {
    months: n(1) * 12 + n(2),
    ms: ((n(3) * 7 + n(4)) * 24 * 3600 + n(5) * 3600 + n(6) * 60 + n(7)) * 1000,
  };
}

/** Why a filter is not valid, or undefined; for spec validation (and at fill time). */
export function filterProblem(filter: string): string | undefined {
  const choice = CHOICE.exec(filter);
  if (choice) {
    const want = choice[1] === 'if' ? 2 : 3;
    const args = choice[2]!.split(':');
    if (args.length !== want)
      return choice[1] === 'if'
        ? `if takes two texts, "if:<when set>:<otherwise>" (no ":" inside them), got ${args.length}`
        : `eq takes three texts, "eq:<value>:<when equal>:<otherwise>" (no ":" inside them), got ${args.length}`;
    return undefined;
  }
  const arg = WITH_ARG.exec(filter);
  if (arg) {
    if ((arg[1] === 'plus' || arg[1] === 'minus') && !parseDuration(arg[2]!))
      return `"${arg[2]}" is not a duration: use ISO 8601 (P30D, PT12H, P1M) or 30d, 12h, 30m, 45s`;
    if (arg[1] === 'tz') return timeZoneProblem(arg[2]!);
    if (arg[1] === 'parse') return timePatternProblem(arg[2]!);
    return undefined;
  }
  if (SIMPLE.has(filter) || FORMAT_WORDS.has(filter)) return undefined;
  if (filter.replace(DATE_TOKEN, '') !== filter) return undefined;
  return `unknown filter "${filter}": ${FILTER_HELP}`;
}

/** A filter as written, parsed; call filterProblem first. */
export function parseFilter(text: string): Filter {
  const choice = CHOICE.exec(text);
  if (choice) {
    const args = choice[2]!.split(':');
    if (choice[1] === 'if') return { op: 'if', then: args[0]!, otherwise: args[1]! };
    return { op: 'eq', equals: args[0]!, then: args[1]!, otherwise: args[2]! };
  }
  const arg = WITH_ARG.exec(text);
  if (arg) {
    const [, op, value = ''] = arg;
    if (op === 'plus' || op === 'minus') return { op, duration: parseDuration(value)! };
    if (op === 'default') return { op, text: value };
    if (op === 'tz') return { op, zone: value };
    if (op === 'parse') return { op, pattern: value };
    return { op: 'join', separator: value };
  }
  if (SIMPLE.has(text)) return { op: text as 'upper' };
  return { op: 'format', pattern: text };
}

/** A time value as a Date, or undefined when it is not one. */
export function toDate(value: unknown): Date | undefined {
  if (typeof value === 'number') return new Date(value > 1e11 ? value : value * 1000);
  if (typeof value !== 'string') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) {
    const n = Number(value);
    return new Date(n > 1e11 ? n : n * 1000);
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function timeOf(value: unknown): Date {
  const d = toDate(value);
  if (!d) throw new Error(`${JSON.stringify(value)} is not a time`);
  return d;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

type Wall = Record<'yyyy' | 'MM' | 'dd' | 'HH' | 'mm' | 'ss', number>;

/** The wall-clock fields of an instant in a zone (Intl); UTC without one. */
function wallClock(d: Date, zone: string | undefined): Wall {
  if (zone === undefined || zone === 'UTC')
    return {
      yyyy: d.getUTCFullYear(),
      MM: d.getUTCMonth() + 1,
      dd: d.getUTCDate(),
      HH: d.getUTCHours(),
      mm: d.getUTCMinutes(),
      ss: d.getUTCSeconds(),
    };
  let f = zoneFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormats.set(zone, f);
  }
  const part: Record<string, number> = {};
  for (const p of f.formatToParts(d)) if (p.type !== 'literal') part[p.type] = Number(p.value);
  return {
    yyyy: part.year!,
    MM: part.month!,
    dd: part.day!,
    HH: part.hour!,
    mm: part.minute!,
    ss: part.second!,
  };
}

/** A time formatted: `iso` (UTC), unix seconds or ms, or a pattern as wall-clock time in `zone`. */
export function formatTime(value: unknown, format: string, zone?: string): string | number {
  const d = timeOf(value);
  if (format === 'iso') return d.toISOString();
  if (format === 'unix') return Math.floor(d.getTime() / 1000);
  if (format === 'unix-ms') return d.getTime();
  const pattern = format === 'date' ? 'yyyy-MM-dd' : format;
  const wall = wallClock(d, zone);
  return pattern.replace(DATE_TOKEN, (t) =>
    t === 'SSS' ? pad(d.getUTCMilliseconds(), 3) : t === 'yyyy' ? String(wall.yyyy) : pad(wall[t as 'MM']),
  );
}

/** A time moved by a duration; months move the calendar month (Jan 31 + P1M → Mar 3, as Date does). */
export function shiftTime(value: unknown, duration: Duration, sign: 1 | -1): string {
  const d = timeOf(value);
  if (duration.months) d.setUTCMonth(d.getUTCMonth() + sign * duration.months);
  return new Date(d.getTime() + sign * duration.ms).toISOString();
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

/** Whether a value counts as set for `if` (as a condition reads it in Jinja or Python). */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** The state a filter chain carries: the zone patterns are formatted in (`tz:` changes it). */
export interface FilterState {
  zone?: string | undefined;
}

/** One filter applied to a value; a missing value stays missing (except for `default`). */
export function applyFilter(f: Filter, v: unknown, state: FilterState = {}): unknown {
  if (f.op === 'tz') {
    state.zone = f.zone;
    return v;
  }
  if (f.op === 'default') return v === undefined || v === null || v === '' ? f.text : v;
  // Choices answer for a missing value too: it is not set, and equals nothing.
  if (f.op === 'if') return isSet(v) ? f.then : f.otherwise;
  if (f.op === 'eq') return v !== undefined && v !== null && asText(v) === f.equals ? f.then : f.otherwise;
  if (v === undefined || v === null) return v;
  switch (f.op) {
    case 'format':
      return formatTime(v, f.pattern, state.zone);
    case 'parse': {
      const ms = parsePatternTime(asText(v), f.pattern);
      if (ms === undefined) throw new Error(`the value is not a time written as ${f.pattern}`);
      return new Date(ms).toISOString();
    }
    case 'plus':
      return shiftTime(v, f.duration, 1);
    case 'minus':
      return shiftTime(v, f.duration, -1);
    case 'join':
      return Array.isArray(v) ? v.map((x) => (x === null ? '' : asText(x))).join(f.separator) : asText(v);
    case 'upper':
      return asText(v).toUpperCase();
    case 'lower':
      return asText(v).toLowerCase();
    case 'trim':
      return asText(v).trim();
    case 'dq':
      return asText(v).replace(/[\\"]/g, (c) => `\\${c}`);
    case 'sq':
      return asText(v).replace(/[\\']/g, (c) => `\\${c}`);
  }
}
