/**
 * Reading an Airbyte declarative manifest the way the Airbyte CDK does before it builds components:
 * references (`$ref: "#/definitions/x"` merged under the keys written beside it, and bare `"#/x/y"`
 * strings) are resolved, components without a `type` get the type their place implies, and
 * `$parameters` flow down to every component below, filling fields left empty (`name`, `path`,
 * `primary_key`, …) and the `parameters` of interpolation. Pure: text in, a plain tree out.
 */
import { parseDocument } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Component = { [key: string]: Json };

export class ManifestError extends Error {
  override name = 'ManifestError';
}

export function isObject(v: unknown): v is Component {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parses the YAML text; a syntax error names its line. */
export function parseManifestText(text: string): Component {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new ManifestError(
      `${pos ? `line ${pos.line}, column ${pos.col}` : 'YAML'}: ${e.message.split('\n')[0]}`,
    );
  }
  const value = doc.toJS({ maxAliasCount: -1 }) as unknown;
  if (!isObject(value)) throw new ManifestError('expected a mapping at the top of the manifest');
  return value;
}

const REF = '$ref';

function lookup(root: Component, ref: string): Json {
  const m = /^#\/(.*)$/.exec(ref);
  if (!m) throw new ManifestError(`invalid reference "${ref}" (expected "#/path/to/value")`);
  // Keys may themselves hold "/": try the longest key first at each level, as the CDK does.
  const parts = m[1]!.split('/');
  let node: Json = root;
  let i = 0;
  while (i < parts.length) {
    if (!isObject(node) && !Array.isArray(node)) throw new ManifestError(`reference "${ref}" not found`);
    let found = false;
    for (let j = parts.length; j > i; j--) {
      const key = parts.slice(i, j).join('/');
      const next: Json | undefined = Array.isArray(node)
        ? node[Number(key)]
        : Object.hasOwn(node, key)
          ? node[key]
          : undefined;
      if (next !== undefined) {
        node = next;
        i = j;
        found = true;
        break;
      }
    }
    if (!found) throw new ManifestError(`reference "${ref}" not found`);
  }
  return node;
}

/** Where each resolved object was written in the manifest (a dot path), for reports. */
const origins = new WeakMap<object, string>();

/** The manifest path a resolved component was written at, e.g. `definitions.streams.users.retriever`. */
export function originOf(c: object): string | undefined {
  return origins.get(c);
}

function join(at: string, key: string | number): string {
  return at ? `${at}.${key}` : String(key);
}

/**
 * Resolves every reference; the keys beside a `$ref` win over the referenced ones (shallow). Each object
 * remembers where it was written: a referenced definition reports at the definition.
 */
export function resolveRefs(root: Component): Component {
  const visiting = new Set<string>();
  const walk = (node: Json, at: string): Json => {
    if (Array.isArray(node)) {
      const list = node.map((v, i) => walk(v, join(at, i)));
      origins.set(list, at);
      return list;
    }
    if (typeof node === 'string' && node.startsWith('#/')) return follow(node);
    if (!isObject(node)) return node;
    const own: Component = {};
    for (const [k, v] of Object.entries(node)) if (k !== REF) own[k] = walk(v, join(at, k));
    if (typeof node[REF] !== 'string') {
      origins.set(own, at);
      return own;
    }
    const target = follow(node[REF]);
    if (!isObject(target)) return target;
    const merged = { ...target, ...own };
    origins.set(merged, at);
    return merged;
  };
  const follow = (ref: string): Json => {
    if (visiting.has(ref)) throw new ManifestError(`circular reference "${ref}"`);
    visiting.add(ref);
    try {
      return walk(lookup(root, ref), ref.slice(2).split('/').join('.'));
    } finally {
      visiting.delete(ref);
    }
  };
  return walk(root, '') as Component;
}

