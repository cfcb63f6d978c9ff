/**
 * Comparing order values that arrive as text: webhook order keys and incremental cursor values. Numbers
 * compare as numbers ("9" < "10"), timestamps as instants ("…:01Z" < "…:01.5Z", and "…T12:00:00+02:00"
 * < "…T11:00:00Z"), anything else as text. Two values of different kinds (a number and a timestamp, a
 * timestamp and free text) have no order: that is a clear error, not a guess. Pure and import-free.
 */

export type OrderKind = 'number' | 'timestamp' | 'text';

/** Two values that cannot be ordered against each other. */
export class OrderKindMismatchError extends Error {
  override name = 'OrderKindMismatchError';
  constructor(
    readonly a: string,
    readonly b: string,
  ) {
    super(
      `cannot order "${clip(a)}" (${orderKind(a)}) against "${clip(b)}" (${orderKind(b)}): ` +
        'order values must all be numbers, all timestamps, or all other text',
    );
  }
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
// ISO 8601 / RFC 3339: a date, optionally a time with optional fraction and zone (none: UTC).
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

interface Instant {
  /** Whole seconds since the epoch (UTC). */
  seconds: number;
  /** The fraction of a second as written, without trailing zeros ("5" for .500). */
  fraction: string;
}

function parseInstant(s: string): Instant | undefined {
  const m = TIMESTAMP.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 24 || Number(mi) > 59 || Number(sec) > 60)
    return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.replace(':', '');
    const sign = digits.startsWith('-') ? -1 : 1;
    offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || '0'));
  }
  const ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(sec));
  if (!Number.isFinite(ms)) return undefined;
  return { seconds: ms / 1000 - offsetMinutes * 60, fraction: frac.replace(/0+$/, '') };
}

export function orderKind(s: string): OrderKind {
  if (NUMBER.test(s.trim()) && Number.isFinite(Number(s))) return 'number';
  if (parseInstant(s.trim())) return 'timestamp';
  return 'text';
}

function compareNumbers(a: string, b: string): number {
  const x = a.trim();
  const y = b.trim();
  // Integers beyond 2^53 (snowflake ids, nanosecond sequences) compare exactly.
  if (INTEGER.test(x) && INTEGER.test(y)) {
    const d = BigInt(x) - BigInt(y);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  const d = Number(x) - Number(y);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

function compareInstants(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  // Fractions as written: compare digit by digit ("5" = .5 > "25" = .25).
  const len = Math.max(a.fraction.length, b.fraction.length);
  const fa = a.fraction.padEnd(len, '0');
  const fb = b.fraction.padEnd(len, '0');
  return fa < fb ? -1 : fa > fb ? 1 : 0;
}

/**
 * Negative when `a` comes before `b`, positive after, 0 for the same point. Throws
 * OrderKindMismatchError when one is a number and the other is not, or one is a timestamp and the
 * other is not.
 */
export function compareOrderValues(a: string, b: string): number {
  const ka = orderKind(a);
  const kb = orderKind(b);
  if (ka !== kb) throw new OrderKindMismatchError(a, b);
  if (ka === 'number') return compareNumbers(a, b);
  if (ka === 'timestamp') return compareInstants(parseInstant(a.trim())!, parseInstant(b.trim())!);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The later of two values (either may be null); on a tie, the first. */
export function maxOrderValue(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  // A page's cursors are compared once per record: two UTC timestamps written alike compare as text,
  // without the regular expression's match arrays (a large share of what an export allocated).
  if (a.length === b.length && plainUtc(a) && plainUtc(b)) return b > a ? b : a;
  return compareOrderValues(b, a) > 0 ? b : a;
}

const code = (s: string, i: number) => s.charCodeAt(i);
const digits = (s: string, from: number, to: number) => {
  for (let i = from; i < to; i++) if (code(s, i) < 48 || code(s, i) > 57) return false;
  return true;
};
const twoDigits = (s: string, i: number) => (code(s, i) - 48) * 10 + code(s, i + 1) - 48;

/**
 * `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.fffZ` (any number of fraction digits) with every field
 * in its plain range (day ≤ 28, hour ≤ 23, second ≤ 59: nothing Date.UTC would carry into the next
 * field), the year from 1000. Two such texts of one length order as text exactly as their instants do.
 */
function plainUtc(s: string): boolean {
  const n = s.length;
  // Years before 1000 left to Date.UTC, which reads 0–99 as 1900–1999.
  if (n < 20 || code(s, n - 1) !== 90 /* Z */ || code(s, 0) === 48) return false;
  if (
    code(s, 4) !== 45 ||
    code(s, 7) !== 45 ||
    code(s, 10) !== 84 ||
    code(s, 13) !== 58 ||
    code(s, 16) !== 58
  )
    return false;
  if (!digits(s, 0, 4) || !digits(s, 5, 7) || !digits(s, 8, 10) || !digits(s, 11, 13)) return false;
  if (!digits(s, 14, 16) || !digits(s, 17, 19)) return false;
  if (n > 20 && (n === 21 || code(s, 19) !== 46 /* . */ || !digits(s, 20, n - 1))) return false;
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= 28 &&
    twoDigits(s, 11) <= 23 &&
    twoDigits(s, 14) <= 59 &&
    twoDigits(s, 17) <= 59
  );
}
