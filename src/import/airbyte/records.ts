/**
 * Records: where they are (RecordSelector/DpathExtractor → `recordsPath`, decoders → `decoder`), which
 * are kept (RecordFilter conditions on the record → `filter`), how they change (AddFields with constants
 * or copies of record fields → `fields` with `passthrough`, DpathFlattenFields → `flatten`), and what
 * identifies them (primary_key → `primaryKey`).
 */
import type { RecordCondition } from '../../mapping/schema.js';
import { issue, literalName, pathOf, typeOf, type StreamContext } from './context.js';
import { accessPath, isInterpolated, show, type Node } from './jinja.js';
import { isObject, type Json } from './manifest.js';
import { soleExpression } from './pagination.js';
import { translateTemplate } from './expressions.js';
import { DEFAULT_CONSTRUCTS } from './target.js';
import { formatPath } from '../../json/path.js';

type Condition = Omit<RecordCondition, 'not'> & { not?: boolean };

export interface RecordsOut {
  recordsPath: string;
  decoder?: Record<string, string>;
  filter?: Condition[];
  fields?: Record<string, unknown>;
  flatten?: string[];
  removeFields?: string[];
}

/** The extractor's field_path as a dot path; undefined (reported) when it has no equivalent. */
function recordsPathOf(selector: Json | undefined, ctx: StreamContext): string | undefined {
  if (!isObject(selector)) return '';
  const extractor = selector.extractor;
  const at = pathOf(ctx, extractor, 'retriever.record_selector.extractor');
  if (!isObject(extractor)) return '';
  if (extractor.type !== 'DpathExtractor') {
    const custom = typeof extractor.class_name === 'string' ? extractor.class_name : undefined;
    issue(
      ctx,
      at,
      typeOf(extractor),
      'data',
      custom !== undefined
        ? `custom Python code (${custom}) cannot be translated, and Syncwright runs no provider code: the stream is left out`
        : 'this extractor has no equivalent: the stream is left out',
    );
    return undefined;
  }
  const path = Array.isArray(extractor.field_path) ? extractor.field_path : [];
  const names = path.map((p) => literalName(p, ctx));
  if (names.some((n) => n === undefined)) {
    issue(
      ctx,
      `${at}.field_path`,
      'DpathExtractor',
      'data',
      'a path segment is not a literal: the stream is left out',
    );
    return undefined;
  }
  if (names.includes('*') && !(ctx.scope.constructs ?? DEFAULT_CONSTRUCTS).wildcardPaths) {
    issue(
      ctx,
      `${at}.field_path`,
      'DpathExtractor',
      'data',
      'wildcard (*) paths have no equivalent yet: the stream is left out',
    );
    return undefined;
  }
  if (isObject(extractor.record_expander))
    issue(ctx, `${at}.record_expander`, 'RecordExpander', 'data', 'record expansion has no equivalent');
  // A key with a dot of its own is quoted (`['invoice.line_items']`); "*" is dpath's wildcard.
  return formatPath(names.map((n) => (n === '*' ? '*' : { key: n! })));
}

/** Keys read by an expression as a dot path (a key with dots of its own quoted). */
function keyPath(keys: readonly string[]): string {
  return formatPath(keys.map((key) => ({ key })));
}

