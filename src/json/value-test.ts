/**
 * Tests of one JSON value, shared by response rules (http) and record filters (mapping): `equals`, `in`,
 * `matches` (a regular expression on the value as text) and `exists`. A number or boolean equals its
 * text too ("0" = 0), since providers send both; an empty list counts as absent.
 */
import { z } from 'zod';
import { scalarText } from './path.js';

export const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type Scalar = z.infer<typeof scalarSchema>;

/** A regular expression in a spec, refused at load when it does not compile. */
export const regexSchema = z.string().refine(
  (v) => {
    try {
      new RegExp(v);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a valid regular expression' },
);

export interface ValueTest {
  equals?: Scalar | undefined;
  in?: readonly Scalar[] | undefined;
  matches?: string | undefined;
  exists?: boolean | undefined;
}

/** How many tests a condition gives (exactly one is expected). */
export function testCount(t: ValueTest): number {
  return [t.equals, t.in, t.matches, t.exists].filter((x) => x !== undefined).length;
}

const regexCache = new Map<string, RegExp>();

function same(v: unknown, x: Scalar): boolean {
  return v === x || (v !== undefined && v !== null && scalarText(v) === String(x));
}

/** Whether `value` passes the one test `t` gives. */
export function passes(value: unknown, t: ValueTest): boolean {
  const present = value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
  if (t.exists !== undefined) return present === t.exists;
  if (t.equals !== undefined) return same(value, t.equals);
  if (t.in !== undefined) return t.in.some((x) => same(value, x));
  if (t.matches !== undefined) {
    let re = regexCache.get(t.matches);
    if (!re) regexCache.set(t.matches, (re = new RegExp(t.matches)));
    return present && re.test(scalarText(value));
  }
  return true;
}
