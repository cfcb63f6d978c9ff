/**
 * Sequence numbers on deliveries (`webhooks.sequence`): reading them from a request, and the bookkeeping
 * that tells a number that is late (it may still come, out of order) from one that is lost. Pure; the
 * state lives in Postgres (src/webhooks/sequence-store.ts).
 *
 * The state of one scope is the highest number seen and the holes below it: ranges skipped over, each
 * with the time after which it counts as lost. A number arriving inside a hole fills it.
 */
import type { SequenceConfig } from '../spec/webhooks-schema.js';
import { readValue, type RequestValues } from './request-values.js';

/** The numbers a delivery covers, in its scope. */
export interface SequenceMark {
  /** '' for the connection; otherwise the scope template's value. */
  scope: string;
  first: bigint;
  last: bigint;
}

/** Numbers a spec reads as text: an integer, at most 30 digits (Postgres numeric holds them). */
const INTEGER = /^-?\d{1,30}$/;

/**
 * The delivery's sequence numbers; undefined when it carries none (not every event type is numbered),
 * or a problem (logged; the event is stored all the same, it is authentic).
 */
export function readSequence(
  config: SequenceConfig,
  request: RequestValues,
): SequenceMark | { problem: string } | undefined {
  const value = readValue(config.value, request);
  if (!value.ok) return undefined;
  const last = config.last === undefined ? value : readValue(config.last, request);
  if (!last.ok) return { problem: `sequence has a first number but none at ${last.missing}` };
  if (!INTEGER.test(value.value) || !INTEGER.test(last.value))
    return { problem: `sequence number is not an integer: "${value.value.slice(0, 40)}"` };
  let scope = '';
  if (config.scope !== 'connection' && config.scope !== 'integration') {
    const s = readValue(config.scope, request);
    if (!s.ok) return { problem: `no sequence scope at ${s.missing}` };
    if (s.value.length > 200) return { problem: 'sequence scope is longer than 200 characters' };
    scope = s.value;
  }
  const first = BigInt(value.value);
  const end = BigInt(last.value);
  if (end < first) return { problem: `sequence range ends (${end}) before it starts (${first})` };
  return { scope, first, last: end };
}

/** Numbers skipped over: [from, to], lost unless they arrive by `dueAt` (ms since the epoch). */
export interface Hole {
  from: bigint;
  to: bigint;
  dueAt: number;
}

export interface SequenceState {
  /** The highest number seen; null before the first. */
  high: bigint | null;
  holes: Hole[];
}

export interface Observed {
  state: SequenceState;
  /** Holes now taken as lost events: a gap to reconcile. */
  lost: Hole[];
}

/** Holes kept per scope; beyond, the oldest count as lost at once (the state stays small). */
export const MAX_HOLES = 100;

/**
 * A number this far below the highest, not filling a hole, is the sequence starting over (Telegram picks
 * a new start after a week of silence), not an arrival that late.
 */
export const RESTART_DISTANCE = 10_000n;

/** Removes [first, last] from the holes, splitting a hole it falls inside. */
function fill(holes: readonly Hole[], first: bigint, last: bigint): { holes: Hole[]; filled: boolean } {
  const out: Hole[] = [];
  let filled = false;
  for (const h of holes) {
    if (last < h.from || first > h.to) {
      out.push(h);
      continue;
    }
    filled = true;
    if (h.from < first) out.push({ from: h.from, to: first - 1n, dueAt: h.dueAt });
    if (last < h.to) out.push({ from: last + 1n, to: h.to, dueAt: h.dueAt });
  }
  return { holes: out, filled };
}

/** Records a delivery covering [first, last] at `now`; a number skipped over may arrive until now + reorderMs. */
export function observe(
  state: SequenceState,
  mark: { first: bigint; last: bigint },
  now: number,
  reorderMs: number,
): Observed {
  if (state.high === null) return { state: { high: mark.last, holes: [] }, lost: [] };
  const { holes, filled } = fill(state.holes, mark.first, mark.last);
  let high = state.high;
  if (mark.first > high + 1n) holes.push({ from: high + 1n, to: mark.first - 1n, dueAt: now + reorderMs });
  if (mark.last > high) high = mark.last;
  else if (!filled && mark.last < high - RESTART_DISTANCE) high = mark.last; // starting over
  holes.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  const lost = holes.length > MAX_HOLES ? holes.splice(0, holes.length - MAX_HOLES) : [];
  return { state: { high, holes }, lost };
}

/** The holes due by `now` are lost; the rest stay. */
export function expire(state: SequenceState, now: number): Observed {
  const lost = state.holes.filter((h) => h.dueAt <= now);
  if (lost.length === 0) return { state, lost };
  return { state: { high: state.high, holes: state.holes.filter((h) => h.dueAt > now) }, lost };
}

/** The earliest time a hole becomes due, or null without holes. */
export function nextDue(state: SequenceState): number | null {
  return state.holes.length === 0 ? null : Math.min(...state.holes.map((h) => h.dueAt));
}

/** The holes as JSON (numbers as text: they may exceed 2^53). */
export const holesJson = (holes: readonly Hole[]) =>
  holes.map((h) => ({ from: String(h.from), to: String(h.to), dueAt: h.dueAt }));

export function holesFromJson(value: unknown): Hole[] {
  if (!Array.isArray(value)) return [];
  return (value as { from: string; to: string; dueAt: number }[]).map((h) => ({
    from: BigInt(h.from),
    to: BigInt(h.to),
    dueAt: h.dueAt,
  }));
}