/** One `record.x …` comparison as a filter condition. */
function condition(node: Node): Condition[] | undefined {
  if (node.k === 'bin' && node.op === 'and') {
    const a = condition(node.left);
    const b = condition(node.right);
    return a && b ? [...a, ...b] : undefined;
  }
  const recordPath = (n: Node) => {
    const p = accessPath(n);
    return p && p.root === 'record' && p.path.length > 0 ? keyPath(p.path) : undefined;
  };
  const scalar = (n: Node) =>
    n.k === 'lit'
      ? n.value
      : n.k === 'unary' && n.op === '-' && n.arg.k === 'lit' && typeof n.arg.value === 'number'
        ? -n.arg.value
        : undefined;
  if (node.k === 'unary' && node.op === 'not') {
    const inner = condition(node.arg);
    return inner && inner.length === 1 ? [{ ...inner[0]!, not: !inner[0]!.not }] : undefined;
  }
  if (node.k === 'bin' && (node.op === '==' || node.op === '!=')) {
    const [p, v] = recordPath(node.left)
      ? [recordPath(node.left), scalar(node.right)]
      : [recordPath(node.right), scalar(node.left)];
    if (!p || v === undefined) return undefined;
    if (v === null) return [{ path: p, exists: node.op === '!=' }];
    return [{ path: p, equals: v, not: node.op === '!=' }];
  }
  if (node.k === 'bin' && (node.op === 'in' || node.op === 'not in')) {
    const p = recordPath(node.left);
    if (!p || node.right.k !== 'list') return undefined;
    const values = node.right.items.map(scalar);
    if (values.some((v) => v === undefined)) return undefined;
    return [{ path: p, in: values as (string | number | boolean | null)[], not: node.op === 'not in' }];
  }
  if (node.k === 'test' && node.name === 'none') {
    const p = recordPath(node.value);
    return p ? [{ path: p, exists: node.negated }] : undefined;
  }
  return undefined;
}

/** `record.x >= stream_interval.start_time` (or stream_slice, `>`): the field `x`, else undefined. */
function windowFloorField(node: Node): string | undefined {
  if (node.k !== 'bin' || (node.op !== '>=' && node.op !== '>')) return undefined;
  const left = accessPath(node.left);
  const right = accessPath(node.right);
  if (left?.root !== 'record' || left.path.length !== 1) return undefined;
  if (right?.root !== 'stream_interval' && right?.root !== 'stream_slice') return undefined;
  return right.path.length === 1 && right.path[0] === 'start_time' ? left.path[0] : undefined;
}

function recordFilter(selector: Json | undefined, ctx: StreamContext): Condition[] | undefined {
  if (!isObject(selector) || !isObject(selector.record_filter)) return undefined;
  const rf = selector.record_filter;
  const at = pathOf(ctx, rf, 'retriever.record_selector.record_filter');
  if (rf.type !== 'RecordFilter') {
    issue(ctx, at, typeOf(rf), 'differs', 'this filter has no equivalent: records it would skip are kept');
    return undefined;
  }
  if (typeof rf.condition !== 'string' || rf.condition.trim() === '') return undefined;
  const node = soleExpression(rf.condition);
  const conds = node && condition(node);
  const field = node && windowFloorField(node);
  if (!conds && field !== undefined) {
    // Decided with the cursor (incremental.ts): client-side incremental when it is the cursor field.
    ctx.windowFilter = { field, path: `${at}.condition`, condition: rf.condition };
    return undefined;
  }
  if (!conds) {
    const mentionsWindow = /stream_(interval|slice|state)/.test(rf.condition);
    issue(
      ctx,
      `${at}.condition`,
      'RecordFilter',
      mentionsWindow ? 'incremental' : 'differs',
      mentionsWindow
        ? `"${rf.condition}" filters on the incremental window (client-side incremental), which has no equivalent yet: records outside it are kept`
        : `"${rf.condition}" has no equivalent (conditions on record fields: ==, !=, in, is none, and, not): records it would skip are kept`,
    );
    return undefined;
  }
  return conds;
}

function decoderOf(
  requester: Json | undefined,
  retriever: Json | undefined,
  ctx: StreamContext,
): Record<string, string> | undefined | false {
  const decoder = (isObject(retriever) && retriever.decoder) || (isObject(requester) && requester.decoder);
  if (!isObject(decoder)) return undefined;
  const at = pathOf(ctx, decoder, 'retriever.decoder');
  const inner = decoder.type === 'GzipDecoder' && isObject(decoder.decoder) ? decoder.decoder : decoder;
  const compression: Record<string, string> = decoder.type === 'GzipDecoder' ? { compression: 'gzip' } : {};
  switch (inner.type) {
    case 'JsonDecoder':
      return Object.keys(compression).length ? { format: 'json', ...compression } : undefined;
    case 'JsonlDecoder':
      return { format: 'jsonl', ...compression };
    case 'CsvDecoder':
      if (typeof inner.delimiter === 'string' && inner.delimiter !== ',')
        return { format: 'csv', delimiter: inner.delimiter.replace(/\\t/, '\t'), ...compression };
      return { format: 'csv', ...compression };
    default:
      issue(ctx, at, typeOf(decoder), 'data', 'this decoder has no equivalent: the stream is left out');
      return false;
  }
}

