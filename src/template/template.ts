/**
 * The one template language of a spec: `{name|filter|filter:arg}` placeholders inside text. It fills
 * request paths, query values, headers and bodies, token and login requests, and computed fields.
 *
 * Names are looked up by the caller (what exists depends on where the template is); `now` is built in.
 * Filters run left to right, each a pure function of the value (functions.ts); `or:<name>` falls back to
 * another name's value. A choice `{?condition}…{:}…{/}` keeps one of two pieces of template text by one
 * value (choices.ts). There are no expressions, no operators and no code: a template can only place
 * values, transformed by filters, in text the spec wrote.
 *
 * A value that does not exist (no cursor on the first page, an absent record field) stays "missing"
 * through every filter except `default:…`, so the place it lands can leave it out.
 */
import {
  alternativeTexts,
  chooseText,
  conditionsOf,
  hasChoices,
  parseChoices,
  type Condition,
} from './choices.js';
import { TemplateError } from './errors.js';
import { applyFilter, filterProblem, namesReadBy, parseFilter, type Filter } from './functions.js';

export { TemplateError };

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
  /** The name is read by a choice's condition (`{?config.region=="eu"}`), not placed. */
  condition?: true;
}

function splitFilters(text: string | undefined): string[] {
  return (
    (text ?? '')
      .split('|')
      .slice(1)
      // `{since | date}` reads well; an argument keeps its spaces (`join:, `).
      .map((f) => (/^\s*(plus|minus|default|join|split|replace):/.test(f) ? f.trimStart() : f.trim()))
  );
}

function placeholdersOfText(text: string): Placeholder[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({ name: m[1]!, filters: splitFilters(m[2]) }));
}

/**
 * Every placeholder of a string: its name and filters, in every branch of its choices, and the names
 * its conditions read (`condition: true`). A malformed choice is read as text here (templateProblem
 * reports it).
 */
export function placeholdersOf(text: string): Placeholder[] {
  if (!hasChoices(text)) return placeholdersOfText(text);
  let alternatives: string[];
  let conditions: Condition[];
  try {
    const parts = parseChoices(text);
    alternatives = alternativeTexts(parts);
    conditions = conditionsOf(parts);
  } catch {
    return placeholdersOfText(text);
  }
  const seen = new Set<string>();
  const out: Placeholder[] = [];
  for (const p of [
    ...conditions.map((c): Placeholder => ({ name: c.name, filters: [], condition: true })),
    ...alternatives.flatMap(placeholdersOfText),
  ]) {
    const key = JSON.stringify([p.name, p.filters, p.condition]);
    if (!seen.has(key)) out.push(p);
    seen.add(key);
  }
  return out;
}

/** Why a template's choices are malformed, or undefined (filters are checked by filterProblem). */
export function templateProblem(text: string): string | undefined {
  if (!hasChoices(text)) return undefined;
  try {
    alternativeTexts(parseChoices(text));
    return undefined;
  } catch (error) {
    if (error instanceof TemplateError) return error.message;
    throw error;
  }
}

/** Every text a template's choices can give (itself when it has none); throws TemplateError. */
export function choiceAlternatives(text: string): string[] {
  return hasChoices(text) ? alternativeTexts(parseChoices(text)) : [text];
}

/** Every condition of a template's choices (nested ones too). */
export function choiceConditions(text: string): Condition[] {
  return hasChoices(text) ? conditionsOf(parseChoices(text)) : [];
}

export type { Condition };

/** The names a template's conditions read. */
export function conditionNames(text: string): string[] {
  return hasChoices(text) ? [...new Set(conditionsOf(parseChoices(text)).map((c) => c.name))] : [];
}

/** The template text its choices keep for these values (itself when it has none). */
export function resolveChoices(text: string, vars: TemplateVars): string {
  return hasChoices(text) ? chooseText(parseChoices(text), vars) : text;
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
 * undefined when missing); otherwise each placeholder becomes text (a missing one empty text). Choices
 * are made first; when they leave no text, there is no value (undefined).
 */
export function fillTemplate(template: string, vars: TemplateVars, options: FillOptions = {}): unknown {
  if (hasChoices(template)) {
    const chosen = resolveChoices(template, vars);
    return chosen === '' ? undefined : fillPlain(chosen, vars, options);
  }
  return fillPlain(template, vars, options);
}

/** A filled string without choices (the chosen text is spec text: it is not read for choices again). */
function fillPlain(template: string, vars: TemplateVars, options: FillOptions): unknown {
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
  return resolveChoices(template, vars).replace(PLACEHOLDER, (_all, name: string, f: string) => {
    const p = { name, filters: splitFilters(f) };
    return place(resolve(p, vars, options), p);
  });
}
