/**
 * GitHub GraphQL, as documented: POST /graphql `{ query, variables }`; connections take `first` (1 to
 * 100) and `after`, and answer `nodes` and `pageInfo { hasNextPage endCursor }`; `issues` filter by
 * `filterBy: { since }`. Errors come as 200 with `errors` (a missing repository is NOT_FOUND); the
 * primary rate limit as 200 with an error of type RATE_LIMITED and x-ratelimit-remaining: 0.
 */
import {
  decodeCursor,
  encodeCursor,
  iso,
  startCatalogServer,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

const connections: Record<string, (i: CatalogItem) => object> = {
  issues: (i) => ({
    id: `I_kwDO${i.n}`,
    number: i.n,
    title: i.name,
    state: i.n % 3 === 0 ? 'CLOSED' : 'OPEN',
    author: { login: `user${i.n % 10}` },
    createdAt: iso(i.created),
    updatedAt: iso(i.updated),
  }),
  pullRequests: (i) => ({
    id: `PR_kwDO${i.n}`,
    number: i.n,
    title: i.name,
    state: 'OPEN',
    isDraft: false,
    author: { login: `user${i.n % 10}` },
    createdAt: iso(i.created),
    updatedAt: iso(i.updated),
  }),
};

export const githubGraphqlShape: ProviderShape = {
  route(req, ctx) {
    if (req.method !== 'POST' || req.path !== '/graphql') return undefined;
    const { query, variables = {} } = req.body as { query?: string; variables?: Record<string, unknown> };
    const field = /\b(issues|pullRequests)\s*\(/.exec(query ?? '')?.[1];
    if (!field) return { body: { errors: [{ message: 'Parse error on query' }] } };
    if (variables.owner !== 'octo-org' || variables.name !== 'hello-world')
      return {
        body: {
          data: { repository: null },
          errors: [
            {
              type: 'NOT_FOUND',
              path: ['repository'],
              message: `Could not resolve to a Repository with the name '${String(variables.owner)}/${String(variables.name)}'.`,
            },
          ],
        },
      };
    const first = variables.first;
    if (typeof first !== 'number' || first < 1 || first > 100)
      return {
        body: { errors: [{ message: 'Requesting more than 100 records on the connection is not allowed.' }] },
      };
    const since =
      field === 'issues' && typeof variables.since === 'string' ? Date.parse(variables.since) : -Infinity;
    const rows = ctx.items
      .filter((i) => i.updated >= since)
      .sort((a, b) => a.updated - b.updated || a.n - b.n);
    const from = decodeCursor(typeof variables.after === 'string' ? variables.after : null);
    const page = rows.slice(from, from + ctx.pageCap(first, 100, 100));
    const end = from + page.length;
    return {
      body: {
        data: {
          repository: {
            [field]: {
              nodes: page.map(connections[field]!),
              pageInfo: { hasNextPage: end < rows.length, endCursor: page.length ? encodeCursor(end) : null },
            },
          },
        },
      },
    };
  },
  rateLimited: () => ({
    headers: {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1),
      'x-ratelimit-resource': 'graphql',
    },
    body: { errors: [{ type: 'RATE_LIMITED', message: 'API rate limit exceeded for user ID 1.' }] },
  }),
  fatal: () => ({
    body: {
      data: { repository: null },
      errors: [
        {
          type: 'NOT_FOUND',
          path: ['repository'],
          message: "Could not resolve to a Repository with the name 'octo-org/hello-world'.",
        },
      ],
    },
  }),
  okHeaders: (ctx) => ({
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': String(Math.max(1, 5000 - ctx.served)),
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    'x-ratelimit-resource': 'graphql',
  }),
};

export function startGitHubGraphqlSimulator(options?: CatalogSimulatorOptions): Promise<CatalogSimulator> {
  return startCatalogServer('github-graphql', githubGraphqlShape, options);
}
