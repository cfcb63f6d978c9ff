/**
 * Pure helpers for reading a provider's JSON: values at dot paths, and scalars as text (keys, cursors, URLs).
 *
 * A dot path is keys joined by "."; a `*` key matches every item of a list or every value of an object.
 * A key that itself holds a "." (OData's `@odata.nextLink`), or that is literally "*", is quoted in
 * brackets: `['@odata.nextLink']`, `data["a.b"].id`, `items.['*']`; inside the quotes a backslash
 * escapes the next character (`['it\'s']`). A bracket without a quote after it is part of a plain key.
 */
import { z } from 'zod';

/** Text of a scalar (objects and arrays as JSON), for keys, cursors and URLs. */
export function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? 'undefined';
}

/** One step of a path: a key, or `*` (every item or value). */
export type PathSegment = { key: string } | '*';

export class PathSyntaxError extends Error {
  override name = 'PathSyntaxError';
}

/** Whether a bracket-quoted key starts at `i`. */
function quoteAt(path: string, i: number): boolean {
  return path[i] === '[' && (path[i + 1] === "'" || path[i + 1] === '"');
}

function parseSegments(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  for (;;) {
    if (quoteAt(path, i)) {
      const quote = path[i + 1]!;
      let key = '';
      let j = i + 2;
      for (; j < path.length && path[j] !== quote; j++) {
        if (path[j] === '\\') {
          j++;
          if (j >= path.length) break;
        }
        key += path[j];
      }
      if (j >= path.length)
        throw new PathSyntaxError(
          `the quoted key at ${i} has no closing ${quote}]: write ['key.with.dots'] (\\ escapes a quote)`,
        );
      if (path[j + 1] !== ']') throw new PathSyntaxError(`the quoted key at ${i} must end with ${quote}]`);
      out.push({ key });
      i = j + 2;
      if (i === path.length) return out;
      if (quoteAt(path, i)) continue;
      if (path[i] !== '.')
        throw new PathSyntaxError(
          `after the quoted key ending at ${i - 1} comes ".", another ['key'] or the end, not ${JSON.stringify(path[i])}`,
        );
      i++;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && !quoteAt(path, j)) j++;
    const key = path.slice(i, j);
    out.push(key === '*' ? '*' : { key });
    if (j === path.length) return out;
    i = path[j] === '.' ? j + 1 : j;
    // "a." ends with an empty key, as splitting on dots gives.
    if (i === path.length) {
      out.push({ key: '' });
      return out;
    }
  }
}

/** Parsed bracketed paths: paths come from specs, so there are few, and they are read per record. */
const parsed = new Map<string, PathSegment[]>();

/**
 * The segments of a dot path ('' has none). Throws a PathSyntaxError for an unclosed or misplaced
 * quoted key; specs are checked with `dotPathProblem` when they load.
 */
export function pathSegments(dotPath: string): PathSegment[] {
  if (dotPath === '') return [];
  if (!dotPath.includes('[')) return dotPath.split('.').map((k) => (k === '*' ? '*' : { key: k }));
  let segs = parsed.get(dotPath);
  if (!segs) {
    segs = parseSegments(dotPath);
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(dotPath, segs);
  }
  return segs;
}

/** Why a dot path cannot be read, or undefined. */
export function dotPathProblem(dotPath: string): string | undefined {
  try {
    pathSegments(dotPath);
    return undefined;
  } catch (error) {
    if (error instanceof PathSyntaxError) return error.message;
    throw error;
  }
}

/** A dot path in a spec: checked when the spec loads, the problem named at the field's path. */
export function dotPath() {
  return z.string().superRefine((p, ctx) => {
    const problem = dotPathProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: `not a dot path: ${problem}` });
  });
}

/** Keys as a dot path, quoting those a bare key cannot hold (a ".", a quoted-key start, a lone "*"). */
export function formatPath(keys: readonly PathSegment[]): string {
  return keys
    .map((s, i) => {
      if (s === '*') return i === 0 ? '*' : '.*';
      const k = s.key;
      const bare =
        !k.includes('.') && !/\[['"]/.test(k) && k !== '*' && !(i === 0 && keys.length === 1 && k === '');
      if (bare) return i === 0 ? k : `.${k}`;
      return `['${k.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
    })
    .join('');
}

/**
 * Value at a dot path (`data.items`); an empty path is the value itself. A `*` segment matches every
 * item of a list or every value of an object, and the path then gives the list of what matched
 * (`data.*.attributes` → each item's attributes; `tags.*.name` → every tag's name).
 */
export function valueAtPath(value: unknown, dotPath: string): unknown {
  if (dotPath === '') return value;
  if (dotPath.includes('[')) {
    const segs = pathSegments(dotPath);
    if (segs.includes('*')) return matchesOf(value, segs);
    let current: unknown = value;
    for (const s of segs) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<string, unknown>)[(s as { key: string }).key];
    }
    return current;
  }
  if (dotPath.includes('*')) return matchesAtPath(value, dotPath);
  // Walked in place rather than split: this runs per field of every record and every webhook.
  let current: unknown = value;
  let start = 0;
  for (;;) {
    const dot = dotPath.indexOf('.', start);
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[
      dot === -1 ? dotPath.slice(start) : dotPath.slice(start, dot)
    ];
    if (dot === -1) return current;
    start = dot + 1;
  }
}

function matchesOf(value: unknown, segs: readonly PathSegment[]): unknown[] {
  let current: unknown[] = [value];
  for (const part of segs) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c === null || typeof c !== 'object') continue;
      if (part === '*')
        next.push(...(Array.isArray(c) ? (c as unknown[]) : Object.values(c as Record<string, unknown>)));
      else {
        const v = (c as Record<string, unknown>)[part.key];
        if (v !== undefined) next.push(v);
      }
    }
    current = next;
  }
  return current;
}

/** Every value a path with `*` segments reaches, in document order; absent branches add nothing. */
export function matchesAtPath(value: unknown, dotPath: string): unknown[] {
  return matchesOf(value, dotPath === '' ? [{ key: '' }] : pathSegments(dotPath));
}

/** Whether a dot path has a `*` segment (it then gives a list). */
export function hasWildcard(dotPath: string): boolean {
  if (dotPath === '') return false;
  try {
    return pathSegments(dotPath).includes('*');
  } catch {
    return false; // a malformed path is reported where the spec is checked
  }
}
