/**
 * From a provider's record to the stored one: field mapping, coercion, a TypeScript `map` step, the
 * primary key, and validation. Pure; a record that fails is reported with the reason (to quarantine).
 */
import { valueAtPath } from '../json/path.js';
import { coerce } from './coerce.js';
import { removeFields } from './remove-fields.js';
import { passes } from '../json/value-test.js';
import { canonicalKeyOrder, contentHash } from '../store/content-hash.js';
import { fillTemplate, TemplateError, type FillOptions, type TemplateVars } from '../template/template.js';
import type { FieldsConfig, RecordCondition, RecordSchemaConfig } from './schema.js';

export interface MappingConfig {
  fields?: FieldsConfig | undefined;
  passthrough?: boolean | undefined;
  map?: ((record: Record<string, unknown>) => Record<string, unknown>) | undefined;
  schema?: RecordSchemaConfig | undefined;
  /** Absent for content-keyed (append-only) resources: the key is the sha256 of the mapped record. */
  primaryKey?: string | string[] | undefined;
  /** Nested objects whose fields move to the top before mapping. */
  flatten?: string | string[] | undefined;
  /** Paths dropped from the mapped record (after `map`, before the key is read). */
  removeFields?: readonly string[] | undefined;
}

function holds(c: RecordCondition, raw: unknown): boolean {
  const ok = passes(valueAtPath(raw, c.path), c);
  return c.not ? !ok : ok;
}

/** Whether a record passes the resource's filter (every condition holds); no filter keeps everything. */
export function keepRecord(filter: readonly RecordCondition[] | undefined, raw: unknown): boolean {
  return !filter || filter.every((c) => holds(c, raw));
}

/** The record with the fields of the named nested objects moved to its top level. */
export function flattenRecord(
  raw: Record<string, unknown>,
  paths: string | string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  for (const path of Array.isArray(paths) ? paths : [paths]) {
    const nested = valueAtPath(raw, path);
    if (nested === null || typeof nested !== 'object' || Array.isArray(nested)) continue;
    if (!path.includes('.')) delete out[path];
    for (const [k, v] of Object.entries(nested)) if (!(k in raw)) out[k] = v;
  }
  return out;
}

export type Mapped =
  | { ok: true; key: string; record: Record<string, unknown> }
  | { ok: false; key: string | null; reason: string };

/** A config object's entries, listed once: mapping runs for every record of every page and webhook. */
const entriesCache = new WeakMap<object, [string, unknown][]>();
function entriesOf<T>(config: Record<string, T>): [string, T][] {
  let entries = entriesCache.get(config);
  if (!entries) {
    entries = Object.entries(config);
    entriesCache.set(config, entries);
  }
  return entries as [string, T][];
}

const canonicalEntriesCache = new WeakMap<object, [string, unknown, number][]>();
/**
 * A resource's fields in the order canonical JSON writes keys: a record mapped in this order needs no
 * key-sorted copy to be hashed and stored (content-hash.ts), which was a good part of a page's CPU.
 */
function canonicalEntriesOf<T>(config: Record<string, T>): [name: string, rule: T, specIndex: number][] {
  let entries = canonicalEntriesCache.get(config);
  if (!entries) {
    const names = Object.keys(config);
    entries = canonicalKeyOrder(names).map((k) => [k, config[k], names.indexOf(k)]);
    canonicalEntriesCache.set(config, entries);
  }
  return entries as [string, T, number][];
}

/** What computed fields may use besides the record: parent params, config, the run's window. */
export type MappingContext = TemplateVars;

/** The template names of a computed field: `record.<path>` from the record as sent, the rest from context. */
function computedVars(raw: Record<string, unknown>, context: MappingContext | undefined): TemplateVars {
  return (name) =>
    name.startsWith('record.') ? valueAtPath(raw, name.slice('record.'.length)) : context?.(name);
}

