/**
 * Reading a time written in a date pattern (the template pattern tokens yyyy MM dd HH mm ss SSS), for
 * cursor values that are neither ISO 8601 nor unix numbers (`20260315`, `15/03/2026 12:34`). The wall
 * clock is read as UTC. Fields other than the year take one or two digits, as strptime does, so
 * `5/3/2026` reads with `dd/MM/yyyy`; the whole text must match, and the date must exist.
 */

const TOKEN = /yyyy|MM|dd|HH|mm|ss|SSS/g;

type Field = 'yyyy' | 'MM' | 'dd' | 'HH' | 'mm' | 'ss' | 'SSS';

// The digits each field takes: ranges first, so that `yyyyMMdd` splits `20261231` as 2026-12-31.
const FIELD_RE: Record<Field, string> = {
  yyyy: '\\d{4}',
  MM: '1[0-2]|0[1-9]|[1-9]',
  dd: '3[01]|[12]\\d|0[1-9]|[1-9]',
  HH: '2[0-3]|[01]\\d|\\d',
  mm: '[0-5]\\d|\\d',
  ss: '[0-5]\\d|\\d',
  SSS: '\\d{3}',
};

const compiled = new Map<string, { re: RegExp; fields: Field[] }>();

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Why a text is not a pattern cursor values can be read by, or undefined. */
export function timePatternProblem(pattern: string): string | undefined {
  const tokens: string[] = pattern.match(TOKEN) ?? [];
  for (const need of ['yyyy', 'MM', 'dd'])
    if (!tokens.includes(need))
      return `"${pattern}" has no ${need}: a cursor pattern names the year, month and day`;
  const twice = tokens.find((t, i) => tokens.indexOf(t) !== i);
  if (twice) return `"${pattern}" has ${twice} twice`;
  if (tokens.includes('SSS') && !tokens.includes('ss')) return `"${pattern}" has SSS without ss`;
  if (tokens.includes('ss') && !tokens.includes('mm')) return `"${pattern}" has ss without mm`;
  if (tokens.includes('mm') && !tokens.includes('HH')) return `"${pattern}" has mm without HH`;
  return undefined;
}

function compile(pattern: string): { re: RegExp; fields: Field[] } {
  let hit = compiled.get(pattern);
  if (hit) return hit;
  const fields: Field[] = [];
  let source = '';
  let last = 0;
  for (const m of pattern.matchAll(TOKEN)) {
    source += escape(pattern.slice(last, m.index));
    source += `(${FIELD_RE[m[0] as Field]})`;
    fields.push(m[0] as Field);
    last = m.index + m[0].length;
  }
  source += escape(pattern.slice(last));
  hit = { re: new RegExp(`^${source}$`), fields };
  compiled.set(pattern, hit);
  return hit;
}

/**
 * The time a text written in `pattern` names, as milliseconds since the epoch (the wall clock read as
 * UTC), or undefined when the text does not match the pattern or names no real date.
 */
export function parsePatternTime(text: string, pattern: string): number | undefined {
  const { re, fields } = compile(pattern);
  const m = re.exec(text.trim());
  if (!m) return undefined;
  const v: Record<Field, number> = { yyyy: 0, MM: 1, dd: 1, HH: 0, mm: 0, ss: 0, SSS: 0 };
  fields.forEach((f, i) => (v[f] = Number(m[i + 1])));
  const d = new Date(Date.UTC(2000, v.MM - 1, v.dd, v.HH, v.mm, v.ss, v.SSS));
  d.setUTCFullYear(v.yyyy, v.MM - 1, v.dd); // Date.UTC would read years below 100 as 19xx
  // Date.UTC rolls 31/02 into March; such a date does not exist.
  if (d.getUTCFullYear() !== v.yyyy || d.getUTCMonth() !== v.MM - 1 || d.getUTCDate() !== v.dd)
    return undefined;
  return d.getTime();
}
