/**
 * The catalog's bulk-export specs (integrations/salesforce-bulk.yaml, shopify-bulk.yaml) as loaded from
 * their files, aimed at the testing kit's simulators: the base URL (and Shopify's storage origin) at the
 * simulator, Salesforce's OAuth replaced by the simulator's session token, and the poll interval and
 * page sizes made small so a test runs in seconds. Shared by tests and the worker process fixture.
 */
import { loadSpec } from '../../src/spec/load.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { SALESFORCE_BULK_VERSION, SHOPIFY_BULK_VERSION } from '../../src/testing/providers/index.js';

export interface BulkSpecOptions {
  /** Records per committed chunk (default 700). */
  chunkRecords?: number;
  /** Salesforce: records per results page (default 2,000). */
  pageRecords?: number;
}

/** Polls after 1 s at first, doubling to at most 4 s. */
export const FAST_POLLS = { initialSeconds: 1, minSeconds: 0.5, maxSeconds: 4, backoff: 2 };

function aimed(spec: IntegrationSpec, resource: string, o: BulkSpecOptions, pages = false): IntegrationSpec {
  const r = spec.resources[resource]!;
  const exp = r.export!;
  const results =
    pages && exp.results.pages
      ? {
          ...exp.results,
          pages: {
            ...exp.results.pages,
            request: { ...exp.results.pages.request, query: { maxRecords: o.pageRecords ?? 2000 } },
          },
        }
      : exp.results;
  return {
    ...spec,
    resources: {
      [resource]: {
        ...r,
        export: {
          ...exp,
          status: { ...exp.status, interval: FAST_POLLS },
          results,
          download: { ...exp.download, chunkRecords: o.chunkRecords ?? 700 },
        },
      },
    },
  };
}

export async function salesforceBulkSpec(simUrl: string, o: BulkSpecOptions = {}): Promise<IntegrationSpec> {
  const spec = await loadSpec('integrations/salesforce-bulk.yaml');
  return aimed(
    {
      ...spec,
      baseUrl: `${simUrl}/services/data/${SALESFORCE_BULK_VERSION}`,
      secrets: { token: 'session token' },
      auth: { type: 'bearer', token: 'token' },
    },
    'accounts',
    o,
    true,
  );
}

export async function shopifyBulkSpec(
  simUrl: string,
  storageUrl: string,
  o: BulkSpecOptions = {},
): Promise<IntegrationSpec> {
  const spec = await loadSpec('integrations/shopify-bulk.yaml');
  return aimed(
    {
      ...spec,
      baseUrl: `${simUrl}/admin/api/${SHOPIFY_BULK_VERSION}`,
      connectionConfig: {},
      allowedOrigins: [{ origin: storageUrl, credentials: false }],
    },
    'products',
    o,
  );
}
