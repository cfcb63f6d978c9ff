/**
 * Spec checks of request templates: every placeholder in a query value, header, body or GraphQL
 * variable names something that exists for that resource, with filters that exist.
 */
import type { z } from 'zod';
import { filterProblem, placeholdersIn, TIME_NAMES } from '../http/request-template.js';
import type { PaginationConfig } from '../pagination/schema.js';

interface ResourceLike {
  request: {
    query: Record<string, unknown>;
    headers: Record<string, string>;
    body?: unknown;
    graphql?: { variables: Record<string, unknown> } | undefined;
    method: string;
  };
  pagination: PaginationConfig;
  incremental?: { param?: string | undefined } | undefined;
  parent?: { params: Record<string, string> } | undefined;
}

const PAGING_NAME: Record<string, PaginationConfig['type'][]> = {
  cursor: ['cursor'],
  page: ['page'],
  offset: ['offset'],
  limit: ['page', 'offset', 'cursor', 'link-header'],
};

export function checkRequestTemplates(
  spec: { connectionConfig: Record<string, unknown> },
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
  let usesTime = false;
  for (const [path, value] of places) {
    for (const { name: key, filters } of placeholdersIn(value)) {
      const where = `{${[key, ...filters].join('|')}}`;
      for (const f of filters) {
        const problem = filterProblem(f);
        if (problem) issue(path, `${where}: ${problem}`);
      }
      if (key.startsWith('config.')) {
        const field = key.slice('config.'.length);
        if (!(field in spec.connectionConfig))
          issue(
            path,
            `${where}: "${field}" is not a connectionConfig field (declared: ${Object.keys(spec.connectionConfig).join(', ') || 'none'})`,
          );
      } else if (key.startsWith('parent.')) {
        const param = key.slice('parent.'.length);
        if (!resource.parent || !(param in resource.parent.params))
          issue(path, `${where} needs parent.params.${param}`);
      } else if (TIME_NAMES.has(key)) {
        usesTime = true;
        if (!resource.incremental) issue(path, `${where} needs an incremental section`);
      } else if (key in PAGING_NAME) {
        if (!PAGING_NAME[key]!.includes(resource.pagination.type))
          issue(
            path,
            `${where} needs pagination type ${PAGING_NAME[key]!.map((t) => `"${t}"`).join(' or ')}`,
          );
      } else {
        issue(
          path,
          `${where}: unknown placeholder; use cursor, page, offset, limit, since, window.start, window.end, config.<field> or parent.<param>`,
        );
      }
    }
  }
  if (resource.incremental && resource.incremental.param === undefined && !usesTime)
    issue(
      ['incremental', 'param'],
      'required: the query parameter of the high-water mark, unless a request template uses {since} or {window.start}',
    );
}
