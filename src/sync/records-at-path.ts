/** Pure helpers that pick records out of a provider's JSON answer. */

/** Text of a scalar (objects and arrays as JSON), for keys, cursors and URLs. */
export function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? 'undefined';
}

/** Value at a dot path (`data.items`); an empty path is the value itself. */
export function valueAtPath(value: unknown, dotPath: string): unknown {
  if (dotPath === '') return value;
  let current: unknown = value;
  for (const part of dotPath.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
