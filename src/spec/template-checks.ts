/**
 * Spec checks of request templates: every placeholder in a query value, header, body or GraphQL
 * variable names something that exists for that resource, with filters that exist.
 */
import type { z } from 'zod';
import { filterProblem, placeholdersIn, TIME_NAMES } from '../http/request-template.js';
import { namesOf, templateProblem } from '../template/template.js';
import type { PaginationConfig } from '../pagination/schema.js';
import { parentParamsOf, type ParentConfig } from './parent.js';
import { pathSecretProblem } from '../http/path-secrets.js';

interface ResourceLike {
  request: {
    path: string;
    query: Record<string, unknown>;
    headers: Record<string, string>;
    body?: unknown;
    graphql?: { variables: Record<string, unknown> } | undefined;
    method: string;
    bodyFormat?: 'json' | 'form' | undefined;
  };
  pagination: PaginationConfig;
  incremental?: { param?: string | undefined; clientSide?: boolean; readsAll?: boolean } | undefined;
  parent?: ParentConfig | undefined;
}

const PAGING_NAME: Record<string, PaginationConfig['type'][]> = {
  cursor: ['cursor'],
  page: ['page'],
  offset: ['offset'],
  limit: ['page', 'offset', 'cursor', 'link-header'],
};

/** What a template may name where it is: the names available, beyond `now` and `config.<field>`. */
export interface TemplateScope {
  connectionConfig: Record<string, unknown>;
  /** `{parent.<param>}`: the resource's parent params. */
  parentParams?: Record<string, string> | undefined;
  /** `{since}`, `{window.start}`, `{window.end}`: the resource is incremental. */
  incremental?: boolean;
  /** `{cursor}`, `{page}`, `{offset}`, `{limit}`: the resource's pagination type (requests only). */
  pagination?: PaginationConfig['type'];
  /** `{record.<path>}`: computed fields. */
  record?: boolean;
  /** `{secrets.<name>}`: auth templates only. */
  secrets?: ReadonlySet<string>;
  /** A bare `{name}` is a config field (request paths). */
  bareIsConfig?: boolean;
  /** `{job.id}`: the steps of an export after its submit. */
  job?: boolean;
}

function available(scope: TemplateScope): string {
  return [
    ...(scope.pagination ? ['cursor', 'page', 'offset', 'limit'] : []),
    ...(scope.incremental !== undefined ? ['since', 'window.start', 'window.end'] : []),
    'now',
    'config.<field>',
    ...(scope.parentParams !== undefined ? ['parent.<param>'] : []),
    ...(scope.record ? ['record.<path>'] : []),
    ...(scope.secrets ? ['secrets.<name>'] : []),
    ...(scope.job ? ['job.id'] : []),
  ].join(', ');
}

/** Every string of a template value, at any depth. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/**
 * Problems of the placeholders in a template value (strings at any depth), each starting with the
 * placeholder as written; `times` is set when it uses the incremental window.
 */
export function templateProblems(
  value: unknown,
  scope: TemplateScope,
  times: { used: boolean } = { used: false },
): string[] {
  const problems: string[] = [];
  const declared = () => Object.keys(scope.connectionConfig).join(', ') || 'none';
  for (const text of stringsIn(value)) {
    const problem = templateProblem(text);
    if (problem) problems.push(problem);
  }
  const places = placeholdersIn(value).flatMap(({ name, filters, condition }) => {
    const where = condition ? `{?${name}}` : `{${[name, ...filters].join('|')}}`;
    for (const f of filters) {
      const problem = filterProblem(f);
      if (problem) problems.push(`${where}: ${problem}`);
    }
    // An `or:<name>` fallback must name something that exists here too.
    return namesOf({ name, filters }).map((written) => ({ written, where }));
  });
  for (const { written, where } of places) {
    const bare =
      scope.bareIsConfig && !written.includes('.') && !(written in PAGING_NAME) && !TIME_NAMES.has(written);
    const key = bare && written !== 'now' ? `config.${written}` : written;
    const [kind, ...rest] = key.split('.');
    const field = rest.join('.');
    if (kind === 'config' && field) {
      if (!(field in scope.connectionConfig))
        problems.push(
          bare
            ? `${where} is not a connectionConfig field (declared: ${declared()})`
            : `${where}: "${field}" is not a connectionConfig field (declared: ${declared()})`,
        );
    } else if (kind === 'parent' && field && scope.parentParams !== undefined) {
      if (!(field in scope.parentParams)) problems.push(`${where} needs parent.params.${field}`);
    } else if (kind === 'parent' && field && scope.record) {
      problems.push(`${where} needs a parent section with params.${field}`);
    } else if (kind === 'secrets' && field && scope.secrets) {
      if (!scope.secrets.has(field))
        problems.push(
          `${where}: secret "${field}" is not declared in secrets (declared: ${[...scope.secrets].join(', ') || 'none'})`,
        );
    } else if (kind === 'record' && field && scope.record) {
      // Any path of the record as sent.
    } else if (TIME_NAMES.has(key) && scope.incremental !== undefined) {
      times.used = true;
      if (!scope.incremental) problems.push(`${where} needs an incremental section`);
    } else if (key === 'job.id' && scope.job) {
      // The submitted export job's id.
    } else if (key === 'now') {
      // The time the template is filled.
    } else if (key in PAGING_NAME && scope.pagination) {
      if (!PAGING_NAME[key]!.includes(scope.pagination))
        problems.push(
          `${where} needs pagination type ${PAGING_NAME[key]!.map((t) => `"${t}"`).join(' or ')}`,
        );
    } else {
      problems.push(`${where}: unknown placeholder; use ${available(scope)}`);
    }
  }
  return problems;
}

