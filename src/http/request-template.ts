/**
 * Request templates: query values, headers and JSON bodies with `{placeholders}` filled per page.
 *
 *   {cursor} {page} {offset} {limit}          the pagination state
 *   {since} {window.start} {window.end}       the incremental window (ISO UTC unless formatted)
 *   {config.name} {parent.name}               the connection's config, the parent record's fields
 *
 * Filters follow a `|`, left to right:
 *   iso, unix, unix-ms, date (yyyy-MM-dd), or a pattern such as `yyyy/MM/dd HH:mm` — format a time (UTC,
 *     or the spec's `timeZone`; `iso` is always UTC)
 *   tz:Area/City — later patterns in the chain are wall-clock times in that IANA zone (Intl)
 *   dq — the value inside a double-quoted string of a query language (JQL): `\` and `"` are escaped
 *   sq — the value inside a single-quoted string (SOQL, SQL-like): `\` and `'` are escaped
 *
 * Where a value lands decides the rest of its encoding: query values are percent-encoded by the URL,
 * body values are JSON-encoded, header values must not contain line breaks. A body string that is exactly
 * one placeholder keeps the value's type (`"{limit}"` → 100); a query value, header or body field that
 * is exactly one placeholder without a value is left out (Notion's `start_cursor` on the first page).
 * Everything else is plain text: no code runs.
 */

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type TemplateValue = string | number | boolean | null;

/** The values a template can use; `undefined` means "no value here" (e.g. no cursor yet). */
export type TemplateVars = (name: string) => TemplateValue | undefined;

const PLACEHOLDER = /\{([a-zA-Z_][\w.-]*)((?:\|[^{}|]+)*)\}/g;
const WHOLE = /^\{([a-zA-Z_][\w.-]*)((?:\|[^{}|]+)*)\}$/;

/** Names a template may use; config/parent names are checked against the spec elsewhere. */
export const TEMPLATE_NAMES = [
  'cursor',
  'page',
  'offset',
  'limit',
  'since',
  'window.start',
  'window.end',
] as const;
export const TIME_NAMES = new Set(['since', 'window.start', 'window.end']);
const FORMAT_WORDS = new Set(['iso', 'unix', 'unix-ms', 'date']);
const DATE_TOKEN = /yyyy|MM|dd|HH|mm|ss|SSS/g;

/** Every placeholder of a string: its name and filters. */
export function placeholdersOf(text: string): { name: string; filters: string[] }[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({
    name: m[1]!,
    filters: (m[2] ?? '')
      .split('|')
      .slice(1)
      .map((f) => f.trim()),
  }));
}

/** Every placeholder anywhere in a template value (strings inside objects and arrays too). */
export function placeholdersIn(value: unknown): { name: string; filters: string[] }[] {
  if (typeof value === 'string') return placeholdersOf(value);
  if (Array.isArray(value)) return value.flatMap(placeholdersIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(placeholdersIn);
  return [];
}

/** How filled templates format times: patterns are wall-clock times in `timeZone` (default UTC). */
export interface FillOptions {
  /** An IANA time zone (Jira's JQL dates are in the user's zone). */
  timeZone?: string | undefined;
}

/** Why a time zone name is not one Intl knows, or undefined. */
export function timeZoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return `unknown time zone "${zone}": use an IANA name such as America/New_York or UTC`;
  }
}