export function mapFields(
  fields: FieldsConfig | undefined,
  passthrough: boolean | undefined,
  raw: Record<string, unknown>,
  context?: MappingContext,
  options: FillOptions = {},
): { record: Record<string, unknown>; problems: string[] } {
  if (!fields) return { record: { ...raw }, problems: [] };
  const record: Record<string, unknown> = passthrough ? { ...raw } : {};
  // Problems are told in the spec's order of fields, whatever order the record is written in.
  const problems: [number, string][] = [];
  for (const [name, rule, at] of canonicalEntriesOf(fields)) {
    if (typeof rule === 'string') {
      record[name] = valueAtPath(raw, rule) ?? null;
      continue;
    }
    if ('const' in rule && rule.const !== undefined) {
      record[name] = rule.const;
      continue;
    }
    let value: unknown;
    if (rule.value !== undefined) {
      try {
        value = fillTemplate(rule.value, computedVars(raw, context), options);
      } catch (error) {
        if (!(error instanceof TemplateError)) throw error;
        problems.push([at, `${name}: ${error.message}`]);
        continue;
      }
    } else value = valueAtPath(raw, rule.from ?? name);
    if ((value === undefined || value === null) && rule.default !== undefined) value = rule.default;
    if (rule.type) {
      const c = coerce(value, rule.type, rule.format);
      if (!c.ok) {
        problems.push([at, `${name}: ${c.message}`]);
        continue;
      }
      value = c.value;
    }
    record[name] = value ?? null;
  }
  return {
    record,
    problems: problems.length === 0 ? [] : problems.sort((a, b) => a[0] - b[0]).map((p) => p[1]),
  };
}

/** A key value that can be stored: a scalar, not empty. */
const isKeyValue = (v: unknown) => v !== undefined && v !== null && v !== '' && typeof v !== 'object';

/** Key values as stored: one as text, several as a JSON array (unambiguous whatever they contain). */
const formatKey = (values: readonly unknown[], composite: boolean): string =>
  composite ? JSON.stringify(values) : String(values[0]);

/** The stored text of a key's values, or null when one cannot be stored. */
export function keyText(values: readonly unknown[], composite: boolean): string | null {
  return values.length > 0 && values.every(isKeyValue) ? formatKey(values, composite) : null;
}

/** The record's key: one field as text, or several as a JSON array. */
export function primaryKeyOf(
  record: Record<string, unknown>,
  key: string | string[],
): { key: string } | { missing: string } {
  const paths = Array.isArray(key) ? key : [key];
  const values = paths.map((p) => valueAtPath(record, p));
  const missing = paths.findIndex((_, i) => !isKeyValue(values[i]));
  // A key of one field is stored as text whether the spec wrote it as 'id' or ['id'].
  return missing === -1 ? { key: formatKey(values, paths.length > 1) } : { missing: paths[missing]! };
}

const TYPE_CHECK: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  timestamp: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  array: (v) => Array.isArray(v),
};

export function validateRecord(
  schema: RecordSchemaConfig | undefined,
  record: Record<string, unknown>,
): string[] {
  if (!schema) return [];
  const problems: string[] = [];
  for (const [field, rule] of entriesOf(schema)) {
    const v = record[field];
    if (v === undefined || v === null) {
      if (rule.required && v === undefined) problems.push(`${field}: required`);
      else if (!rule.nullable || (rule.required && v === null)) problems.push(`${field}: must not be null`);
      continue;
    }
    if (!TYPE_CHECK[rule.type]!(v))
      problems.push(`${field}: expected ${rule.type}, got ${JSON.stringify(v)}`);
  }
  return problems;
}

export function mapRecord(
  config: MappingConfig,
  raw: unknown,
  context?: MappingContext,
  options: FillOptions = {},
): Mapped {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      key: null,
      reason: `expected an object, got ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}`,
    };
  }
  const source = config.flatten
    ? flattenRecord(raw as Record<string, unknown>, config.flatten)
    : (raw as Record<string, unknown>);
  const { record: fielded, problems } = mapFields(
    config.fields,
    config.passthrough,
    source,
    context,
    options,
  );
  let record = fielded;
  if (config.map) {
    try {
      record = config.map(record);
    } catch (error) {
      problems.push(`map(): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (config.removeFields) record = removeFields(record, config.removeFields);
  const pk =
    config.primaryKey === undefined ? { key: contentHash(record) } : primaryKeyOf(record, config.primaryKey);
  const key = 'key' in pk ? pk.key : null;
  if ('missing' in pk) problems.push(`${pk.missing}: primary key is missing`);
  if (config.schema) problems.push(...validateRecord(config.schema, record));
  if (problems.length > 0 || key === null) return { ok: false, key, reason: problems.join('; ') };
  return { ok: true, key, record };
}
