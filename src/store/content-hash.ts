import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so equal records hash equal whatever the key order.
 * Exactly what JSON.stringify gives for the same value with its objects' keys sorted (toJSON, undefined
 * and non-finite numbers included), written directly: this runs for every record of every page, and a
 * replacer that copies each object into a sorted one cost more than mapping the record.
 */
export function canonicalJson(value: unknown): string {
  return write(value) as string;
}

function write(value: unknown): string | undefined {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function')
    v = (v as { toJSON: () => unknown }).toJSON();
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + (write(v[i]) ?? 'null');
        return `${out}]`;
      }
      const o = v as Record<string, unknown>;
      const flat = flatJson(o);
      if (flat !== undefined) return flat;
      let out = '{';
      let first = true;
      for (const k of sortedKeys(o)) {
        const s = write(o[k]);
        if (s === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${s}`;
        first = false;
      }
      return `${out}}`;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
      // Left out of objects; null in arrays.
      return undefined;
    default:
      // bigint: JSON.stringify throws its own TypeError.
      return JSON.stringify(v);
  }
}

/**
 * An object whose values are all strings, finite numbers, booleans or null (a mapped record, most often):
 * written by JSON.stringify in one native call — the same text as the general path, several times
 * faster. A record whose keys already come in canonical order (mapped records do: mapFields writes the
 * fields in that order) is written as it is; any other gets a key-sorted copy. Undefined for anything
 * else.
 */
function flatJson(o: Record<string, unknown>): string | undefined {
  const keys = sortedKeys(o);
  for (const k of keys) {
    // Assigned, it would set the copy's prototype rather than a property (JSON.parse makes it an own one).
    if (k === '__proto__') return undefined;
    const x = o[k];
    const t = typeof x;
    if (!(t === 'string' || t === 'boolean' || x === null || (t === 'number' && Number.isFinite(x))))
      return undefined;
  }
  // A prototype's toJSON would be called again by JSON.stringify: plain objects only.
  if (lastInOrder && isPlain(o)) return JSON.stringify(o);
  const copy: Record<string, unknown> = {};
  for (const k of keys) copy[k] = o[k];
  return JSON.stringify(copy);
}

const isPlain = (o: object) => {
  const proto: unknown = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
};

const isIndex = (k: string) => /^(?:0|[1-9]\d{0,9})$/.test(k) && Number(k) < 2 ** 32 - 1;

/**
 * Keys in the order an object built by inserting them sorted enumerates them (what the earlier canonical
 * form wrote): integer-like keys first, ascending — Object.keys already lists them so — then the others
 * sorted.
 */
function sortedKeys(o: object): readonly string[] {
  const keys = Object.keys(o);
  // The records of a page share their keys, listed in the same order: their sorted order is the last one.
  if (sameKeys(keys, lastKeys)) return lastSorted;
  const sorted = canonicalKeyOrder(keys);
  lastKeys = keys;
  lastSorted = sorted;
  lastInOrder = sameKeys(keys, sorted);
  return sorted;
}

/** `keys` (as Object.keys lists them) in the order canonical JSON writes them. */
export function canonicalKeyOrder(keys: readonly string[]): string[] {
  let i = 0;
  while (i < keys.length && isIndex(keys[i]!)) i++;
  return i === 0 ? [...keys].sort() : keys.slice(0, i).concat(keys.slice(i).sort());
}

let lastKeys: readonly string[] = [];
let lastSorted: readonly string[] = [];
/** Whether lastKeys are already in canonical order (then lastSorted lists the same keys). */
let lastInOrder = true;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** sha256 (hex) of the canonical JSON of a record. */
export function contentHash(value: unknown): string {
  return hashOfCanonical(canonicalJson(value));
}

/** contentHash of a record whose canonical JSON the caller already has (and stores). */
export function hashOfCanonical(json: string): string {
  return hash('sha256', json, 'hex');
}
