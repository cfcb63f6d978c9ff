/** Pure helpers for reading a provider's JSON: values at dot paths, and scalars as text (keys, cursors, URLs). */

/** Text of a scalar (objects and arrays as JSON), for keys, cursors and URLs. */
export function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? 'undefined';
}

/**
 * Value at a dot path (`data.items`); an empty path is the value itself. A `*` segment matches every
 * item of a list or every value of an object, and the path then gives the list of what matched
 * (`data.*.attributes` → each item's attributes; `tags.*.name` → every tag's name).
 */
export function valueAtPath(value: unknown, dotPath: string): unknown {
  if (dotPath === '') return value;
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

/** Every value a path with `*` segments reaches, in document order; absent branches add nothing. */
export function matchesAtPath(value: unknown, dotPath: string): unknown[] {
  let current: unknown[] = [value];
  for (const part of dotPath.split('.')) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c === null || typeof c !== 'object') continue;
      if (part === '*')
        next.push(...(Array.isArray(c) ? (c as unknown[]) : Object.values(c as Record<string, unknown>)));
      else {
        const v = (c as Record<string, unknown>)[part];
        if (v !== undefined) next.push(v);
      }
    }
    current = next;
  }
  return current;
}

/** Whether a dot path has a `*` segment (it then gives a list). */
export function hasWildcard(dotPath: string): boolean {
  return dotPath.split('.').includes('*');
}