export function checkRequestTemplates(
  spec: { connectionConfig: Record<string, unknown>; secrets?: Record<string, string> },
  name: string,
  resource: ResourceLike,
  ctx: z.RefinementCtx,
): void {
  const req = resource.request;
  const places: [string[], unknown][] = [
    [['request', 'query'], req.query],
    [['request', 'headers'], req.headers],
    [['request', 'body'], req.body],
    [['request', 'graphql', 'variables'], req.graphql?.variables],
  ];
  const issue = (path: string[], message: string) =>
    ctx.addIssue({ code: 'custom', path: ['resources', name, ...path], message });
  if (req.graphql && req.body !== undefined) issue(['request', 'graphql'], 'give body or graphql, not both');
  if (req.graphql && req.method !== 'POST' && req.method !== 'GET')
    issue(['request', 'method'], 'a GraphQL request is a POST');
  if (req.bodyFormat === 'form') formProblems(req, issue);
  const scope: TemplateScope = {
    connectionConfig: spec.connectionConfig,
    parentParams: resource.parent ? parentParamsOf(resource.parent) : {},
    incremental: resource.incremental !== undefined,
    pagination: resource.pagination.type,
  };
  const times = { used: false };
  // A path may place a secret as a whole segment (sealed; revealed only as the request is sent).
  const secretProblem = pathSecretProblem(req.path);
  if (secretProblem) issue(['request', 'path'], secretProblem);
  const pathScope = { ...scope, bareIsConfig: true, secrets: new Set(Object.keys(spec.secrets ?? {})) };
  for (const p of templateProblems(req.path, pathScope, times)) issue(['request', 'path'], p);
  for (const [path, value] of places) for (const p of templateProblems(value, scope, times)) issue(path, p);
  const inc = resource.incremental;
  if (inc?.readsAll && times.used)
    issue(
      ['incremental', 'readsAll'],
      'readsAll sends no high-water mark: a request template uses {since} or {window.*}',
    );
  if (inc && inc.param === undefined && !times.used && !inc.clientSide && !inc.readsAll)
    issue(
      ['incremental', 'param'],
      'required: the query parameter of the high-water mark, unless a request template uses {since} or {window.start}, or clientSide: true or readsAll: true (the provider cannot filter)',
    );
}

/** A form body is one level of fields whose values are text, numbers or booleans. */
function formProblems(req: ResourceLike['request'], issue: (path: string[], message: string) => void): void {
  if (req.graphql) issue(['request', 'bodyFormat'], 'a GraphQL request is sent as JSON, not as a form');
  if (req.body === undefined) {
    issue(['request', 'bodyFormat'], 'a form needs a body: its fields');
    return;
  }
  if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
    issue(['request', 'body'], 'a form body is an object of fields');
    return;
  }
  for (const [k, v] of Object.entries(req.body))
    if (!['string', 'number', 'boolean'].includes(typeof v))
      issue(['request', 'body', k], 'a form field is text, a number or a boolean');
}
