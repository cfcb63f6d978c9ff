/**
 * Request templates: paths, query values, headers and JSON bodies with `{placeholders}` filled per page
 * (the language itself — names, filters — is src/template/).
 *
 *   {cursor} {page} {offset} {limit}          the pagination state
 *   {since} {window.start} {window.end}       the incremental window (ISO UTC unless formatted)
 *   {config.name} {parent.name}               the connection's config, the parent record's fields
 *   {now}                                     the time the request is built
 *
 * Date patterns are wall-clock times in the spec's `timeZone` (or a `tz:<zone>` filter), UTC by default.
 *
 * Where a value lands decides the rest of its encoding: query values are percent-encoded by the URL,
 * body values are JSON-encoded, header values must not contain line breaks. A body string that is exactly
 * one placeholder keeps the value's type (`"{limit}"` → 100); a query value, header or body field that
 * is exactly one placeholder without a value is left out (Notion's `start_cursor` on the first page).
 * Everything else is plain text: no code runs.
 */
import {
  fillTemplate,
  placeholdersOf,
  resolve,
  resolveChoices,
  textOf,
  TemplateError,
  wholePlaceholder,
  type FillOptions,
  type TemplateValue,
  type TemplateVars,
} from '../template/template.js';

export { timeZoneProblem } from '../template/functions.js';
export {
  filterProblem,
  type FillOptions,
  placeholdersIn,
  placeholdersOf,
  TemplateError,
  type TemplateValue,
  type TemplateVars,
} from '../template/template.js';

/** Names a template may use; config/parent names are checked against the spec elsewhere. */
export const TEMPLATE_NAMES = [
  'cursor',
  'page',
  'offset',
  'limit',
  'since',
  'window.start',
  'window.end',
  'now',
] as const;
export const TIME_NAMES = new Set(['since', 'window.start', 'window.end']);

/** Where a filled string lands; headers refuse line breaks (header injection). */
export type Place = 'query' | 'header' | 'body';

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
  let out = fillTemplate(template, vars, options);
  if (out === undefined) return undefined;
  // A choice that keeps exactly one placeholder keeps its type too (`{?x}{limit}{/}` → 100).
  if (place !== 'body' || !wholePlaceholder(resolveChoices(template, vars))) out = textOf(out);
  if (place === 'header' && typeof out === 'string' && /[\r\n\0]/.test(out))
    throw new TemplateError(`a header value would contain a line break or NUL: refused`);
  return out as TemplateValue;
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
    // Missing after its filters: `{since|default:2020-01-01}` always has a value.
    const chosen = resolveChoices(template, vars);
    if (placeholdersOf(chosen).some((p) => resolve(p, vars, options) === undefined)) seen.missing = true;
    return fillString(template, vars, 'body', options);
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

/**
 * An HTML form (application/x-www-form-urlencoded) of a filled body's fields: text as it is, any other
 * value as JSON (`32`, `true`). Fields are sent in the order written.
 */
export function formBody(fields: unknown): string {
  const pairs = Object.entries(fields as Record<string, unknown>).map(([k, v]): [string, string] => [
    k,
    typeof v === 'string' ? v : JSON.stringify(v),
  ]);
  return new URLSearchParams(pairs).toString();
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
    if (filled !== undefined) out[k] = textOf(filled);
  }
  return out;
}
