/**
 * One DeclarativeStream as one Syncwright resource: its SimpleRetriever's HttpRequester (url, method,
 * parameters, headers, JSON body), paginator, record selector, partition router (a parent stream, or a
 * one-value list), incremental cursor, transformations, error handler and primary key.
 */
import { finishAuth, translateAuth, type AuthOut, type AuthResult } from './auth.js';
import { loginUrlProblem } from '../../http/auth/extra-checks.js';
import { pathSecretProblem } from '../../http/path-secrets.js';
import type { ConfigFields } from './config-fields.js';
import {
  inject,
  issue,
  literalName,
  pathOf,
  typeOf,
  type RequestParts,
  type StreamContext,
} from './context.js';
import { translateErrorHandler, type RuleOut } from './error-rules.js';
import { translateTemplate, translateValue, type Scope } from './expressions.js';
import { prepareIncremental } from './incremental.js';
import { isObject, originOf, parametersOf, type Component, type Json } from './manifest.js';
import { accessPath, isInterpolated } from './jinja.js';
import { soleExpression, translatePaginator } from './pagination.js';
import { primaryKeyOf, translateRecords } from './records.js';
import { splitUrl } from './urls.js';
import type { Report } from './report.js';
import { DEFAULT_CONSTRUCTS, type Constructs } from './target.js';

export interface ResourceOut {
  request: {
    method?: string;
    path: string;
    query?: Record<string, unknown>;
    headers?: Record<string, string>;
    body?: Json;
    bodyFormat?: 'form';
  };
  recordsPath: string;
  primaryKey?: string | string[];
  [key: string]: unknown;
}

export interface StreamOut {
  name: string;
  /** Where the stream was written in the manifest. */
  path: string;
  /** The url_base as a Syncwright template (host placeholders declared). */
  urlBase: string;
  resource: ResourceOut;
  auth: AuthResult;
  /** Manifest path of the authenticator (for reports). */
  authPath: string;
  /** The parent stream component, when the resource is a child. */
  parent?: { stream: Component; name: string } | undefined;
  /** Every parent stream of a product of parents (`parent.product`), in the order of its resource items. */
  parents?: { stream: Component; name: string }[] | undefined;
  maxAttempts?: number | undefined;
  initialIntervalMs?: number | undefined;
}

/** A Syncwright resource name for an Airbyte stream name. */
export function resourceName(name: string): string {
  const slug = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/_+$/, '');
  return slug || 'stream';
}

