/**
 * Airbyte's time notations in Syncwright's: strftime formats (`%Y-%m-%dT%H:%M:%SZ`) as template filters
 * (`yyyy-MM-ddTHH:mm:ssZ`, `unix`, `date`), and ISO 8601 durations (`P1D`, `PT12H`) as seconds or step
 * lengths. Times are UTC on both sides, so `%z` is `+0000`.
 */
import { timePatternProblem } from '../../template/parse-time.js';

const STRFTIME: Record<string, string> = {
  Y: 'yyyy',
  m: 'MM',
  d: 'dd',
  H: 'HH',
  M: 'mm',
  S: 'ss',
  f: 'SSS000',
  z: '+0000',
  Z: 'UTC',
  '%': '%',
};

/** The template filter for a strftime format, or undefined when a directive has no equivalent. */
export function formatFilter(format: string): string | undefined {
  const f = format.trim();
  if (f === '%s') return 'unix';
  if (f === '%ms') return 'unix-ms';
  if (f === '%Y-%m-%d') return 'date';
  if (/[{}|]/.test(f)) return undefined;
  let out = '';
  for (let i = 0; i < f.length; i++) {
    const c = f[i]!;
    if (c !== '%') {
      // Letters that would read as a pattern token must not appear as literal text.
      if (/[yMdHmsS]/.test(c)) return undefined;
      out += c;
      continue;
    }
    if (f.startsWith('%_ms', i)) {
      out += 'SSS';
      i += 3;
      continue;
    }
    const token = STRFTIME[f[i + 1] ?? ''];
    if (token === undefined) return undefined;
    out += token;
    i++;
  }
  return /yyyy|MM|dd|HH|mm|ss|SSS/.test(out) ? out : undefined;
}

/** The cursor format of a datetime format: how the high-water mark is compared and sent. */
export function cursorFormat(format: string | undefined): 'iso' | 'unix' | 'unix-ms' {
  if (format?.trim() === '%s') return 'unix';
  if (format?.trim() === '%ms') return 'unix-ms';
  return 'iso';
}

const UNIT_SECONDS: Record<string, number> = {
  Y: 365 * 86_400,
  W: 7 * 86_400,
  D: 86_400,
  H: 3600,
  S: 1,
};

/**
 * Seconds in an ISO 8601 duration (`P1D`, `PT1H30M`, `P1M` as 30 days, `P1Y` as 365), or undefined
 * when it is not one.
 */
export function durationSeconds(text: string): number | undefined {
  const m =
    /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text.trim(),
    );
  if (!m || text.trim() === 'P' || text.trim() === 'PT') return undefined;
  const [, y, mo, w, d, h, mi, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
  return (
    y! * UNIT_SECONDS.Y! +
    mo! * 30 * 86_400 +
    w! * UNIT_SECONDS.W! +
    d! * UNIT_SECONDS.D! +
    h! * UNIT_SECONDS.H! +
    mi! * 60 +
    s! * UNIT_SECONDS.S!
  );
}

/** A Syncwright step length ("7d", "12h", "30m" or seconds) for an ISO 8601 duration. */
export function stepOf(text: string): string | number | undefined {
  const seconds = durationSeconds(text);
  if (seconds === undefined || seconds <= 0 || !Number.isInteger(seconds)) return undefined;
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return seconds;
}

/**
 * Whether values written in a strftime format are times Syncwright reads back in order: unix seconds or
 * milliseconds, or year-month-day first (ISO 8601 and its space-separated form), to any precision.
 * `15/03/2026 12:34` is not: it neither parses as a date nor sorts as one.
 */
export function readableTime(format: string): boolean {
  const f = format.trim();
  return (
    f === '%s' ||
    f === '%ms' ||
    /^%Y-%m-%d(?:[T ]%H(?::%M(?::%S(?:\.(?:%f|%_ms|\d{1,6}))?)?)?)?(?:%z|Z|\+00:?00)?$/.test(f)
  );
}

/**
 * The ISO form of a template filter's precision: `dd/MM/yyyy HH:mm` → `yyyy-MM-ddTHH:mm`, so a time
 * formatted to that precision can still be read back as a time.
 */
export function isoFilterOf(filter: string): string {
  if (['iso', 'unix', 'unix-ms', 'date'].includes(filter)) return filter;
  if (filter.includes('SSS')) return 'iso';
  if (filter.includes('ss')) return 'yyyy-MM-ddTHH:mm:ssZ';
  if (filter.includes('mm')) return 'yyyy-MM-ddTHH:mmZ';
  if (filter.includes('HH')) return 'yyyy-MM-ddTHH:00Z';
  if (filter.includes('dd')) return 'date';
  if (filter.includes('MM')) return 'yyyy-MM-01';
  return 'yyyy-01-01';
}

/**
 * The cursorFormat pattern that reads values written in a strftime format Syncwright does not read
 * as times itself (`%Y%m%d`, `%d/%m/%Y %H:%M`), or undefined. Zones and fractions are left out:
 * strptime reads any offset for `%z` and six digits for `%f`, which a fixed pattern does not.
 */
export function patternOf(format: string): string | undefined {
  if (/%[zZf]|%_ms/.test(format)) return undefined;
  const filter = formatFilter(format);
  if (filter === undefined || ['unix', 'unix-ms', 'date'].includes(filter)) return undefined;
  return timePatternProblem(filter) === undefined ? filter : undefined;
}