/** Whether a removed pointer (with `*` segments) reaches a dot path or something under it. */
function reaches(pointer: readonly string[], path: readonly string[]): boolean {
  return pointer.length <= path.length && pointer.every((seg, i) => seg === '*' || seg === path[i]);
}

/** The record paths an added field reads (its copy source, or `{record.x}` in its template). */
function readsOf(rule: unknown): string[][] {
  if (typeof rule === 'string') return [rule.split('.')];
  if (!isObject(rule)) return [];
  if (typeof rule.from === 'string') return [rule.from.split('.')];
  if (typeof rule.value !== 'string') return [];
  return [...rule.value.matchAll(/\{record\.([^}|]+)/g)].map((m) => m[1]!.split('.'));
}

type Transformed = Pick<RecordsOut, 'fields' | 'flatten' | 'removeFields'>;

/**
 * RemoveFields without a condition: its pointers as `removeFields` paths, applied to the stored record
 * after the added fields. A pointer whose last segment is a list index or a glob keeps the field.
 */
function removal(
  t: Record<string, Json>,
  at: string,
  ctx: StreamContext,
  out: Transformed,
  removed: string[][],
) {
  if (typeof t.condition === 'string' && t.condition.trim() !== '') {
    issue(
      ctx,
      `${at}.condition`,
      'RemoveFields',
      'differs',
      'conditional removal has no equivalent: the fields are kept',
    );
    return;
  }
  const pointers = Array.isArray(t.field_pointers) ? t.field_pointers : [];
  pointers.forEach((p, j) => {
    const segs = Array.isArray(p)
      ? p.map((s) => (typeof s === 'number' ? String(s) : literalName(s, ctx)))
      : [];
    const last = segs.at(-1);
    if (
      segs.length === 0 ||
      segs.some((s) => s === undefined || s === '' || s.includes('.') || (s !== '*' && /[*?[\]]/.test(s))) ||
      last === '*' ||
      /^\d+$/.test(last ?? '')
    ) {
      issue(
        ctx,
        `${at}.field_pointers.${j}`,
        'RemoveFields',
        'differs',
        'this pointer (a list item, a glob or an interpolated segment) has no equivalent: the field is kept',
      );
      return;
    }
    (out.removeFields ??= []).push(segs.join('.'));
    removed.push(segs as string[]);
  });
}

