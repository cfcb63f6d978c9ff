/** Pure helpers that pick records out of a provider's JSON answer. */

export class RecordShapeError extends Error {
  override name = 'RecordShapeError';
}

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

/** The array of records at `recordsPath`, each with its primary key as a string. */
export function extractRecords(
  body: unknown,
  recordsPath: string,
  primaryKey: string,
): { key: string; data: Record<string, unknown> }[] {
  const list = valueAtPath(body, recordsPath);
  if (!Array.isArray(list)) {
    throw new RecordShapeError(
      `expected an array of records at ${recordsPath === '' ? 'the top of the body' : `"${recordsPath}"`}, found ${describe(list)}`,
    );
  }
  return list.map((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new RecordShapeError(`record ${index} at "${recordsPath}" is ${describe(item)}, not an object`);
    }
    const key = valueAtPath(item, primaryKey);
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new RecordShapeError(
        `record ${index} has no usable primary key "${primaryKey}" (found ${describe(key)})`,
      );
    }
    return { key: String(key), data: item as Record<string, unknown> };
  });
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}
