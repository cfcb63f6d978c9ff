/**
 * The one template language of a spec: `{name|filter|filter:arg}` placeholders inside text. It fills
 * request paths, query values, headers and bodies, token and login requests, and computed fields.
 *
 * Names are looked up by the caller (what exists depends on where the template is); `now` is built in.
 * Filters run left to right, each a pure function of the value (functions.ts); `or:<name>` falls back to
 * another name's value. There are no expressions, no operators and no code: a template can only place
 * values, transformed by filters.
 *
 * A value that does not exist (no cursor on the first page, an absent record field) stays "missing"
 * through every filter except `default:…`, so the place it lands can leave it out.
 */
import { applyFilter, filterProblem, namesReadBy, parseFilter, type Filter } from './functions.js';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type TemplateValue = string | number | boolean | null;

/** The values a template can use; `undefined` means "no value here" (e.g. no cursor yet). */
export type TemplateVars = (name: string) => unknown;

/** A placeholder: `{` name, filters `}`. Names are dotted words (`window.start`, `record.a.0.b`). */
const PLACEHOLDER = /\{([a-zA-Z_][\w.*-]*)((?:\|[^{}|]*)*)\}/g;
const WHOLE = /^\{([a-zA-Z_][\w.*-]*)((?:\|[^{}|]*)*)\}$/;

export interface Placeholder {
  name: string;
  /** Filters as written (`minus:P30D`). */
  filters: string[];
}

function splitFilters(text: string | undefined): string[] {
  return (
    (text ?? '')
      .split('|')
      .slice(1)
      // `{since | date}` reads well; an argument keeps its spaces (`join:, `).
      .map((f) => (/^\s*(plus|minus|default|join|split):/.test(f) ? f.trimStart() : f.trim()))
  );
}

/** Every placeholder of a string: its name and filters. */
export function placeholdersOf(text: string): Placeholder[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({ name: m[1]!, filters: splitFilters(m[2]) }));
}

/** Every placeholder anywhere in a template value (strings inside objects and arrays too). */
export function placeholdersIn(value: unknown): Placeholder[] {
  if (typeof value === 'string') return placeholdersOf(value);
  if (Array.isArray(value)) return value.flatMap(placeholdersIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(placeholdersIn);
  return [];
}

/** Whether the text is exactly one placeholder (its value then keeps its type). */
export function wholePlaceholder(text: string): Placeholder | undefined {
  const m = WHOLE.exec(text);
  return m ? { name: m[1]!, filters: splitFilters(m[2]) } : undefined;
}

export { filterProblem, namesReadBy };

/** Every name a placeholder reads: its own and those of `or:` fallbacks. */
export function namesOf(p: Placeholder): string[] {
  return [p.name, ...p.filters.flatMap(namesReadBy)];
}

/** How a template is filled: the zone date patterns are wall-clock times in, and the clock for {now}. */
export interface FillOptions {
  /** An IANA time zone (Jira's JQL dates are in the user's zone); default UTC. */
  timeZone?: string | undefined;
  /** Milliseconds since the epoch for `{now}` (default: the clock when filled). */
  nowMs?: number;
}

const parsedFilters = new Map<string, Filter>();
function filterOf(text: string, name: string): Filter {
  let f = parsedFilters.get(text);
  if (!f) {
    const problem = filterProblem(text);
    if (problem) throw new TemplateError(`{${name}|${text}}: ${problem}`);
    f = parseFilter(text);
    parsedFilters.set(text, f);
  }
  return f;
}

/** The value of one placeholder, filters applied; undefined when it has none. */
export function resolve(p: Placeholder, vars: TemplateVars, options: FillOptions = {}): unknown {
  let v: unknown = vars(p.name);
  if (v === undefined && p.name === 'now') v = new Date(options.nowMs ?? Date.now()).toISOString();
  const state = { zone: options.timeZone, vars };
  for (const text of p.filters) {
    try {
      v = applyFilter(filterOf(text, p.name), v, state);
    } catch (error) {
      if (error instanceof TemplateError) throw error;
      throw new TemplateError(`{${p.name}|${text}}: ${(error as Error).message}`);
    }
  }
  return v;
}

/** A value as text: null and missing as '', objects and arrays as JSON. */
export function textOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

/**
 * A filled string. A string that is exactly one placeholder gives its value as it is (typed, or
 * undefined when missing); otherwise each placeholder becomes text (a missing one empty text).
 */
export function fillTemplate(template: string, vars: TemplateVars, options: FillOptions = {}): unknown {
  const whole = wholePlaceholder(template);
  if (whole) return resolve(whole, vars, options);
  return template.replace(PLACEHOLDER, (_all, name: string, f: string) =>
    textOf(resolve({ name, filters: splitFilters(f) }, vars, options)),
  );
}

/** Fills each placeholder with `place(value, placeholder)`; for places with their own encoding (paths). */
export function fillEach(
  template: string,
  vars: TemplateVars,
  place: (value: unknown, p: Placeholder) => string,
  options: FillOptions = {},
): string {
  return template.replace(PLACEHOLDER, (_all, name: string, f: string) => {
    const p = { name, filters: splitFilters(f) };
    return place(resolve(p, vars, options), p);
  });
}
