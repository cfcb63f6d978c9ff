/**
 * HubSpot CRM search, as documented: POST /crm/v3/objects/{contacts,companies,deals}/search with
 * `filterGroups`, `sorts`, `properties`, `limit` (at most 200) and `after`; answers `{ total, results,
 * paging.next.after }` with each object's fields under `properties`. Search answers carry no rate-limit
 * headers; too many requests is a 429 `{ status: "error", errorType: "RATE_LIMIT", … }`. Errors are
 * `{ status: "error", message, category, correlationId }`.
 */
import {
  iso,
  startCatalogServer,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

/** Every 10th contact is archived (search answers include them with `archived: true`). */
export const isArchived = (n: number) => n % 10 === 0;

const objects: Record<
  string,
  { modified: string; properties: (i: CatalogItem) => Record<string, string | null> }
> = {
  contacts: {
    modified: 'lastmodifieddate',
    properties: (i) => ({
      firstname: 'Item',
      lastname: String(i.n),
      email: `contact${i.n}@example.com`,
      createdate: iso(i.created),
      lastmodifieddate: iso(i.updated),
      hs_object_id: String(100 + i.n),
    }),
  },
  companies: {
    modified: 'hs_lastmodifieddate',
    properties: (i) => ({
      name: i.name,
      domain: `company${i.n}.example.com`,
      createdate: iso(i.created),
      hs_lastmodifieddate: iso(i.updated),
      hs_object_id: String(100 + i.n),
    }),
  },
  deals: {
    modified: 'hs_lastmodifieddate',
    properties: (i) => ({
      dealname: i.name,
      amount: String(i.n * 10),
      dealstage: i.n % 2 ? 'closedwon' : 'appointmentscheduled',
      createdate: iso(i.created),
      hs_lastmodifieddate: iso(i.updated),
      hs_object_id: String(100 + i.n),
    }),
  },
};

type Filter = { propertyName: string; operator: string; value: string };

export const hubspotShape: ProviderShape = {
  route(req, ctx) {
    const m = /^\/crm\/v3\/objects\/(contacts|companies|deals)\/search$/.exec(req.path);
    if (req.method !== 'POST' || !m) return undefined;
    const def = objects[m[1]!]!;
    const b = (req.body ?? {}) as { limit?: number; after?: string; filterGroups?: { filters: Filter[] }[] };
    if ((b.limit ?? 10) > 200)
      return {
        status: 400,
        body: {
          status: 'error',
          message: 'Invalid input JSON on line 1: limit must be at most 200',
          category: 'VALIDATION_ERROR',
          correlationId: 'c0ffee00-0000-4000-8000-000000000000',
        },
      };
    const gte = b.filterGroups?.[0]?.filters.find(
      (f) => f.propertyName === def.modified && f.operator === 'GTE',
    );
    const since = gte ? (/^\d+$/.test(gte.value) ? Number(gte.value) : Date.parse(gte.value)) : -Infinity;
    const rows = ctx.items
      .filter((i) => i.updated >= since)
      .sort((a, c) => a.updated - c.updated || a.n - c.n);
    const from = Number(b.after ?? 0);
    const page = rows.slice(from, from + ctx.pageCap(b.limit, 200, 10));
    const end = from + page.length;
    return {
      body: {
        total: rows.length,
        results: page.map((i) => ({
          id: String(100 + i.n),
          properties: def.properties(i),
          createdAt: iso(i.created),
          updatedAt: iso(i.updated),
          archived: m[1] === 'contacts' && isArchived(i.n),
        })),
        ...(end < rows.length ? { paging: { next: { after: String(end), link: '' } } } : {}),
      },
    };
  },
  rateLimited: () => ({
    status: 429,
    body: {
      status: 'error',
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      correlationId: 'c0ffee00-0000-4000-8000-000000000001',
      policyName: 'SECONDLY',
    },
  }),
  fatal: () => ({
    status: 401,
    body: {
      status: 'error',
      message: 'Authentication credentials not found. This API supports OAuth 2.0 authentication.',
      correlationId: 'c0ffee00-0000-4000-8000-000000000002',
      category: 'INVALID_AUTHENTICATION',
    },
  }),
};

export function startHubSpotSimulator(options?: CatalogSimulatorOptions): Promise<CatalogSimulator> {
  return startCatalogServer('hubspot', hubspotShape, options);
}
