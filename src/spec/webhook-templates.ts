/**
 * Value templates of the webhooks section: text built from a request's headers, query and body, such
 * as `'{header.x-github-event}.{body.action?}'`. Pure: parsing (with errors a spec author can act on)
 * and evaluation. Lives with the spec because `validate` checks their syntax.
 *
 * Placeholders: `{header.NAME}` (case-insensitive), `{body.dot.path}` (a scalar in the parsed body),
 * `{query.NAME}` (the request URL's query). A trailing `?` makes one optional: when it is missing, it is
 * left out together with the literal text just before it, so `{header.x-github-event}.{body.action?}`
 * gives `issues.opened` and, for an event without an action, `push`.
 */

export interface TemplatePart {
  kind: 'text' | 'header' | 'body' | 'query';
  /** The literal text, the lower-case header name, the body path or the query parameter. */
  value: string;
  optional: boolean;
}

export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Parses a template; throws TemplateSyntaxError saying which placeholder is wrong and why. */
export function parseValueTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  let placeholders = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ kind: 'text', value: template.slice(last, m.index), optional: false });
    last = m.index + m[0].length;
    placeholders++;
    let inner = m[1]!.trim();
    const optional = inner.endsWith('?');
    if (optional) inner = inner.slice(0, -1);
    const dot = inner.indexOf('.');
    const kind = dot === -1 ? inner : inner.slice(0, dot);
    const name = dot === -1 ? '' : inner.slice(dot + 1);
    if (kind !== 'header' && kind !== 'body' && kind !== 'query')
      throw new TemplateSyntaxError(
        `{${m[1]}}: a placeholder is {header.name}, {body.dot.path} or {query.name}, optionally ending in ?`,
      );
    if (name === '' || /\s/.test(name))
      throw new TemplateSyntaxError(
        `{${m[1]}}: give the ${kind === 'body' ? 'path' : 'name'} after "${kind}."`,
      );
    parts.push({ kind, value: kind === 'header' ? name.toLowerCase() : name, optional });
  }
  const rest = template.slice(last);
  if (/[{}]/.test(rest) || parts.some((p) => p.kind === 'text' && /[{}]/.test(p.value)))
    throw new TemplateSyntaxError(`unbalanced brace in "${template}"`);
  if (rest) parts.push({ kind: 'text', value: rest, optional: false });
  if (placeholders === 0)
    throw new TemplateSyntaxError(
      `"${template}" has no placeholder: use {header.name}, {body.path} or {query.name}`,
    );
  if (parts.every((p) => p.kind === 'text' || p.optional))
    throw new TemplateSyntaxError(`"${template}": at least one placeholder must be required (without ?)`);
  return parts;
}

/** Where the values of a request come from. */
export interface TemplateInputs {
  header(name: string): string | undefined;
  /** A scalar at a body path as text; undefined when missing, empty or not a scalar. */
  body(path: string): string | undefined;
  query(name: string): string | undefined;
}

export type Filled = { ok: true; value: string } | { ok: false; missing: string };

/** Fills a parsed template; a required placeholder that is missing or empty makes it fail, naming it. */
export function fillValueTemplate(parts: readonly TemplatePart[], inputs: TemplateInputs): Filled {
  let out = '';
  let pendingText = '';
  for (const p of parts) {
    if (p.kind === 'text') {
      pendingText += p.value;
      continue;
    }
    const v =
      p.kind === 'header'
        ? inputs.header(p.value)
        : p.kind === 'body'
          ? inputs.body(p.value)
          : inputs.query(p.value);
    if (v === undefined || v === '') {
      if (!p.optional) return { ok: false, missing: describePart(p) };
      pendingText = '';
      continue;
    }
    out += pendingText + v;
    pendingText = '';
  }
  return { ok: true, value: out + pendingText };
}

export const describePart = (p: TemplatePart): string =>
  p.kind === 'header'
    ? `header ${p.value}`
    : p.kind === 'body'
      ? `body path "${p.value}"`
      : `query parameter ${p.value}`;

/**
 * Other names a provider sends the same header under: Standard Webhooks' `webhook-*` and Svix's
 * `svix-*`, and the same name with and without the `x-` prefix (Shopify's newer events drop it).
 * The asked name comes first.
 */
export function headerAliases(name: string): string[] {
  const lower = name.toLowerCase();
  const out = [lower];
  if (lower.startsWith('webhook-')) out.push(`svix-${lower.slice('webhook-'.length)}`);
  else if (lower.startsWith('svix-')) out.push(`webhook-${lower.slice('svix-'.length)}`);
  for (const n of [...out]) out.push(n.startsWith('x-') ? n.slice(2) : `x-${n}`);
  return out;
}

/** A header lookup that also tries the header's aliases (headerAliases). */
export function withAliases(
  header: (name: string) => string | undefined,
): (name: string) => string | undefined {
  return (name) => {
    const direct = header(name);
    if (direct !== undefined) return direct;
    for (const alias of headerAliases(name).slice(1)) {
      const v = header(alias);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}
