/**
 * What the translators of one stream share: the report, the config fields, the interpolation scope, the
 * request being assembled, and where each component was written in the manifest.
 */
import type { ConfigFields } from './config-fields.js';
import type { Scope } from './expressions.js';
import { translateTemplate } from './expressions.js';
import { isInterpolated } from './jinja.js';
import { isObject, originOf, type Component, type Json } from './manifest.js';
import type { Effect, Report } from './report.js';

/** The request of one resource, as Syncwright templates. */
export interface RequestParts {
  query: Record<string, string | number | boolean>;
  headers: Record<string, string>;
  body?: Record<string, Json> | undefined;
  /** Where the body's fields came from: JSON (body_json) or an HTML form (body_data); never both. */
  bodyFormat?: 'json' | 'form' | undefined;
}

export interface StreamContext {
  report: Report;
  config: ConfigFields;
  scope: Scope;
  /** The stream's name in the manifest. */
  stream: string;
  /** The stream's own manifest path, for components without one of their own. */
  streamPath: string;
  request: RequestParts;
  /**
   * A record filter that keeps records whose field is at or after the incremental window's start
   * (`record.updated >= stream_interval.start_time`): client-side incremental written by hand. The
   * cursor translator takes it over when the field is the cursor; otherwise it is reported.
   */
  windowFilter?: { field: string; path: string; condition: string } | undefined;
  /**
   * Every key of the stream's slices is known (its partitions; no cursor adds window keys): a slice
   * key outside them is never set, and Airbyte adds null for it.
   */
  sliceKeysKnown?: boolean | undefined;
  /** The first segment of each primary key path, as written (a null there would lose the record). */
  primaryKeyRoots?: string[] | undefined;
  /**
   * Each parent config's `incremental_dependency: true`: its manifest path, and whether its parent
   * stream is incremental (only then does Airbyte visit the changed parents alone). Mapped or reported
   * once the child's own cursor is known.
   */
  incrementalDependencies?: { path: string; parentIncremental: boolean }[] | undefined;
}

/** The manifest path of a component's field: where the component was written, else under the stream. */
export function pathOf(ctx: StreamContext, component: unknown, fallback: string, field?: string): string {
  const base =
    (component !== null && typeof component === 'object' ? originOf(component) : undefined) ??
    `${ctx.streamPath}.${fallback}`;
  return field ? `${base}.${field}` : base;
}

export function issue(
  ctx: StreamContext,
  path: string,
  component: string,
  effect: Effect,
  message: string,
): void {
  ctx.report.add(path, component, effect, message, ctx.stream);
}

export function typeOf(c: unknown): string {
  return isObject(c) && typeof c.type === 'string' ? c.type : 'component';
}

/** A field name that may be written with `{{ parameters.x }}`: its literal value, or undefined. */
export function literalName(value: Json | undefined, ctx: StreamContext): string | undefined {
  if (typeof value !== 'string') return typeof value === 'number' ? String(value) : undefined;
  if (!isInterpolated(value)) return value;
  const t = translateTemplate(value, ctx.scope);
  return t.ok && !/[{}]/.test(t.text) ? t.text : undefined;
}

/**
 * Places a template where a RequestOption says: a query parameter, a header, a JSON body field
 * (`field_path` makes a nested one) or a form field. Returns why it cannot, or undefined when placed.
 */
export function inject(option: Component, template: string, ctx: StreamContext): string | undefined {
  const into = option.inject_into;
  const path = Array.isArray(option.field_path)
    ? option.field_path.map((p) => literalName(p, ctx))
    : [literalName(option.field_name, ctx)];
  if (path.length === 0 || path.some((p) => p === undefined)) return 'its field_name has no literal value';
  const names = path as string[];
  if (into === 'request_parameter') {
    if (names.length !== 1) return 'a nested field_path in a query parameter';
    ctx.request.query[names[0]!] = template;
    return undefined;
  }
  if (into === 'header') {
    if (names.length !== 1) return 'a nested field_path in a header';
    ctx.request.headers[names[0]!] = template;
    return undefined;
  }
  if (into === 'body_json') {
    if (ctx.request.bodyFormat === 'form') return 'a JSON body field next to form fields (body_data)';
    ctx.request.bodyFormat = 'json';
    ctx.request.body ??= {};
    let node: Record<string, Json> = ctx.request.body;
    for (const k of names.slice(0, -1)) {
      const next = node[k];
      if (!isObject(next)) node[k] = {};
      node = node[k] as Record<string, Json>;
    }
    node[names.at(-1)!] = template;
    return undefined;
  }
  if (into === 'body_data') {
    if (names.length !== 1) return 'a nested field_path in a form body';
    if (ctx.request.bodyFormat === 'json') return 'a form field (body_data) next to JSON body fields';
    ctx.request.bodyFormat = 'form';
    (ctx.request.body ??= {})[names[0]!] = template;
    return undefined;
  }
  return `inject_into ${JSON.stringify(into)} is not known`;
}
