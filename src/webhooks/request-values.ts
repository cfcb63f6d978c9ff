/**
 * Reading a value of a webhook request as the spec declares it (eventId, eventType, order, route
 * account): a header, a body path, or a template over headers, query and body. Headers are looked up
 * with their aliases (webhook-* / svix-*, with or without x-). Pure.
 */
import { scalarText, valueAtPath } from '../json/path.js';
import {
  fillValueTemplate,
  parseValueTemplate,
  withAliases,
  type Filled,
  type TemplatePart,
} from '../spec/webhook-templates.js';
import type { ValueSpec } from '../spec/webhooks-schema.js';

export interface RequestValues {
  /** Header lookup by lower-case name (aliases are tried here). */
  header: (name: string) => string | undefined;
  body: unknown;
  query: (name: string) => string | undefined;
}

/** Parsed templates by their text: a spec has a handful, parsed once each. */
const parsed = new Map<string, TemplatePart[]>();

function partsOf(template: string): TemplatePart[] {
  let parts = parsed.get(template);
  if (!parts) {
    // The spec was validated, so this does not throw for a loaded spec.
    parts = parseValueTemplate(template);
    if (parsed.size >= 1000) parsed.clear();
    parsed.set(template, parts);
  }
  return parts;
}

/** A scalar at a body path as text; objects, arrays, null and '' count as missing. */
function bodyText(body: unknown, path: string): string | undefined {
  const v = valueAtPath(body, path);
  if (v === undefined || v === null || v === '' || typeof v === 'object') return undefined;
  return scalarText(v);
}

export function readValue(spec: ValueSpec, request: RequestValues): Filled {
  const header = withAliases(request.header);
  if (typeof spec === 'string')
    return fillValueTemplate(partsOf(spec), {
      header,
      body: (path) => bodyText(request.body, path),
      query: request.query,
    });
  if ('header' in spec) {
    const v = header(spec.header);
    return v === undefined || v === ''
      ? { ok: false, missing: `header ${spec.header}` }
      : { ok: true, value: v };
  }
  const v = bodyText(request.body, spec.path);
  return v === undefined ? { ok: false, missing: `body path "${spec.path}"` } : { ok: true, value: v };
}
