/** The spec our integration tests sync the provider simulator with: one resource per pagination style. */
import { defineIntegration } from '../../src/spec/define.js';
import type { IntegrationSpec, IntegrationSpecInput } from '../../src/spec/schema.js';
import { signatureSchema } from '../../src/webhooks/signatures.js';
import type { SimPagination } from '../../src/testing/simulator.js';

export const TOKEN = 's3cret-token-value';

/** `perSecond` declares a rate limit (requests per second) shared by every worker of a connection. */
export function trackerSpec(
  baseUrl: string,
  perSecond?: number,
  webhooks?: IntegrationSpecInput['webhooks'],
): IntegrationSpec {
  const paging = (type: SimPagination) => {
    switch (type) {
      case 'page':
        return {
          type: 'page' as const,
          pageParam: 'page',
          sizeParam: 'per_page',
          pageSize: 100,
          totalPath: 'total',
        };
      case 'offset':
        return {
          type: 'offset' as const,
          offsetParam: 'offset',
          limitParam: 'limit',
          pageSize: 100,
          totalPath: 'total',
        };
      case 'cursor':
        return {
          type: 'cursor' as const,
          cursorPath: 'next_cursor',
          param: 'cursor',
          limitParam: 'limit',
          pageSize: 100,
          hasMorePath: 'has_more',
        };
      case 'link-header':
        return { type: 'link-header' as const, sizeParam: 'per_page', pageSize: 100 };
      case 'next-url':
        return { type: 'next-url' as const, nextUrlPath: 'next' };
    }
  };
  const resource = (path: string, type: SimPagination) => ({
    request: { path },
    recordsPath: 'data',
    primaryKey: 'id',
    fields: {
      id: { from: 'id', type: 'integer' as const },
      title: 'title',
      state: 'state',
      priority: { type: 'integer' as const },
      updated_at: { type: 'timestamp' as const },
    },
    schema: { title: { type: 'string' as const, required: true, nullable: false } },
    pagination: paging(type),
    incremental: { cursorField: 'updated_at', param: 'updated_since', lookbackSeconds: 60 },
  });
  return defineIntegration({
    id: 'tracker',
    baseUrl,
    secrets: { token: 'API token' },
    auth: { type: 'bearer', token: 'token' },
    retry: { timeoutMs: 1000 },
    ...(perSecond ? { rateLimits: [{ limit: perSecond, per: 'second' as const }] } : {}),
    ...(webhooks
      ? {
          secrets: {
            token: 'API token',
            webhook_secret: 'signing secret',
            webhook_secret_old: 'previous signing secret',
          },
          webhooks,
        }
      : {}),
    resources: {
      issues: resource('/issues', 'page'),
      by_offset: resource('/by_offset', 'offset'),
      by_cursor: resource('/by_cursor', 'cursor'),
      by_link: resource('/by_link', 'link-header'),
      by_next: resource('/by_next', 'next-url'),
    },
  });
}

export const WEBHOOK_SECRET = 'whsec_dHJhY2tlciB3ZWJob29rIHNpZ25pbmcgc2VjcmV0';
export const OLD_WEBHOOK_SECRET = 'whsec_b2xkIHRyYWNrZXIgd2ViaG9vayBzZWNyZXQ=';

/**
 * The tracker's webhooks: {"id", "type", "sequence", "data": issue}. issue.updated upserts the
 * issue in the payload, issue.deleted deletes it, issue.touched refetches it from the API.
 */
export function trackerWebhooks(scheme: Record<string, unknown> = { scheme: 'standard-webhooks' }) {
  return {
    signature: signatureSchema.parse({ ...scheme, secrets: ['webhook_secret', 'webhook_secret_old'] }),
    eventId: { path: 'id' },
    eventType: { path: 'type' },
    order: { path: 'sequence' },
    events: {
      'issue.created': { action: 'upsert', resource: 'issues', record: 'data' },
      'issue.updated': { action: 'upsert', resource: 'issues', record: 'data' },
      'issue.deleted': { action: 'delete', resource: 'issues', id: 'data.id' },
      'issue.touched': { action: 'refetch', resource: 'issues', id: 'data.id', path: '/issues/{id}' },
    },
  } satisfies IntegrationSpecInput['webhooks'];
}