/** Why a filter is not valid, or undefined; for spec validation. */
export function filterProblem(filter: string): string | undefined {
  if (filter === 'dq' || filter === 'sq' || FORMAT_WORDS.has(filter)) return undefined;
  if (filter.startsWith('tz:')) return timeZoneProblem(filter.slice(3));
  if (filter.replace(DATE_TOKEN, '') !== filter) return undefined;
  return `unknown filter "${filter}": use iso, unix, unix-ms, date, a date pattern such as yyyy-MM-dd HH:mm, tz:<zone>, dq or sq`;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a zone; UTC without Intl. */
function wallClock(
  d: Date,
  zone: string | undefined,
): Record<'yyyy' | 'MM' | 'dd' | 'HH' | 'mm' | 'ss', number> {
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

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function toDate(value: TemplateValue): Date | undefined {
  if (typeof value === 'number') return new Date(value > 1e11 ? value : value * 1000);
  if (typeof value !== 'string') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) {
    const n = Number(value);
    return new Date(n > 1e11 ? n : n * 1000);
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function formatTime(
  value: TemplateValue,
  format: string,
  name: string,
  zone: string | undefined,
): TemplateValue {
  const d = toDate(value);
  if (!d) throw new TemplateError(`{${name}|${format}}: ${JSON.stringify(value)} is not a time`);
  if (format === 'iso') return d.toISOString();
  if (format === 'unix') return Math.floor(d.getTime() / 1000);
  if (format === 'unix-ms') return d.getTime();
  const pattern = format === 'date' ? 'yyyy-MM-dd' : format;
  const wall = wallClock(d, zone);
  return pattern.replace(DATE_TOKEN, (t) =>
    t === 'SSS' ? pad(d.getUTCMilliseconds(), 3) : t === 'yyyy' ? String(wall.yyyy) : pad(wall[t as 'MM']),
  );
}

function applyFilters(
  value: TemplateValue,
  filters: readonly string[],
  name: string,
  options: FillOptions,
): TemplateValue {
  let v = value;
  let zone = options.timeZone;
  for (const f of filters) {
    if (f === 'dq') v = String(v).replace(/[\\"]/g, (c) => `\\${c}`);
    else if (f === 'sq') v = String(v).replace(/[\\']/g, (c) => `\\${c}`);
    else {
      const problem = filterProblem(f);
      if (problem) throw new TemplateError(`{${name}}: ${problem}`);
      if (f.startsWith('tz:')) zone = f.slice(3);
      else v = formatTime(v, f, name, zone);
    }
  }
  return v;
}

function resolve(
  name: string,
  filters: readonly string[],
  vars: TemplateVars,
  options: FillOptions,
): TemplateValue | undefined {
  const raw = vars(name);
  if (raw === undefined) return undefined;
  return applyFilters(raw, filters, name, options);
}

/** Where a filled string lands; headers refuse line breaks (header injection). */
export type Place = 'query' | 'header' | 'body';

function text(v: TemplateValue): string {
  return v === null ? '' : String(v);
}

/**
 * A filled string, or undefined when the string is exactly one placeholder that has no value. A missing
 * value inside a longer string is empty text.
 */
export function fillString(
  template: string,
  vars: TemplateVars,
  place: Place,
  options: FillOptions = {},
): TemplateValue | undefined {
  const whole = WHOLE.exec(template);
  let out: TemplateValue | undefined;
  if (whole) {
    out = resolve(whole[1]!, (whole[2] ?? '').split('|').slice(1), vars, options);
    if (out === undefined) return undefined;
    if (place !== 'body') out = text(out);
  } else {
    out = template.replace(PLACEHOLDER, (_, name: string, f: string) =>
      text(resolve(name, f.split('|').slice(1), vars, options) ?? null),
    );
  }
  if (place === 'header' && typeof out === 'string' && /[\r\n\0]/.test(out))
    throw new TemplateError(`a header value would contain a line break or NUL: refused`);
  return out;
}

/**
 * A JSON body with every string filled; fields whose whole value has no value are left out. A key
 * written with a trailing `?` (`"filter?": {...}`) is left out as a whole when any placeholder inside it
 * has no value (Notion's filter on a first run without a high-water mark), and sent without the `?`.
 */
export function fillBody(template: unknown, vars: TemplateVars, options: FillOptions = {}): unknown {
  return fillTracked(template, vars, { missing: false }, options);
}

function fillTracked(
  template: unknown,
  vars: TemplateVars,
  seen: { missing: boolean },
  options: FillOptions,
): unknown {
  if (typeof template === 'string') {
    const tracking: TemplateVars = (name) => {
      const v = vars(name);
      if (v === undefined) seen.missing = true;
      return v;
    };
    return fillString(template, tracking, 'body', options);
  }
  if (Array.isArray(template))
    return template.map((v) => fillTracked(v, vars, seen, options)).filter((v) => v !== undefined);
  if (template && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) {
      if (k.endsWith('?')) {
        const inner = { missing: false };
        const filled = fillTracked(v, vars, inner, options);
        if (!inner.missing && filled !== undefined) out[k.slice(0, -1)] = filled;
        continue;
      }
      const filled = fillTracked(v, vars, seen, options);
      if (filled !== undefined) out[k] = filled;
    }
    return out;
  }
  return template;
}

/** Query values or headers filled; entries without a value are left out. */
export function fillRecord(
  template: Readonly<Record<string, string | number | boolean>>,
  vars: TemplateVars,
  place: 'query' | 'header',
  options: FillOptions = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(template)) {
    const filled = typeof v === 'string' ? fillString(v, vars, place, options) : String(v);
    if (filled !== undefined) out[k] = text(filled);
  }
  return out;
}
