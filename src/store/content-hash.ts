import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth, so equal records hash equal whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** sha256 (hex) of the canonical JSON of a record. */
export function contentHash(value: unknown): string {
  return hashOfCanonical(canonicalJson(value));
}

/** contentHash of a record whose canonical JSON the caller already has (and stores). */
export function hashOfCanonical(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}
