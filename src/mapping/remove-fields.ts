/**
 * Fields dropped from stored records: dot paths whose last segment is the field removed, with `*`
 * segments before it matching every item of a list or value of an object (`items.*.secret`). Records
 * are never changed in place: what a path passes through is copied, the rest is shared. A path that
 * reaches nothing removes nothing; list items themselves are never removed (indexes stay stable).
 */
import { dotPathProblem, pathSegments } from '../json/path.js';

/**
 * The segments of a remove path; the schema has checked them (non-empty, no trailing `*`). A quoted
 * key (`['a.b']`, `['*']`) is a key; WILD stands for a bare `*`.
 */
const WILD = Symbol('*');
type Seg = string | typeof WILD;
function segmentsOf(path: string): Seg[] {
  return pathSegments(path).map((s) => (s === '*' ? WILD : s.key));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The value without what `segs` reaches, or the same value when nothing is there. */
function without(value: unknown, segs: readonly Seg[], at: number): unknown {
  const seg = segs[at]!;
  if (at === segs.length - 1) {
    if (seg === WILD || !isObject(value) || !Object.hasOwn(value, seg)) return value;
    const { [seg]: _gone, ...rest } = value;
    return rest;
  }
  if (Array.isArray(value)) {
    if (seg === WILD) {
      let changed = false;
      const out = value.map((item) => {
        const next = without(item, segs, at + 1);
        if (next !== item) changed = true;
        return next;
      });
      return changed ? out : value;
    }
    if (!/^\d+$/.test(seg)) return value;
    const i = Number(seg);
    if (i >= value.length) return value;
    const next = without(value[i], segs, at + 1);
    if (next === value[i]) return value;
    const out: unknown[] = [...(value as unknown[])];
    out[i] = next;
    return out;
  }
  if (!isObject(value)) return value;
  const keys = seg === WILD ? Object.keys(value) : Object.hasOwn(value, seg) ? [seg] : [];
  let out: Record<string, unknown> | undefined;
  for (const k of keys) {
    const next = without(value[k], segs, at + 1);
    if (next !== value[k]) (out ??= { ...value })[k] = next;
  }
  return out ?? value;
}

/** The record without the fields the paths name. */
export function removeFields(
  record: Record<string, unknown>,
  paths: readonly string[],
): Record<string, unknown> {
  let out = record;
  for (const path of paths) out = without(out, segmentsOf(path), 0) as Record<string, unknown>;
  return out;
}

/** Why a remove path is not usable, or undefined. */
export function removePathProblem(path: string): string | undefined {
  const problem = dotPathProblem(path);
  if (problem) return problem;
  // Quoted keys (`['a.b']`) may hold anything; bare ones are checked as before.
  const bare = path.includes('[') ? [] : path.split('.');
  if (bare.some((s) => s === '')) return 'empty segment: write dot paths such as "content.html"';
  if (pathSegments(path).at(-1) === '*')
    return 'the last segment names the field removed ("*" may only stand for a list item or object value before it)';
  if (bare.some((s) => s !== '*' && s.includes('*')))
    return '"*" is a whole segment (one list item or object value)';
  return undefined;
}
