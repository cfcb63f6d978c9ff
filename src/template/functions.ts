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
 *   or:<name>                         the value of another template name when this one is not set (as
 *                                     `if` reads it): `{config.team|or:parent.team}`; the only filter that
 *                                     reads a value other than its input, and only a name, never code
 *   split:<sep>:<index>               the index-th piece (0-based; negative counts from the end) of the text
 *                                     split at <sep> (which may hold ":"; the index is after the last one);
 *                                     missing when there is no such piece
 *   replace:<from>:<to>               every <from> in the text replaced by <to> (literal texts without ":";
 *                                     <to> may be empty): `{config.country|replace:global:}`
 *   slice:<start>:<end>               characters start..end of the text (Python slices: either may be empty
 *                                     or negative): `{config.day|slice:0:4}` is the year of 20250131
 *   nonempty                          missing when the value is empty text or an empty list (a parameter
 *                                     that joins an empty list is then left out, as Airbyte leaves it out)
 *   hash:<md5|sha1|sha256|sha512>     the hex digest of the value as text (pseudonymised e-mail addresses)
 *
 * Times are read from ISO 8601 text, or from numbers as unix seconds (or milliseconds when larger
 * than 10^11). A missing value stays missing through every filter except `default`.
 */

import { createHash } from 'node:crypto';
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
  | { op: 'or'; name: string }
  | { op: 'split'; separator: string; index: number }
  | { op: 'slice'; start: number | undefined; end: number | undefined }
  | { op: 'replace'; from: string; to: string }
  | { op: 'hash'; algorithm: HashAlgorithm }
  | { op: 'upper' | 'lower' | 'trim' | 'dq' | 'sq' | 'nonempty' };

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512';
const HASHES = new Set<string>(['md5', 'sha1', 'sha256', 'sha512']);
/** A template name, as a placeholder writes it (`or:` reads one). */
const NAME = /^[a-zA-Z_][\w.*-]*$/;

export interface Duration {
  months: number;
  ms: number;
}

const FORMAT_WORDS = new Set(['iso', 'unix', 'unix-ms', 'date']);
const DATE_TOKEN = /yyyy|MM|dd|HH|mm|ss|SSS/g;
const SIMPLE = new Set(['upper', 'lower', 'trim', 'dq', 'sq', 'nonempty']);
const WITH_ARG = /^(plus|minus|default|join|tz|parse):([\s\S]*)$/;
/** The choices: literal texts separated by ":" (so no ":" inside them). */
const CHOICE = /^(if|eq):([\s\S]*)$/;
/** Filters over text whose arguments are parsed by themselves (an integer or two after a separator). */
const SPLIT = /^split:([\s\S]+):(-?\d+)$/;
const SLICE = /^slice:(-?\d*):(-?\d*)$/;
const OR = /^or:([\s\S]*)$/;
const REPLACE = /^replace:([^:]+):([^:]*)$/;
const HASH = /^hash:([\s\S]*)$/;
const ISO_DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const SHORT_DURATION = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const FILTER_HELP =
  'use iso, unix, unix-ms, date, a date pattern such as yyyy-MM-dd HH:mm, parse:<pattern>, tz:<zone>, plus:<duration>, minus:<duration>, default:<text>, upper, lower, trim, join:<separator>, nonempty, dq, sq, if:<a>:<b>, eq:<text>:<a>:<b>, or:<name>, split:<separator>:<index>, slice:<start>:<end>, replace:<from>:<to> or hash:<md5|sha1|sha256|sha512>';

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
  const or = OR.exec(filter);
  if (or)
    return NAME.test(or[1]!)
      ? undefined
      : `or takes a template name such as config.team or parent.id, got "${or[1]}"`;
  if (filter.startsWith('split:') && !SPLIT.test(filter))
    return 'split takes a separator and an index, "split:<separator>:<index>" (split:-:0)';
  if (filter.startsWith('slice:') && !SLICE.test(filter))
    return 'slice takes a start and an end, each an integer or empty, "slice:<start>:<end>" (slice:0:4)';
  if (filter.startsWith('replace:') && !REPLACE.test(filter))
    return 'replace takes two texts without ":", "replace:<from>:<to>" (replace:global: removes "global")';
  if (REPLACE.test(filter)) return undefined;
  const hash = HASH.exec(filter);
  if (hash)
    return HASHES.has(hash[1]!) ? undefined : `hash takes md5, sha1, sha256 or sha512, got "${hash[1]}"`;
  if (SPLIT.test(filter) || SLICE.test(filter)) return undefined;
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
  const or = OR.exec(text);
  if (or) return { op: 'or', name: or[1]! };
  const split = SPLIT.exec(text);
  if (split) return { op: 'split', separator: split[1]!, index: Number(split[2]) };
  const slice = SLICE.exec(text);
  if (slice) {
    const n = (t: string) => (t === '' ? undefined : Number(t));
    return { op: 'slice', start: n(slice[1]!), end: n(slice[2]!) };
  }
  const replace = REPLACE.exec(text);
  if (replace) return { op: 'replace', from: replace[1]!, to: replace[2]! };
  const hash = HASH.exec(text);
  if (hash) return { op: 'hash', algorithm: hash[1] as HashAlgorithm };
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

export function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

/** Whether a value counts as set for `if` (as a condition reads it in Jinja or Python). */
export function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** The state a filter chain carries: the zone patterns are formatted in (`tz:` changes it). */
export interface FilterState {
  zone?: string | undefined;
  /** The template's names, for `or:`; without them `or:` fails (the place has no other values). */
  vars?: ((name: string) => unknown) | undefined;
}

/** The template names a filter reads besides its input (`or:<name>`), for spec checks. */
export function namesReadBy(filter: string): string[] {
  const or = OR.exec(filter);
  return or && NAME.test(or[1]!) ? [or[1]!] : [];
}

/** Python's index into a sequence of this length (negative from the end), or undefined when outside. */
function pythonIndex(i: number, length: number): number | undefined {
  const at = i < 0 ? length + i : i;
  return at >= 0 && at < length ? at : undefined;
}

/** Python's slice bound: negative from the end, clamped to the text. */
function sliceBound(i: number | undefined, length: number, fallback: number): number {
  if (i === undefined) return fallback;
  return Math.min(Math.max(i < 0 ? length + i : i, 0), length);
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
  if (f.op === 'or') {
    if (isSet(v)) return v;
    if (!state.vars) throw new Error(`or:${f.name} cannot read other values here`);
    return state.vars(f.name);
  }
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
    case 'nonempty':
      return v === '' || (Array.isArray(v) && v.length === 0) ? undefined : v;
    case 'split': {
      const pieces = asText(v).split(f.separator);
      const at = pythonIndex(f.index, pieces.length);
      return at === undefined ? undefined : pieces[at];
    }
    case 'slice': {
      // By code points, as Python slices text.
      const chars = [...asText(v)];
      return chars
        .slice(sliceBound(f.start, chars.length, 0), sliceBound(f.end, chars.length, chars.length))
        .join('');
    }
    case 'replace':
      return asText(v).split(f.from).join(f.to);
    case 'hash':
      return createHash(f.algorithm).update(asText(v), 'utf8').digest('hex');
  }
}
