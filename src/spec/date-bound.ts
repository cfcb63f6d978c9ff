/**
 * `incremental.startDate` and `incremental.endDate`: where a first run starts and where every run's
 * range ends. Each is an ISO date or time, a template over the connection's config and `{now}` (the
 * run's start), or a list of those, of which the first that has a value wins:
 *
 *   startDate: ['{config.start_date}', '{now|minus:P30D}']   # the connection's, else 30 days back
 *   endDate: '{now|minus:P1D|date}'                          # up to yesterday's midnight
 *
 * Pure: validation by spec path here, resolution for a run (given its config and clock) too.
 */
import { z } from 'zod';
import { filterProblem, namesReadBy, toDate } from '../template/functions.js';
import {
  fillTemplate,
  placeholdersOf,
  resolveChoices,
  templateProblem,
  wholePlaceholder,
} from '../template/template.js';

/** A start or end bound as written in a spec. */
export const dateBoundSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
export type DateBound = z.infer<typeof dateBoundSchema>;

/** A whole `{config.<field>}` (no filters): the connection's text, an ISO date or time. */
export const CONFIG_START = /^\{config\.([A-Za-z_][A-Za-z0-9_]*)\}$/;

const isIsoLiteral = (v: string) =>
  z.iso.datetime({ offset: true }).safeParse(v).success || z.iso.date().safeParse(v).success;

export interface ConfigFieldTypes {
  readonly [name: string]: { readonly type: string };
}

/**
 * Why one alternative of a bound is not valid, or undefined. A template may use `now` and declared
 * config fields; a bare `{config.x}` must be a string field (a number is read with a filter: `|iso`).
 */
export function boundProblem(text: string, config: ConfigFieldTypes): string | undefined {
  const syntax = templateProblem(text);
  if (syntax) return `${text}: ${syntax}`;
  const places = placeholdersOf(text);
  if (places.length === 0)
    return isIsoLiteral(text)
      ? undefined
      : `"${text}": expected an ISO date or time (2025-01-01, 2025-01-01T00:00:00Z), {config.<field>} or a template such as {now|minus:P30D}`;
  for (const p of places) {
    for (const f of p.filters) {
      const problem = filterProblem(f);
      if (problem) return `${text}: ${problem}`;
      if (namesReadBy(f).length > 0)
        return `${text}: ${f} is not available in a bound: list the values to try as alternatives`;
    }
    if (p.name === 'now') continue;
    const field = /^config\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(p.name)?.[1];
    if (field === undefined)
      return `${text}: {${p.name}} is not available here: use {now} or {config.<field>}`;
    const declared = config[field];
    if (declared === undefined)
      return `${text}: "${field}" is not a connectionConfig field (declared: ${Object.keys(config).join(', ') || 'none'})`;
    // A condition only compares the value (`{?config.end}…{/}`): any type.
    if (p.condition) continue;
    if (CONFIG_START.test(text) && declared.type !== 'string')
      return `${text}: "${field}" must be a string field (an ISO date or time), or name a filter that reads it (${text.slice(0, -1)}|iso})`;
    if (declared.type === 'boolean') return `${text}: "${field}" is a boolean field, not a time`;
  }
  return undefined;
}

/** The alternatives of a bound, in order. */
export function alternativesOf(bound: DateBound): string[] {
  return typeof bound === 'string' ? [bound] : bound;
}

/** A date and time without a zone is UTC (as a template's patterns write it), not the worker's zone. */
function utc(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)$/.exec(value.trim());
  return m ? `${m[1]}T${m[2]}Z` : value;
}

/** A bound's value that is not a time: a person must fix the connection (or the spec). */
export class BoundValueError extends Error {
  override name = 'BoundValueError';
}

/**
 * A bound for one run as ISO text, or undefined when no alternative has a value (an empty or absent
 * config value). `now` is the run's start, so every page of a run sees the same bound. Config values
 * are never quoted in errors (they may be private).
 */
export function resolveBound(
  bound: DateBound | undefined,
  config: Readonly<Record<string, unknown>>,
  nowMs: number,
  where: string,
): string | undefined {
  if (bound === undefined) return undefined;
  for (const text of alternativesOf(bound)) {
    if (placeholdersOf(text).length === 0) return new Date(Date.parse(text)).toISOString();
    const vars = (name: string) => {
      if (!name.startsWith('config.')) return undefined;
      const v = config[name.slice('config.'.length)];
      return v === null || v === '' ? undefined : v;
    };
    // Choices first: only the placeholders of the text they keep can be missing.
    const chosen = resolveChoices(text, vars);
    const whole = wholePlaceholder(chosen);
    let value: unknown;
    try {
      value = fillTemplate(text, vars, { nowMs });
    } catch {
      throw new BoundValueError(`${where}: ${text} does not give a date or time`);
    }
    // A text template with a missing part is missing as a whole (`{config.y}-01-01` without y).
    const missing =
      value === undefined ||
      value === null ||
      value === '' ||
      (!whole && placeholdersOf(chosen).some((p) => p.name !== 'now' && vars(p.name) === undefined));
    if (missing) continue;
    const bare = CONFIG_START.test(text);
    const date =
      bare && !(typeof value === 'string' && /^\d{4}-\d\d-\d\d/.test(value)) ? undefined : toDate(utc(value));
    if (!date || Number.isNaN(date.getTime()))
      throw new BoundValueError(
        `${where}: ${text} is not ${bare ? 'an ISO date or time such as 2025-01-01' : 'a date or time'}`,
      );
    return date.toISOString();
  }
  return undefined;
}
