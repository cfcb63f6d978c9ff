/**
 * Jira Cloud platform REST v3, as documented: GET /rest/api/3/search/jql (the enhanced search that
 * replaced /search): `jql` (bounded), `fields`, `maxResults` and `nextPageToken`; answers `{ issues,
 * nextPageToken, isLast }` with no total. GET /rest/api/3/project/search pages by `startAt` /
 * `maxResults` with `total` and `isLast`. Rate limits: a 429 with Retry-After and X-RateLimit-* /
 * RateLimit-Reason headers. Errors are `{ errorMessages: [...], errors: {} }`.
 */
import {
  decodeCursor,
  encodeCursor,
  iso,
  startCatalogServer,
  type CatalogReply,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

export const JIRA_PROJECT = 'SW';

const bad = (message: string): CatalogReply => ({
  status: 400,
  body: { errorMessages: [message], errors: {} },
});

/** `yyyy/MM/dd HH:mm` in UTC (the simulated account's time zone). */
function jqlDate(text: string): number {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2})$/.exec(text);
  if (!m) throw new Error(`Date value '${text}' for field 'updated' is invalid.`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
}

/** Jira's updated timestamps: `2026-01-01T00:00:00.000+0000`. */
const jiraTime = (ms: number) => iso(ms).replace('Z', '+0000');

export const jiraShape: ProviderShape = {
  route(req, ctx) {
    if (req.method !== 'GET') return undefined;
    if (req.path === '/rest/api/3/search/jql') {
      const jql = req.query.get('jql') ?? '';
      const m =
        /^project = "((?:[^"\\]|\\.)*)"(?: AND updated >= "([^"]+)")?(?: ORDER BY updated ASC)?$/.exec(jql);
      if (!m) return bad(`Error in the JQL Query: unsupported query ${jql}`);
      const project = m[1]!.replace(/\\(.)/g, '$1');
      if (project !== JIRA_PROJECT)
        return bad(`The value '${project}' does not exist for the field 'project'.`);
      if (!m[2])
        return bad(
          'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
        );
      const since = jqlDate(m[2]);
      const fields = (req.query.get('fields') ?? 'id').split(',');
      const rows = ctx.items
        .filter((i) => i.updated >= since)
        .sort((a, b) => a.updated - b.updated || a.n - b.n);
      const from = decodeCursor(req.query.get('nextPageToken'));
      const page = rows.slice(from, from + ctx.pageCap(Number(req.query.get('maxResults') ?? 50), 5000, 50));
      const end = from + page.length;
      const all: Record<string, (n: number, u: number, c: number) => unknown> = {
        summary: (n) => `Item ${n}`,
        status: (n) => ({ name: n % 3 ? 'To Do' : 'Done' }),
        updated: (_, u) => jiraTime(u),
        created: (_, __, c) => jiraTime(c),
      };
      return {
        body: {
          issues: page.map((i) => ({
            id: String(10000 + i.n),
            key: `${JIRA_PROJECT}-${i.n}`,
            self: `${ctx.url}/rest/api/3/issue/${10000 + i.n}`,
            fields: Object.fromEntries(
              fields.filter((f) => f in all).map((f) => [f, all[f]!(i.n, i.updated, i.created)]),
            ),
          })),
          ...(end < rows.length ? { nextPageToken: encodeCursor(end) } : {}),
          isLast: end >= rows.length,
        },
      };
    }
    if (req.path === '/rest/api/3/project/search') {
      const startAt = Number(req.query.get('startAt') ?? 0);
      const max = ctx.pageCap(Number(req.query.get('maxResults') ?? 50), 100, 50);
      const rows = [...ctx.items].sort((a, b) => a.n - b.n);
      const page = rows.slice(startAt, startAt + max);
      return {
        body: {
          self: `${ctx.url}${req.path}`,
          maxResults: max,
          startAt,
          total: rows.length,
          isLast: startAt + page.length >= rows.length,
          values: page.map((i) => ({
            id: String(20000 + i.n),
            key: `P${i.n}`,
            name: `Project ${i.n}`,
            projectTypeKey: 'software',
            simplified: i.n % 2 === 0,
            style: i.n % 2 === 0 ? 'next-gen' : 'classic',
          })),
        },
      };
    }
    return undefined;
  },
  rateLimited: () => ({
    status: 429,
    headers: {
      'retry-after': '1',
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': new Date(Date.now() + 1000).toISOString(),
      'ratelimit-reason': 'jira-burst-based',
    },
    body: { errorMessages: ['Rate limit exceeded.'], errors: {} },
  }),
  fatal: () => bad("The value 'SW' does not exist for the field 'project'."),
};

export function startJiraSimulator(options?: CatalogSimulatorOptions): Promise<CatalogSimulator> {
  return startCatalogServer('jira', jiraShape, options);
}
