/** Pure helpers for reading a provider's JSON: values at dot paths, and scalars as text (keys, cursors, URLs). */

/** Text of a scalar (objects and arrays as JSON), for keys, cursors and URLs. */
export function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? 'undefined';
}

/** Value at a dot path (`data.items`); an empty path is the value itself. */
export function valueAtPath(value: unknown, dotPath: string): unknown {
  if (dotPath === '') return value;
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