/** Joins url_base and path the way Airbyte does: exactly one "/" between them. */
function joinUrl(base: string, path: string): string {
  if (/^https?:\/\//.test(path)) return path;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export function streamName(stream: Component, index: number): string {
  return typeof stream.name === 'string' && stream.name !== '' ? stream.name : `stream_${index}`;
}

/** Translates one stream; undefined (with the reasons reported) when the stream cannot be imported at all. */
export function translateStream(
  stream: Component,
  index: number,
  report: Report,
  config: ConfigFields,
  constructs: Constructs = DEFAULT_CONSTRUCTS,
): StreamOut | undefined {
  const name = streamName(stream, index);
  const streamPath = originOf(stream) ?? `streams.${index}`;
  // A stream's name is one of its parameters (`parameters.name`) unless $parameters names it otherwise.
  const parameters =
    typeof stream.name === 'string' ? { name: stream.name, ...parametersOf(stream) } : parametersOf(stream);
  const scope: Scope = { config, parameters, partition: {}, constructs };
  const request: RequestParts = { query: {}, headers: {} };
  const ctx: StreamContext = { report, config, scope, stream: name, streamPath, request };
  let parentParams: Record<string, string> = {};
  const secretPlacements: { in: 'query' | 'header'; name: string; template: string }[] = [];
  const leftOut = (path: string, component: string, message: string): undefined => {
    issue(ctx, path, component, 'data', `${message}: the stream is left out`);
    return undefined;
  };

  /** One ParentStreamConfig: the parent, its fields as `{parent.x}`; a reason when it cannot be. */
  const parentConfig = (
    pc: Json,
    ci: number,
  ): { path: string; component: string; message: string } | undefined => {
    const pcAt = pathOf(ctx, pc, `retriever.partition_router.parent_stream_configs.${ci}`);
    if (!isObject(pc) || !isObject(pc.stream))
      return { path: pcAt, component: 'ParentStreamConfig', message: 'no parent stream' };
    const parentKey = literalName(pc.parent_key, ctx);
    const field = literalName(pc.partition_field, ctx);
    if (!parentKey || !field)
      return {
        path: pcAt,
        component: 'ParentStreamConfig',
        message: 'parent_key and partition_field must be literal',
      };
    if (!/^[A-Za-z_][\w-]*$/.test(field))
      return {
        path: `${pcAt}.partition_field`,
        component: 'ParentStreamConfig',
        message: `"${field}" cannot be a placeholder name`,
      };
    scope.partition[field] = { placeholder: `parent.${field}`, parentKey };
    parent = { stream: pc.stream, name: streamName(pc.stream, -1) };
    parentParams = { ...parentParams, [field]: parentKey };
    if (isObject(pc.request_option)) {
      const why = inject(pc.request_option, `{parent.${field}}`, ctx);
      if (why)
        return {
          path: pathOf(ctx, pc.request_option, `${pcAt}.request_option`),
          component: 'RequestOption',
          message: why,
        };
    }
    // Reported once the child's own cursor is known (below).
    if (pc.incremental_dependency === true)
      (ctx.incrementalDependencies ??= []).push({
        path: `${pcAt}.incremental_dependency`,
        parentIncremental: isObject(pc.stream.incremental_sync),
      });
    if (Array.isArray(pc.extra_fields) && pc.extra_fields.length > 0)
      issue(
        ctx,
        `${pcAt}.extra_fields`,
        'ParentStreamConfig',
        'data',
        'parent fields copied into child records have no equivalent yet',
      );
    return undefined;
  };
  let parent: StreamOut['parent'];
  /** Listed partition values: one value is a constant; several are runs (`parent.values`). */
  let listValues: Record<string, (string | number | boolean)[] | string> | undefined;
  const listPartition = (
    list: Component,
    ri: number,
  ): { path: string; component: string; message: string } | undefined => {
    const at = pathOf(
      ctx,
      list,
      routers.length > 1 ? `retriever.partition_router.${ri}` : 'retriever.partition_router',
    );
    const values = Array.isArray(list.values) ? list.values : undefined;
    const field = literalName(list.cursor_field, ctx);
    // `{{ config['urls'] }}`: the connection's own list (a list config field).
    const fromConfig = typeof list.values === 'string' ? soleExpression(list.values) : undefined;
    const access = fromConfig ? accessPath(fromConfig) : undefined;
    if (!values && !(access?.root === 'config' && access.path.length > 0 && !config.isSecret(access.path)))
      return {
        path: `${at}.values`,
        component: 'ListPartitionRouter',
        message: 'the values are neither a list nor one config value',
      };
    if (!field || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(field))
      return {
        path: `${at}.cursor_field`,
        component: 'ListPartitionRouter',
        message: 'cursor_field is not a placeholder name',
      };
    if (!values) {
      scope.partition[field] = { placeholder: `parent.${field}` };
      (listValues ??= {})[field] = `{config.${config.use(access!.path, 'list')}}`;
      if (isObject(list.request_option)) {
        const why = inject(list.request_option, `{parent.${field}}`, ctx);
        if (why) return { path: `${at}.request_option`, component: 'RequestOption', message: why };
      }
      return undefined;
    }
    if (
      values.length === 0 ||
      values.some(
        (v) =>
          !(
            typeof v === 'number' ||
            typeof v === 'boolean' ||
            (typeof v === 'string' && v !== '' && !isInterpolated(v))
          ),
      )
    )
      return {
        path: `${at}.values`,
        component: 'ListPartitionRouter',
        message: 'the values are not literal scalars',
      };
    const scalars = values as (string | number | boolean)[];
    const one = scalars.length === 1 && routers.length === 1;
    const template = one ? String(scalars[0]) : `{parent.${field}}`;
    scope.partition[field] = one ? { literal: template } : { placeholder: `parent.${field}` };
    if (!one) (listValues ??= {})[field] = scalars;
    if (isObject(list.request_option)) {
      const why = inject(list.request_option, template, ctx);
      if (why) return { path: `${at}.request_option`, component: 'RequestOption', message: why };
    }
    return undefined;
  };

  if (stream.type !== 'DeclarativeStream')
    return leftOut(streamPath, typeOf(stream), 'this stream type has no equivalent');
  const retriever = stream.retriever;
  const rAt = pathOf(ctx, retriever, 'retriever');
  if (!isObject(retriever) || retriever.type !== 'SimpleRetriever')
    return leftOut(rAt, typeOf(retriever), 'this retriever has no equivalent');
  const requester = retriever.requester;
  const qAt = pathOf(ctx, requester, 'retriever.requester');
  if (!isObject(requester) || requester.type !== 'HttpRequester')
    return leftOut(qAt, typeOf(requester), 'this requester has no equivalent');

  // Partitions first: the requester's templates refer to them.
  const router = retriever.partition_router;
  const routers = mergeSameParent(Array.isArray(router) ? router : router ? [router] : []);
  const allLists = routers.every((r) => isObject(r) && r.type === 'ListPartitionRouter');
  // Several routers over different parents (and lists): Airbyte's cartesian product of their partitions.
  let product: Record<string, unknown>[] | undefined;
  const parents: { stream: Component; name: string }[] = [];
  if (routers.length > 1 && !allLists) {
    product = [];
    for (const [ri, r] of routers.entries()) {
      const rAt = pathOf(ctx, r, `retriever.partition_router.${ri}`);
      if (!isObject(r)) return leftOut(rAt, 'partition_router', 'not a component');
      if (r.type === 'ListPartitionRouter') {
        const why = listPartition(r, ri);
        if (why) return leftOut(why.path, why.component, why.message);
        product.push({ values: listValues });
        listValues = undefined;
        continue;
      }
      if (r.type !== 'SubstreamPartitionRouter')
        return leftOut(rAt, typeOf(r), 'this partition router has no equivalent');
      const configs = Array.isArray(r.parent_stream_configs) ? r.parent_stream_configs : [];
      const names = new Set(
        configs.map((c) => (isObject(c) && isObject(c.stream) ? streamName(c.stream, -1) : '')),
      );
      if (configs.length === 0 || names.size !== 1)
        return leftOut(
          `${rAt}.parent_stream_configs`,
          'SubstreamPartitionRouter',
          'only one parent stream is supported',
        );
      parentParams = {};
      for (const [ci, pc] of configs.entries()) {
        const why = parentConfig(pc, ci);
        if (why) return leftOut(why.path, why.component, why.message);
      }
      parents.push(parent!);
      product.push({ resource: resourceName(parent!.name), params: parentParams });
      parent = undefined;
    }
  }
  if (allLists)
    for (const [ri, list] of routers.entries()) {
      const why = listPartition(list as Component, ri);
      if (why) return leftOut(why.path, why.component, why.message);
    }
  const only = allLists || product ? undefined : routers[0];
  if (only !== undefined) {
    const pAt = pathOf(ctx, only, 'retriever.partition_router');
    if (!isObject(only)) return leftOut(pAt, 'partition_router', 'not a component');
    if (only.type === 'SubstreamPartitionRouter') {
      const configs = Array.isArray(only.parent_stream_configs) ? only.parent_stream_configs : [];
      const parentNames = new Set(
        configs.map((c) => (isObject(c) && isObject(c.stream) ? streamName(c.stream, -1) : '')),
      );
      if (configs.length === 0 || parentNames.size !== 1)
        return leftOut(
          `${pAt}.parent_stream_configs`,
          'SubstreamPartitionRouter',
          'only one parent stream is supported',
        );
      for (const [ci, pc] of configs.entries()) {
        const why = parentConfig(pc, ci);
        if (why) return leftOut(why.path, why.component, why.message);
      }
      scope.nestedParams = {};
    } else return leftOut(pAt, typeOf(only), 'this partition router has no equivalent');
  }

  // The keys of the stream's slices: its partition fields and, with a DatetimeBasedCursor, the
  // window's (another cursor's are not known).
  const cursor = stream.incremental_sync;
  const intervalKeys =
    cursor === undefined || cursor === null
      ? []
      : isObject(cursor) && cursor.type === 'DatetimeBasedCursor'
        ? ['start_time', 'end_time', cursor.partition_field_start, cursor.partition_field_end].filter(
            (k): k is string => typeof k === 'string',
          )
        : undefined;
  ctx.sliceKeysKnown = cursor === undefined || cursor === null;
  /** Notes the slice values rendered as empty text since the last call, at `at`. */
  const noteUnset = (
    at: string,
    what = 'it is empty text (or its default), as in Airbyte',
    effect: 'note' | 'differs' = 'note',
  ) => {
    for (const [unset, why] of scope.unsetSlices ?? [])
      issue(ctx, at, 'HttpRequester', effect, `"${unset}" ${why}: ${what}`);
    scope.unsetSlices?.clear();
  };
  /** Airbyte leaves out a parameter, header or form field whose value renders as empty text. */
  const EMPTY_LEFT_OUT = 'not sent, as Airbyte sends no empty value';
  const pk = stream.primary_key;
  ctx.primaryKeyRoots = (Array.isArray(pk) ? pk : [pk]).flatMap((k) =>
    typeof k === 'string' ? [k] : Array.isArray(k) && typeof k[0] === 'string' ? [k[0]] : [],
  );
  // The window's names first: added fields may place them too (`{{ stream_interval.end_time }}`). Its
  // issues are reported after the records' and the paginator's, and not for a stream left out.
  const mark = report.issues.length;
  const finishIncremental = prepareIncremental(stream.incremental_sync, ctx, JSON.stringify(requester));
  const incrementalIssues = report.issues.splice(mark);
  const records = translateRecords(retriever, ctx, stream.transformations);
  if (!records) return undefined;
  // From here on (the requests), a slice key outside them is empty text, as Airbyte renders it. Added
  // fields (above) have their own rule: null for a key never set, on streams without a cursor.
  if (intervalKeys) scope.sliceKeys = new Set([...Object.keys(scope.partition), ...intervalKeys]);
  scope.stateless = cursor === undefined || cursor === null;
  scope.unsetSlices = new Map();
  const pagination = translatePaginator(retriever.paginator, ctx, records.recordsPath);
  for (const i of incrementalIssues) report.add(i.path, i.component, i.effect, i.message, i.stream);

  // url_base + path: the origin's placeholders are host labels, the rest path segments.
  const base = typeof requester.url_base === 'string' ? requester.url_base : '';
  const pathValue = typeof requester.path === 'string' ? requester.path : '';
  const split = splitUrl(joinUrl(base, pathValue), scope);
  if (!split)
    return leftOut(
      `${qAt}.url_base`,
      'HttpRequester',
      `"${base}" is neither an http(s) URL with a literal scheme nor a config value then a path`,
    );
  const originT = split.translated
    ? { ok: true as const, text: split.origin }
    : translateTemplate(split.origin, scope, 'host');
  if (!originT.ok) return leftOut(`${qAt}.url_base`, 'HttpRequester', originT.reason);
  noteUnset(pathOf(ctx, retriever, 'retriever'));
  scope.secretsAsConfig = true;
  const pathT = translateTemplate(split.path, scope);
  scope.secretsAsConfig = false;
  if (
    pathT.ok &&
    (scope.unsetSlices?.size ?? 0) > 0 &&
    /^\/*$/.test(split.path.replace(/\{\{[^}]*\}\}/g, ''))
  )
    // Airbyte then requests the base URL too, but that is a slip in the manifest, not the provider's
    // endpoint for the stream: a copy of it is no exact import.
    noteUnset(
      `${qAt}.path`,
      'the path is empty, so the stream reads the base URL, as Airbyte does (most likely a slip in the manifest: the endpoint the stream means is unknown)',
      'differs',
    );
  noteUnset(`${qAt}.path`);
  const secretInPath = /\{\{[^}]*config/.test(split.path)
    ? [...split.path.matchAll(/config(?:\.|\[['"])([A-Za-z0-9_]+)/g)]
        .map((m) => m[1]!)
        .filter((n) => config.isSecret([n]))
    : [];
  // A secret written into the path's query is sent like a secret request parameter: by the auth,
  // sealed. Only one in the path proper stays plain config.
  const [rawPathOnly = ''] = split.path.split('?', 1);
  const secretInQuery = new Set(
    secretInPath.filter((n) => !new RegExp(`config(\\.|\\[['"])${n}\\b`).test(rawPathOnly)),
  );
  if (!pathT.ok) return leftOut(`${qAt}.path`, 'HttpRequester', pathT.reason);
  const urlBase = originT.text;
  // `{{ parameters.path }}` after a base ending in "/" may start with "//".
  const [pathOnly = '', queryText] = pathT.text.split('?', 2);
  let path = `/${pathOnly.replace(/^\/+/, '')}`;
  // A secret that is a whole segment of the path stays a secret: sealed, its value revealed only in
  // the request sent to the provider (src/http/path-secrets.ts). Inside a longer segment it cannot.
  for (const n of new Set(secretInPath.filter((x) => !secretInQuery.has(x)))) {
    const placeholder = `{config.${config.nameOf([n])}}`;
    const sealed = path.split(placeholder).join(`{secrets.${config.nameOf([n])}}`);
    const whole = sealed !== path && pathSecretProblem(sealed) === undefined;
    if (whole && config.seal([n]) !== undefined) {
      path = sealed;
      continue;
    }
    config.keepPlain([n]);
    issue(
      ctx,
      `${qAt}.path`,
      'HttpRequester',
      'differs',
      `config.${n} is marked secret but is part of a path segment: it is plain connection config here`,
    );
  }
  // A query written into the path becomes query templates.
  for (const [k, v] of new URLSearchParams(queryText ?? '')) {
    const secret = [...secretInQuery].find((n) => v === `{config.${config.nameOf([n])}}`);
    if (secret === undefined) {
      request.query[k] = v;
      continue;
    }
    secretPlacements.push({ in: 'query', name: k, template: `{secrets.${config.use([secret], 'secret')}}` });
  }
  if (/\{(cursor|page|offset|limit|since|window\.[a-z]+)(\|[^}]*)?\}/.test(path))
    return leftOut(
      `${qAt}.path`,
      'HttpRequester',
      'pagination or window values in the path have no equivalent',
    );

  const method = typeof requester.http_method === 'string' ? requester.http_method.toUpperCase() : 'GET';
  if (method !== 'GET' && method !== 'POST')
    return leftOut(`${qAt}.http_method`, 'HttpRequester', `${method} is not supported (GET and POST are)`);

  for (const [field, target] of [
    ['request_parameters', 'query'],
    ['request_headers', 'headers'],
  ] as const) {
    const value = requester[field];
    if (value === undefined || value === null || value === '') continue;
    if (!isObject(value))
      return leftOut(
        `${qAt}.${field}`,
        'HttpRequester',
        'an interpolated mapping (one string) has no equivalent',
      );
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        if (isObject(v) && v.type === 'QueryProperties')
          return leftOut(`${qAt}.${field}.${k}`, 'QueryProperties', 'property chunking has no equivalent');
        return leftOut(`${qAt}.${field}.${k}`, 'HttpRequester', 'a non-scalar value');
      }
      if (typeof v !== 'string') {
        (request[target] as Record<string, unknown>)[k] = target === 'headers' ? String(v) : v;
        continue;
      }
      const t = translateTemplate(v, scope);
      if (!t.ok) {
        const secret = translateTemplate(v, scope, 'secret');
        if (secret.ok && secret.text.includes('{secrets.')) {
          secretPlacements.push({
            in: target === 'query' ? 'query' : 'header',
            name: k,
            template: secret.text,
          });
          continue;
        }
        return leftOut(`${qAt}.${field}.${k}`, 'HttpRequester', t.reason);
      }
      if (t.text === '') {
        noteUnset(`${qAt}.${field}.${k}`, EMPTY_LEFT_OUT);
        continue;
      }
      noteUnset(`${qAt}.${field}.${k}`);
      // Airbyte leaves out a parameter or header that renders empty.
      if (t.text === '') continue;
      (request[target] as Record<string, unknown>)[k] = t.text;
    }
  }
  const bodyJson =
    requester.request_body_json ??
    (isObject(requester.request_body) && requester.request_body.type === 'RequestBodyJsonObject'
      ? requester.request_body.value
      : undefined);
  if (
    bodyJson !== undefined &&
    bodyJson !== null &&
    bodyJson !== '' &&
    !(isObject(bodyJson) && Object.keys(bodyJson).length === 0)
  ) {
    if (!isObject(bodyJson))
      return leftOut(
        `${qAt}.request_body_json`,
        'HttpRequester',
        'an interpolated body (one string) has no equivalent',
      );
    if (request.bodyFormat === 'form')
      return leftOut(
        `${qAt}.request_body_json`,
        'HttpRequester',
        'a JSON body next to form fields (body_data)',
      );
    const t = translateValue(bodyJson, scope);
    if (!t.ok) return leftOut(`${qAt}.request_body_json.${t.at}`, 'HttpRequester', t.reason);
    noteUnset(`${qAt}.request_body_json`, 'it is sent as empty text, where Airbyte sends null', 'differs');
    request.body = { ...(t.value as Record<string, Json>), ...(request.body ?? {}) };
    request.bodyFormat = 'json';
  }
  const bodyType = isObject(requester.request_body) ? requester.request_body.type : undefined;
  const data =
    requester.request_body_data ??
    (bodyType === 'RequestBodyUrlEncodedForm' && isObject(requester.request_body)
      ? requester.request_body.value
      : bodyType !== undefined && bodyType !== 'RequestBodyJsonObject'
        ? requester.request_body
        : undefined);
  const dataAt = requester.request_body_data !== undefined ? 'request_body_data' : 'request_body';
  if (
    data !== undefined &&
    data !== null &&
    data !== '' &&
    !(isObject(data) && Object.keys(data).length === 0)
  ) {
    if (!isObject(data) || (bodyType !== undefined && bodyType !== 'RequestBodyUrlEncodedForm'))
      return leftOut(`${qAt}.${dataAt}`, 'HttpRequester', 'a text body (not form fields) has no equivalent');
    if (request.bodyFormat === 'json')
      return leftOut(`${qAt}.${dataAt}`, 'HttpRequester', 'form fields next to a JSON body');
    const fields: Record<string, Json> = {};
    for (const [k, v] of Object.entries(data)) {
      // Python's requests sends a value as str() gives it: True, not true.
      if (typeof v === 'boolean') fields[k] = v ? 'True' : 'False';
      else if (typeof v === 'number') fields[k] = v;
      else if (typeof v === 'string') {
        const t = translateTemplate(v, scope);
        if (!t.ok) return leftOut(`${qAt}.${dataAt}.${k}`, 'HttpRequester', t.reason);
        if (t.text === '') {
          noteUnset(`${qAt}.${dataAt}.${k}`, EMPTY_LEFT_OUT);
          continue;
        }
        noteUnset(`${qAt}.${dataAt}.${k}`);
        fields[k] = t.text;
      } else if (v !== null)
        return leftOut(`${qAt}.${dataAt}.${k}`, 'HttpRequester', 'a form field that is not text or a number');
    }
    request.body = { ...fields, ...(request.body ?? {}) };
    request.bodyFormat = 'form';
  }

  noteUnset(qAt);
  const incremental = finishIncremental?.(usesWindow(request));
  // Airbyte reads the children of the parents its incremental read of the parent stream emits: those
  // changed since the last sync. A single parent: `parent.changedOnly` (the parents whose stored records
  // changed since the child's last run). A parent stream without a cursor is read in full on every sync,
  // so Airbyte visits every parent, as Syncwright does.
  let changedOnly = false;
  for (const dep of ctx.incrementalDependencies ?? []) {
    if (!dep.parentIncremental)
      issue(
        ctx,
        dep.path,
        'ParentStreamConfig',
        'note',
        'the parent stream has no incremental sync: Airbyte reads every parent on each sync, and every parent is visited here too',
      );
    else if (!product) changedOnly = true;
    else
      // A product's combinations are all visited: a child with its own cursor reads from its own
      // high-water mark (more requests, the same records); one without is read in full.
      issue(
        ctx,
        dep.path,
        'ParentStreamConfig',
        incremental ? 'differs' : 'incremental',
        incremental
          ? 'every combination of parents is visited on each run, not only those with a changed parent; each child reads from its own high-water mark: more requests, the same records'
          : 'child resources of a product of parents are synced in full for every combination (the child has no cursor of its own to read from)',
      );
  }
  if (ctx.windowFilter)
    // A floor on a field other than the cursor, or on windows read in steps: no equivalent.
    issue(
      ctx,
      ctx.windowFilter.path,
      'RecordFilter',
      'incremental',
      `"${ctx.windowFilter.condition}" filters on the incremental window (client-side incremental), which has no equivalent here: records outside it are kept`,
    );
  const errors = translateErrorHandler(requester.error_handler, ctx);
  const primaryKey = primaryKeyOf(stream.primary_key, ctx);
  // Without a key, records are kept by content when the grammar has append-only resources.
  const appendOnly = !primaryKey && constructs.appendOnly;
  if (!primaryKey && !appendOnly)
    return leftOut(
      pathOf(ctx, stream, '', 'primary_key'),
      'primary_key',
      'a stream without a primary key has no equivalent yet (append-only resources are not built yet)',
    );

  const authResult = translateAuth(requester.authenticator, scope);
  // A plain header or parameter that is exactly a config value some auth keeps as a secret (Trustpilot's
  // key in its own header too): a secret, as those are never plain connection config.
  const secretNames = config.secrets();
  for (const part of ['query', 'headers'] as const) {
    const values = request[part] as Record<string, unknown>;
    for (const [k, v] of Object.entries(values)) {
      const m = typeof v === 'string' ? /^\{config\.([A-Za-z0-9_]+)\}$/.exec(v) : null;
      if (!m || !(m[1]! in secretNames)) continue;
      delete values[k];
      secretPlacements.push({
        in: part === 'query' ? 'query' : 'header',
        name: k,
        template: `{secrets.${m[1]!}}`,
      });
    }
  }
  // The same for the auth and, of a SelectiveAuthenticator, for each of its options.
  const finish = (given: AuthResult): AuthResult => {
    let auth = placeSecrets(given, secretPlacements);
    // A login request under the spec's base URL keeps its path; one to a host of its own is written out
    // as a literal login URL, so only that host (never one a connection names) gets the login secrets.
    // (A login URL with a query keeps it: written out too.)
    if (
      auth.ok &&
      auth.loginOrigin !== undefined &&
      (auth.loginOrigin !== urlBase || auth.loginUrl?.includes('?'))
    ) {
      // A login host built from config (`https://{{ config.domain }}/…`) is written as a URL template:
      // its config value is a host label with a pattern, so the login secrets go only to the host the
      // connection's own config names.
      const { path: loginPath, ...login } = auth.auth.login as Record<string, unknown>;
      const url = auth.loginUrl ?? `${auth.loginOrigin}${typeof loginPath === 'string' ? loginPath : ''}`;
      const problem = loginUrlProblem(url);
      if (problem) auth = { ok: false, reason: `the login URL ${auth.loginOrigin}: ${problem}` };
      else auth = { ...auth, auth: { ...auth.auth, login: { url, ...login } } };
    }
    // Airbyte refuses a request with both JSON and form fields; the key in a form makes one.
    if (auth.ok && auth.auth.in === 'form' && request.bodyFormat === 'json')
      auth = { ok: false, reason: 'an API key in a form body (body_data) next to a JSON body' };
    return auth;
  };
  const auth = finishAuth(authResult, finish);
  const resource: ResourceOut = {
    request: {
      ...(method !== 'GET' ? { method } : {}),
      path,
      ...(Object.keys(request.query).length ? { query: request.query } : {}),
      ...(Object.keys(request.headers).length ? { headers: request.headers } : {}),
      ...(request.body !== undefined ? { body: request.body } : {}),
      ...(request.body !== undefined && request.bodyFormat === 'form' ? { bodyFormat: 'form' as const } : {}),
    },
    recordsPath: records.recordsPath,
    ...(records.decoder ? { decoder: records.decoder } : {}),
    ...(primaryKey ? { primaryKey } : { appendOnly: true }),
    ...(records.fields ? { fields: records.fields, passthrough: true } : {}),
    ...(records.filter ? { filter: records.filter } : {}),
    ...(records.flatten
      ? { flatten: records.flatten.length === 1 ? records.flatten[0] : records.flatten }
      : {}),
    ...(records.removeFields ? { removeFields: records.removeFields } : {}),
    ...(pagination.pagination.type !== 'none' ? { pagination: pagination.pagination } : {}),
    // Airbyte's extractor reads an object where the records would be as one record.
    ...(constructs.singleObject &&
    pagination.pagination.type === 'none' &&
    !records.decoder &&
    !records.recordsPath.includes('*')
      ? { single: 'auto' }
      : {}),
    ...(incremental ? { incremental } : {}),
    ...(errors.rules.length ? { responseRules: errors.rules satisfies RuleOut[] } : {}),
    ...(parent
      ? {
          parent: {
            resource: resourceName(parent.name),
            params: { ...parentParams, ...scope.nestedParams },
            ...(changedOnly ? { changedOnly } : {}),
          },
        }
      : {}),
    ...(listValues ? { parent: { values: listValues } } : {}),
    ...(product ? { parent: { product } } : {}),
  };
  return {
    name,
    path: streamPath,
    urlBase,
    resource,
    auth,
    authPath: pathOf(ctx, requester.authenticator, 'retriever.requester.authenticator'),
    parent,
    ...(product ? { parents } : {}),
    maxAttempts: errors.maxAttempts,
    initialIntervalMs: errors.initialIntervalMs,
  };
}

/**
 * Several substream routers over the same parent stream (Airbyte's cartesian product of one parent's
 * fields: user id and company id of each user) are one parent with several fields.
 */
function mergeSameParent(routers: Json[]): Json[] {
  if (routers.length < 2 || !routers.every((r) => isObject(r) && r.type === 'SubstreamPartitionRouter'))
    return routers;
  const configs = routers.flatMap(
    (r) => ((r as Component).parent_stream_configs as Json[] | undefined) ?? [],
  );
  const names = new Set(
    configs.map((c) => (isObject(c) && isObject(c.stream) ? streamName(c.stream, -1) : '')),
  );
  return names.size === 1 ? [{ ...(routers[0] as Component), parent_stream_configs: configs }] : routers;
}

/** Secrets a stream sends as plain parameters or headers become its auth (Syncwright seals them). */
function placeSecrets(
  result: AuthResult,
  placements: readonly { in: 'query' | 'header'; name: string; template: string }[],
): AuthResult {
  if (placements.length === 0 || !result.ok) return result;
  let auth: AuthOut = result.auth;
  for (const p of placements) {
    const single = /^\{secrets\.([A-Za-z0-9_]+)\}$/.exec(p.template);
    // What the auth sends itself already (the key header written out again): nothing to add.
    if (
      single &&
      auth.type === 'api-key' &&
      !auth.prefix &&
      auth.value === single[1] &&
      ownsName(auth, p.in, p.name)
    )
      continue;
    if (auth.type === 'none' && single) {
      auth = { type: 'api-key', in: p.in, name: p.name, value: single[1]! };
      continue;
    }
    const headerKey = auth.type === 'api-key' && auth.in === 'header';
    if (p.in === 'header' && (auth.type === 'none' || auth.type === 'custom-headers' || headerKey)) {
      // An API key header and another secret header: both as custom headers.
      const headers =
        auth.type === 'custom-headers'
          ? (auth.headers as Record<string, string>)
          : headerKey
            ? {
                [String(auth.name)]:
                  `${typeof auth.prefix === 'string' ? auth.prefix : ''}{secrets.${String(auth.value)}}`,
              }
            : {};
      auth = { type: 'custom-headers', headers: { ...headers, [p.name]: p.template } };
      continue;
    }
    // A query value built from a secret, with no auth to carry it: nothing can send it sealed.
    if (auth.type === 'none')
      return {
        ok: false,
        reason: `the secret in "${p.name}" is part of a computed value, which no auth can send`,
      };
    // Next to any other auth (Harvest's account id beside its bearer token): the auth's extra
    // credentials, sent exactly where its own go.
    const extra = (auth.extra ?? {}) as { headers?: Record<string, string>; query?: Record<string, string> };
    const part = p.in === 'header' ? 'headers' : 'query';
    const taken = Object.keys(extra[part] ?? {}).some((k) =>
      part === 'headers' ? k.toLowerCase() === p.name.toLowerCase() : k === p.name,
    );
    if (taken || ownsName(auth, p.in, p.name))
      return {
        ok: false,
        reason: `the secret sent in "${p.name}" would replace the ${auth.type} auth's own`,
      };
    auth = { ...auth, extra: { ...extra, [part]: { ...(extra[part] ?? {}), [p.name]: p.template } } };
  }
  return { ...result, auth };
}

/** Whether the auth itself sends a header or parameter of that name. */
function ownsName(auth: AuthOut, place: 'query' | 'header', name: string): boolean {
  if (auth.type === 'api-key')
    return (
      auth.in === place &&
      (place === 'header' ? String(auth.name).toLowerCase() === name.toLowerCase() : auth.name === name)
    );
  if (place === 'query') return false;
  const header =
    auth.type === 'session-token' && typeof auth.header === 'string' ? auth.header : 'authorization';
  return header.toLowerCase() === name.toLowerCase();
}

function usesWindow(request: RequestParts): boolean {
  const text = JSON.stringify([request.query, request.headers, request.body ?? null]);
  return /\{(since|window\.start|window\.end)(\|[^}]*)?\}/.test(text);
}
