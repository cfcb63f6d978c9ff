/** A spec with a child resource: the issues of each repo, one child run per repo record. */
import { defineIntegration } from '../../src/spec/define.js';
import type { IntegrationSpec, IntegrationSpecInput } from '../../src/spec/schema.js';

export function forgeSpec(
  baseUrl: string,
  options: { issuesPageSize?: number; auth?: Pick<IntegrationSpecInput, 'secrets' | 'auth'> } = {},
): IntegrationSpec {
  return defineIntegration({
    id: 'forge',
    baseUrl,
    ...options.auth,
    resources: {
      repos: {
        request: { path: '/repos' },
        recordsPath: 'data',
        primaryKey: 'name',
        pagination: { type: 'page', sizeParam: 'per_page', pageSize: 100 },
      },
      issues: {
        request: { path: '/repos/{parent.repo}/issues' },
        recordsPath: 'data',
        primaryKey: 'id',
        parent: { resource: 'repos', params: { repo: 'name' } },
        pagination: {
          type: 'page',
          sizeParam: 'per_page',
          pageSize: options.issuesPageSize ?? 100,
          totalPath: 'total',
        },
      },
    },
  });
}