/** AddFields, RemoveFields and flattening; fields map output name → rule. */
function transformations(list: Json | undefined, ctx: StreamContext): Transformed {
  const out: Transformed = {};
  if (!Array.isArray(list)) return out;
  // Pointers removed so far: Syncwright removes after every added field, Airbyte in order.
  const removed: string[][] = [];
  list.forEach((t, i) => {
    const at = pathOf(ctx, t, `transformations.${i}`);
    if (!isObject(t)) return;
    switch (t.type) {
      case 'AddFields': {
        if (typeof t.condition === 'string' && t.condition.trim() !== '') {
          issue(
            ctx,
            `${at}.condition`,
            'AddFields',
            'data',
            'conditional fields have no equivalent: the fields are not added',
          );
          return;
        }
        const fields = Array.isArray(t.fields) ? t.fields : [];
        fields.forEach((f, j) => {
          const fAt = pathOf(ctx, f, `transformations.${i}.fields.${j}`);
          if (!isObject(f)) return;
          const path = Array.isArray(f.path) ? f.path.map((p) => literalName(p, ctx)) : [];
          if (path.length !== 1 || path[0] === undefined) {
            issue(
              ctx,
              `${fAt}.path`,
              'AddedFieldDefinition',
              'data',
              'a nested or interpolated target path has no equivalent: the field is not added',
            );
            return;
          }
          const type =
            typeof f.value_type === 'string'
              ? (
                  { string: 'string', number: 'number', integer: 'integer', boolean: 'boolean' } as Record<
                    string,
                    string
                  >
                )[f.value_type]
              : undefined;
          const found = addedField(f.value, ctx);
          const rule = 'unset' in found ? { const: found.const } : found;
          if ('fail' in rule) {
            issue(
              ctx,
              `${fAt}.value`,
              'AddedFieldDefinition',
              'data',
              `${rule.fail}: the field "${path[0]}" is not added`,
            );
            return;
          }
          if ('unset' in found && found.unset !== undefined) {
            if (ctx.primaryKeyRoots?.includes(path[0])) {
              issue(
                ctx,
                `${fAt}.value`,
                'AddedFieldDefinition',
                'data',
                `${found.unset} is never set in this stream's slices, so "${path[0]}" is null, and it is part of the primary key: the field is not added`,
              );
              return;
            }
            issue(
              ctx,
              `${fAt}.value`,
              'AddedFieldDefinition',
              'note',
              `${found.unset} is never set in this stream's slices: "${path[0]}" is null, as Airbyte adds it`,
            );
          }
          if ('value' in rule && /\|hash:/.test(rule.value))
            issue(
              ctx,
              `${fAt}.value`,
              'AddedFieldDefinition',
              'differs',
              `a record without the hashed value gets null in "${path[0]}", where Airbyte stores the hash of the text "None" (null) or "" (absent)`,
            );
          const field = type ? { ...rule, type } : 'from' in rule && !type ? rule.from : rule;
          if (removed.some((r) => r[0] === '*' || r[0] === path[0])) {
            issue(
              ctx,
              `${fAt}.path`,
              'AddedFieldDefinition',
              'data',
              `"${path[0]}" is added after a RemoveFields that would remove it here (removal comes after every added field): the field is not added`,
            );
            return;
          }
          if (readsOf(field).some((r) => removed.some((p) => reaches(p, r))))
            issue(
              ctx,
              `${fAt}.value`,
              'AddedFieldDefinition',
              'differs',
              `"${path[0]}" reads a field an earlier RemoveFields removed: Syncwright reads the record as sent`,
            );
          out.fields ??= {};
          out.fields[path[0]] = field;
        });
        return;
      }
      case 'RemoveFields':
        removal(t, at, ctx, out, removed);
        return;
      case 'DpathFlattenFields': {
        if (removed.length > 0)
          issue(
            ctx,
            at,
            'DpathFlattenFields',
            'differs',
            'flattening after a RemoveFields: Syncwright flattens the record as sent, before any removal',
          );
        const path = Array.isArray(t.field_path) ? t.field_path.map((p) => literalName(p, ctx)) : [];
        if (path.length === 0 || path.some((p) => p === undefined || p === '*')) {
          issue(
            ctx,
            at,
            'DpathFlattenFields',
            'data',
            'the path has no equivalent: fields are not flattened',
          );
          return;
        }
        (out.flatten ??= []).push(path.join('.'));
        if (t.delete_origin_value !== true)
          issue(
            ctx,
            at,
            'DpathFlattenFields',
            'differs',
            'the nested object is moved to the top rather than copied',
          );
        if (t.replace_record === true)
          issue(ctx, at, 'DpathFlattenFields', 'differs', 'the other fields are kept (replace_record)');
        return;
      }
      default:
        issue(
          ctx,
          at,
          typeOf(t),
          'data',
          'this transformation has no equivalent: records are stored without it',
        );
    }
  });
  return out;
}