/** The component type a field implies when none is written ("<parent type>.<field>" → type). */
const DEFAULT_TYPES: Record<string, string> = {
  'DeclarativeSource.streams': 'DeclarativeStream',
  'DeclarativeStream.retriever': 'SimpleRetriever',
  'SimpleRetriever.requester': 'HttpRequester',
  'SimpleRetriever.record_selector': 'RecordSelector',
  'SimpleRetriever.paginator': 'NoPagination',
  'RecordSelector.extractor': 'DpathExtractor',
  'RecordSelector.record_filter': 'RecordFilter',
  'HttpRequester.error_handler': 'DefaultErrorHandler',
  'DefaultErrorHandler.response_filters': 'HttpResponseFilter',
  'CompositeErrorHandler.error_handlers': 'DefaultErrorHandler',
  'DefaultPaginator.page_size_option': 'RequestOption',
  'DatetimeBasedCursor.start_datetime': 'MinMaxDatetime',
  'DatetimeBasedCursor.end_datetime': 'MinMaxDatetime',
  'DatetimeBasedCursor.start_time_option': 'RequestOption',
  'DatetimeBasedCursor.end_time_option': 'RequestOption',
  'SubstreamPartitionRouter.parent_stream_configs': 'ParentStreamConfig',
  'ParentStreamConfig.stream': 'DeclarativeStream',
  'ParentStreamConfig.request_option': 'RequestOption',
  'ListPartitionRouter.request_option': 'RequestOption',
  'AddFields.fields': 'AddedFieldDefinition',
};

const PARAMS = '$parameters';

/** JSON schemas (inline stream schemas) are data, not components: parameters stop there. */
function isJsonSchema(c: Component): boolean {
  return c.type === 'object' || (Array.isArray(c.type) && c.type.includes('object'));
}

/**
 * Gives every component its implied type and its parameters: a component's own `$parameters` win over
 * its parents', and a field the component leaves empty takes the parameter of the same name.
 */
export function propagate(node: Component, field: string, inherited: Component): Component {
  const out: Component = { ...node };
  const at = origins.get(node);
  if (at !== undefined) origins.set(out, at);
  if (out.type === undefined && !('class_name' in out) && DEFAULT_TYPES[field])
    out.type = DEFAULT_TYPES[field];
  const own = isObject(out[PARAMS]) ? out[PARAMS] : {};
  delete out[PARAMS];
  const params: Component = { ...inherited, ...own };
  if (isJsonSchema(out)) return out;
  if (typeof out.type !== 'string') {
    // A plain mapping (request_parameters …): typed components inside it still get parameters.
    for (const [k, v] of Object.entries(out))
      if (isObject(v) && typeof v.type === 'string') out[k] = propagate(v, field, params);
    return out;
  }
  for (const [k, v] of Object.entries(params)) {
    const current = out[k];
    if (current === undefined || current === null || current === '' || current === false) out[k] = v;
  }
  for (const [k, v] of Object.entries(out)) {
    // A parameter named like the field it would descend into is not passed into it (no cycles).
    const below = { ...params };
    delete below[k];
    const id = `${out.type}.${k}`;
    if (isObject(v) && k !== 'schema' && k !== 'schema_loader') out[k] = propagate(v, id, below);
    else if (Array.isArray(v))
      out[k] = v.map((e) => (isObject(e) && k !== 'schema' ? propagate(e, id, below) : e));
  }
  if (Object.keys(params).length > 0) out[PARAMS] = params;
  return out;
}

export interface Manifest {
  /** The manifest with references resolved and parameters propagated. */
  root: Component;
  /** The streams to sync, in manifest order. */
  streams: Component[];
}

/** Loads a manifest's text into resolved streams. */
export function loadManifest(text: string): Manifest {
  const root = resolveRefs(parseManifestText(text));
  const list = root.streams;
  if (!Array.isArray(list)) throw new ManifestError('streams: expected a list of streams');
  const streams = list.map((s, i) => {
    if (!isObject(s)) throw new ManifestError(`streams.${i}: expected a stream mapping`);
    return propagate(s, 'DeclarativeSource.streams', {});
  });
  return { root, streams };
}

/** The parameters a component saw (for `{{ parameters.x }}`). */
export function parametersOf(c: Component): Component {
  return isObject(c[PARAMS]) ? c[PARAMS] : {};
}
