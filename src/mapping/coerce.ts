/** Type coercion of provider values into mapped record fields. Failures are values, not exceptions. */
import { scalarText } from '../json/path.js';
import type { FieldType } from './schema.js';

export type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

const ok = (value: unknown): Coerced => ({ ok: true, value });
const fail = (message: string): Coerced => ({ ok: false, message });
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

export function coerce(value: unknown, type: FieldType, format?: 'iso' | 'unix' | 'unix-ms'): Coerced {
  if (value === null || value === undefined) return ok(null);
  switch (type) {
    case 'string':
      return typeof value === 'object'
        ? fail(`expected text, got ${Array.isArray(value) ? 'an array' : 'an object'}`)
        : ok(scalarText(value));
    case 'number':
    case 'integer': {
      if (typeof value === 'string' && value.trim() === '') return ok(null);
      const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
      if (!Number.isFinite(n)) return fail(`expected a number, got ${show(value)}`);
      if (type === 'integer' && !Number.isInteger(n)) return fail(`expected an integer, got ${show(value)}`);
      if (type === 'integer' && !Number.isSafeInteger(n))
        return fail(`integer ${show(value)} is too large to store exactly`);
      return ok(n);
    }
    case 'boolean': {
      if (typeof value === 'boolean') return ok(value);
      if (value === 1 || value === 0) return ok(value === 1);
      if (typeof value === 'string') {
        const s = value.trim().toLowerCase();
        if (['true', '1', 'yes', 'y', 'on'].includes(s)) return ok(true);
        if (['false', '0', 'no', 'n', 'off'].includes(s)) return ok(false);
        if (s === '') return ok(null);
      }
      return fail(`expected a boolean, got ${show(value)}`);
    }
    case 'timestamp':
      return coerceTimestamp(value, format);
    case 'json':
      return ok(value);
  }
}

/** The form toISOString() writes, years 0000–9999. */
const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The number of the two digits at `i` (the pattern above has checked they are digits). */
const twoDigits = (s: string, i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/**
 * Whether `s` is already what coercion would make of it (a valid instant written as toISOString writes
 * it), so it can be kept as it is: most providers send exactly this, and parsing and rewriting two
 * timestamps was much of a record's mapping cost. Read by character code, without a match array or
 * substrings: this runs for every timestamp of every record.
 */
function isCanonicalIso(s: string): boolean {
  if (s.length !== 24 || !CANONICAL_ISO.test(s)) return false;
  const year = twoDigits(s, 0) * 100 + twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    twoDigits(s, 11) > 23 ||
    twoDigits(s, 14) > 59 ||
    twoDigits(s, 17) > 59
  )
    return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days =
    month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

const MS_JSON_DATE = /^\/Date\((-?\d{1,15})(?:[+-]\d{4})?\)\/$/;

function coerceTimestamp(value: unknown, format?: 'iso' | 'unix' | 'unix-ms'): Coerced {
  if (typeof value === 'string' && isCanonicalIso(value)) return ok(value);
  let ms: number;
  if (
    typeof value === 'number' ||
    (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) && format !== 'iso')
  ) {
    const n = Number(value);
    // Without a hint, numbers below 1e11 are seconds (1e11 s is the year 5138; 1e11 ms is 1973).
    const unit = format === 'unix-ms' ? 'ms' : format === 'unix' ? 's' : Math.abs(n) < 1e11 ? 's' : 'ms';
    ms = unit === 's' ? n * 1000 : n;
  } else if (typeof value === 'string') {
    if (value.trim() === '') return ok(null);
    // Microsoft JSON dates (Xero): "/Date(<ms since the epoch>+hhmm)/"; the offset only tells the zone.
    const msJson = MS_JSON_DATE.exec(value);
    ms = msJson ? Number(msJson[1]) : Date.parse(value);
  } else {
    return fail(`expected a timestamp, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  if (!Number.isFinite(ms)) return fail(`expected a timestamp, got ${show(value)}`);
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return fail(`timestamp ${show(value)} is out of range`);
  return ok(date.toISOString());
}