/** An added field's value: a constant, or a copy of a record field. */
function addedField(
  value: Json | undefined,
  ctx: StreamContext,
): { const: Json; unset?: string } | { from: string } | { value: string } | { fail: string } {
  const simple = simpleAddedField(value, ctx);
  if (
    !('fail' in simple) ||
    !(ctx.scope.constructs ?? DEFAULT_CONSTRUCTS).computedFields ||
    typeof value !== 'string'
  )
    return simple;
  // A computed field: a template over the record, the parent, the window and now.
  const t = translateTemplate(value, { ...ctx.scope, record: true });
  return t.ok ? { value: t.text } : { fail: t.reason };
}

const SLICE_ROOTS = new Set(['stream_partition', 'stream_slice', 'stream_interval']);

/** A slice key no router or cursor of the stream sets (`stream_partition.id` where the field is `user_id`). */
function neverSet(path: string[], ctx: StreamContext): boolean {
  const key = path[0];
  return (
    ctx.sliceKeysKnown === true &&
    key !== undefined &&
    key !== 'parent_slice' &&
    key !== 'extra_fields' &&
    !(key in ctx.scope.partition)
  );
}

function simpleAddedField(
  value: Json | undefined,
  ctx: StreamContext,
): { const: Json; unset?: string } | { from: string } | { fail: string } {
  if (!isInterpolated(value)) return { const: value ?? null };
  const node = soleExpression(value);
  if (!node) return { fail: `${JSON.stringify(value)} has no equivalent` };
  let n = node;
  while (n.k === 'filter' && ['string', 'int', 'float'].includes(n.name)) n = n.value;
  if (n.k === 'lit') return { const: n.value };
  const p = accessPath(n);
  if (p?.root === 'record' && p.path.length > 0) return { from: keyPath(p.path) };
  if (p?.root === 'parameters') {
    let v: Json | undefined = ctx.scope.parameters;
    for (const k of p.path) v = isObject(v) ? v[k] : undefined;
    if (v !== undefined) return { const: v };
  }
  if (p && SLICE_ROOTS.has(p.root) && neverSet(p.path, ctx)) return { const: null, unset: show(node) };
  if (p && ['stream_partition', 'stream_slice'].includes(p.root))
    return { fail: `"${show(node)}" is a parent or partition value, which has no equivalent in fields yet` };
  if (p && ['stream_interval'].includes(p.root))
    return { fail: `"${show(node)}" is a window bound, which has no equivalent in fields yet` };
  return { fail: `"${show(node)}" is computed, which has no equivalent in fields yet` };
}

/** primary_key as a dot path or list; undefined when the stream has none. */
export function primaryKeyOf(value: Json | undefined, ctx: StreamContext): string | string[] | undefined {
  const one = (v: Json): string | undefined =>
    typeof v === 'string'
      ? literalName(v, ctx)
      : Array.isArray(v) && v.every((x) => typeof x === 'string')
        ? v.join('.')
        : undefined;
  if (typeof value === 'string') return value === '' ? undefined : one(value);
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const keys = value.map(one);
  if (keys.some((k) => k === undefined || k === '')) return undefined;
  return keys.length === 1 ? keys[0] : (keys as string[]);
}

export function translateRecords(
  retriever: Json | undefined,
  ctx: StreamContext,
  transformationList: Json | undefined,
): RecordsOut | undefined {
  const selector = isObject(retriever) ? retriever.record_selector : undefined;
  const recordsPath = recordsPathOf(selector, ctx);
  if (recordsPath === undefined) return undefined;
  const decoder = decoderOf(isObject(retriever) ? retriever.requester : undefined, retriever, ctx);
  if (decoder === false) return undefined;
  if (isObject(selector) && isObject(selector.schema_normalization))
    issue(
      ctx,
      pathOf(ctx, selector, 'retriever.record_selector', 'schema_normalization'),
      'schema_normalization',
      'differs',
      'values are stored as sent, not normalised to the schema',
    );
  const filter = recordFilter(selector, ctx);
  const t = transformations(transformationList, ctx);
  return {
    recordsPath,
    ...(decoder ? { decoder } : {}),
    ...(filter ? { filter } : {}),
    ...t,
  };
}
