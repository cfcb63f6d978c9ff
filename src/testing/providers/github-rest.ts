/**
 * GitHub REST, as documented: GET /repos/{owner}/{repo}/issues (pull requests included, marked by a
 * `pull_request` key; `state`, `sort=updated`, `direction`, `since`), /pulls and /issues/comments;
 * `per_page` (at most 100) and `page`, the next page in the Link header; x-ratelimit-* headers on every
 * answer. A secondary rate limit is a 403 with Retry-After; errors are `{ message, documentation_url }`.
 */
import {
  iso,
  startCatalogServer,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

/** Every 7th item is a pull request (it shows in /issues too, as GitHub documents). */
export const isPullRequest = (n: number) => n % 7 === 0;

const shapes: Record<
  string,
  {
    since: boolean;
    rows: (items: readonly CatalogItem[]) => CatalogItem[];
    shape: (i: CatalogItem, base: string) => object;
  }
> = {
  issues: {
    since: true,
    rows: (items) => [...items],
    shape: (i, base) => ({
      id: 1000 + i.n,
      number: i.n,
      title: i.name,
      state: i.n % 3 === 0 ? 'closed' : 'open',
      user: { login: `user${i.n % 10}` },
      labels: [{ name: i.n % 2 ? 'bug' : 'feature' }],
      comments: i.n % 4,
      created_at: iso(i.created),
      updated_at: iso(i.updated),
      ...(isPullRequest(i.n) ? { pull_request: { url: `${base}/pulls/${i.n}` } } : {}),
    }),
  },
  pulls: {
    since: false,
    rows: (items) => items.filter((i) => isPullRequest(i.n)),
    shape: (i) => ({
      id: 5000 + i.n,
      number: i.n,
      title: i.name,
      state: 'open',
      draft: false,
      user: { login: `user${i.n % 10}` },
      head: { ref: `branch-${i.n}`, sha: `sha${i.n}` },
      base: { ref: 'main' },
      created_at: iso(i.created),
      updated_at: iso(i.updated),
      merged_at: null,
    }),
  },
  'issues/comments': {
    since: true,
    rows: (items) => [...items],
    shape: (i, base) => ({
      id: 9000 + i.n,
      issue_url: `${base}/issues/${i.n}`,
      body: `Comment on ${i.name}`,
      user: { login: `user${i.n % 10}` },
      created_at: iso(i.created),
      updated_at: iso(i.updated),
    }),
  },
};

export const githubRestShape: ProviderShape = {
  route(req, ctx) {
    const m = /^\/repos\/([^/]+)\/([^/]+)\/(issues|pulls|issues\/comments)$/.exec(req.path);
    if (req.method !== 'GET' || !m) return undefined;
    if (m[1] !== 'octo-org' || m[2] !== 'hello-world')
      return {
        status: 404,
        body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' },
      };
    const def = shapes[m[3]!]!;
    const since = req.query.get('since');
    const state = req.query.get('state') ?? 'open';
    const base = `${ctx.url}/repos/${m[1]}/${m[2]}`;
    let rows = def
      .rows(ctx.items)
      .filter((i) => !def.since || since === null || i.updated >= Date.parse(since))
      .filter((i) => state === 'all' || m[3] !== 'issues' || (state === 'closed') === (i.n % 3 === 0));
    rows =
      req.query.get('sort') === 'updated'
        ? rows.sort(
            (a, b) => (req.query.get('direction') === 'asc' ? 1 : -1) * (a.updated - b.updated || a.n - b.n),
          )
        : rows.sort((a, b) => b.n - a.n);
    const perPage = ctx.pageCap(Number(req.query.get('per_page') ?? 30), 100, 30);
    const page = Number(req.query.get('page') ?? 1);
    const slice = rows.slice((page - 1) * perPage, page * perPage);
    const link = (p: number, rel: string) => {
      const q = new URLSearchParams(req.query);
      q.set('page', String(p));
      return `<${ctx.url}${req.path}?${q.toString()}>; rel="${rel}"`;
    };
    const last = Math.max(1, Math.ceil(rows.length / perPage));
    const links = [
      ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ...(page > 1 ? [link(1, 'first')] : []),
    ];
    const headers: Record<string, string> = links.length ? { link: links.join(', ') } : {};
    return { body: slice.map((i) => def.shape(i, base)), headers };
  },
  rateLimited: () => ({
    status: 403,
    headers: { 'retry-after': '1' },
    body: {
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
    },
  }),
  fatal: () => ({
    status: 401,
    body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
  }),
  okHeaders: (ctx) => ({
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': String(Math.max(1, 5000 - ctx.served)),
    'x-ratelimit-used': String(ctx.served),
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    'x-ratelimit-resource': 'core',
    'x-github-request-id': `R${ctx.served}`,
  }),
};

export function startGitHubRestSimulator(options?: CatalogSimulatorOptions): Promise<CatalogSimulator> {
  return startCatalogServer('github-rest', githubRestShape, options);
}
