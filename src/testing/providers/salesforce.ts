/**
 * Salesforce REST API, as documented: POST /services/oauth2/token (refresh_token grant; the answer
 * names the org's `instance_url` and has no expires_in), and GET /services/data/vXX.X/query?q=<SOQL>
 * answering `{ totalSize, done, records, nextRecordsUrl }` with the next batch at a relative
 * `nextRecordsUrl` (…/query/01gXX-2000). Errors are a list `[{ message, errorCode }]`: an expired
 * session is a 401 INVALID_SESSION_ID, a bad query a 400 MALFORMED_QUERY, the concurrent long-running
 * request limit a 403 REQUEST_LIMIT_EXCEEDED "ConcurrentPerOrgLongTxn Limit exceeded.".
 */
import {
  startCatalogServer,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

export const SALESFORCE_VERSION = 'v63.0';
export const SALESFORCE_CLIENT = {
  clientId: '3MVG9sim',
  clientSecret: 'sim-secret',
  refreshToken: '5Aep861sim',
};
/** 18-character ids with the object's key prefix (001 Account, 003 Contact, 006 Opportunity). */
export const salesforceId = (prefix: string, n: number) => `${prefix}5g00000${String(n).padStart(5, '0')}AAA`;

/** Salesforce datetimes: `2026-01-01T00:00:00.000+0000`. */
const sfTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

const objects: Record<string, { prefix: string; fields: (i: CatalogItem) => Record<string, unknown> }> = {
  Account: { prefix: '001', fields: (i) => ({ Name: i.name, Industry: i.n % 2 ? 'Technology' : 'Retail' }) },
  Contact: {
    prefix: '003',
    fields: (i) => ({
      FirstName: 'Item',
      LastName: String(i.n),
      Email: `contact${i.n}@example.com`,
      AccountId: salesforceId('001', i.n),
    }),
  },
  Opportunity: {
    prefix: '006',
    fields: (i) => ({
      Name: i.name,
      StageName: i.n % 3 ? 'Prospecting' : 'Closed Won',
      Amount: i.n * 100,
      CloseDate: '2026-06-30',
    }),
  },
};

const SOQL =
  /^SELECT ([A-Za-z, ]+) FROM (Account|Contact|Opportunity) WHERE SystemModstamp >= (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z) ORDER BY SystemModstamp ASC$/;

/** Query locators: where a query's remaining records start. */
const locators = new Map<string, { rows: Record<string, unknown>[]; from: number }>();

/**
 * The org's instance, as a test changes it: the token endpoint names `url` as instance_url (default:
 * this server), and an org that `moved` refuses every session on this server, as an old instance does
 * after a migration.
 */
export interface SalesforceInstance {
  url?: string;
  moved?: boolean;
}

export interface SalesforceSimulatorOptions extends CatalogSimulatorOptions {
  /** Read on every request, so a test may change it while the simulator runs. */
  instance?: SalesforceInstance;
}

export const salesforceShape: ProviderShape = salesforceShapeOf({});

function salesforceShapeOf(instance: SalesforceInstance): ProviderShape {
  return {
    route(req, ctx) {
      if (req.method === 'POST' && req.path === '/services/oauth2/token') {
        const b = req.body as Record<string, string>;
        if (
          b.grant_type !== 'refresh_token' ||
          b.refresh_token !== SALESFORCE_CLIENT.refreshToken ||
          b.client_id !== SALESFORCE_CLIENT.clientId ||
          b.client_secret !== SALESFORCE_CLIENT.clientSecret
        )
          return {
            status: 400,
            body: { error: 'invalid_grant', error_description: 'expired access/refresh token' },
          };
        return {
          body: {
            access_token: '00Dsim!AQ0AQsimaccesstoken',
            instance_url: instance.url ?? ctx.url,
            id: `${ctx.url}/id/00D000000000001EAA/005000000000001AAA`,
            token_type: 'Bearer',
            issued_at: String(Date.now()),
            signature: 'c2lt',
          },
        };
      }
      if (req.method !== 'GET') return undefined;
      if (req.headers.authorization !== 'Bearer 00Dsim!AQ0AQsimaccesstoken' || instance.moved)
        return {
          status: 401,
          body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }],
        };
      const base = `/services/data/${SALESFORCE_VERSION}/query`;
      const batch = ctx.pageCap(2000, 2000, 2000);
      let rows: Record<string, unknown>[];
      let from: number;
      if (req.path === base) {
        const q = req.query.get('q') ?? '';
        const m = SOQL.exec(q);
        if (!m)
          return {
            status: 400,
            body: [{ message: `unexpected token in query: ${q}`, errorCode: 'MALFORMED_QUERY' }],
          };
        const since = Date.parse(m[3]!);
        const object = objects[m[2]!]!;
        const wanted = m[1]!.split(',').map((f) => f.trim());
        rows = ctx.items
          .filter((i) => i.updated >= since)
          .sort((a, b) => a.updated - b.updated || a.n - b.n)
          .map((i) => {
            const all: Record<string, unknown> = {
              Id: salesforceId(object.prefix, i.n),
              CreatedDate: sfTime(i.created),
              SystemModstamp: sfTime(i.updated),
              ...object.fields(i),
            };
            return {
              attributes: {
                type: m[2],
                url: `/services/data/${SALESFORCE_VERSION}/sobjects/${m[2]}/${String(all.Id)}`,
              },
              ...Object.fromEntries(wanted.map((f) => [f, all[f] ?? null])),
            };
          });
        from = 0;
      } else if (req.path.startsWith(`${base}/`)) {
        const locator = locators.get(req.path.slice(base.length + 1));
        if (!locator)
          return {
            status: 400,
            body: [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }],
          };
        ({ rows, from } = locator);
      } else {
        return {
          status: 404,
          body: [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }],
        };
      }
      const page = rows.slice(from, from + batch);
      const end = from + page.length;
      const done = end >= rows.length;
      let next: string | undefined;
      if (!done) {
        const id = `01gsim${locators.size}-${end}`;
        locators.set(id, { rows, from: end });
        next = `${base}/${id}`;
      }
      return {
        body: { totalSize: rows.length, done, records: page, ...(next ? { nextRecordsUrl: next } : {}) },
      };
    },
    rateLimited: () => ({
      status: 403,
      body: [{ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
    }),
    fatal: () => ({
      status: 400,
      body: [{ message: "sObject type 'Acount' is not supported.", errorCode: 'INVALID_TYPE' }],
    }),
    faultless: (req) => req.path === '/services/oauth2/token',
    okHeaders: (ctx) => ({ 'sforce-limit-info': `api-usage=${ctx.served}/15000` }),
  };
}

export function startSalesforceSimulator(
  options: SalesforceSimulatorOptions = {},
): Promise<CatalogSimulator> {
  const { instance, ...rest } = options;
  return startCatalogServer('salesforce', instance ? salesforceShapeOf(instance) : salesforceShape, rest);
}
