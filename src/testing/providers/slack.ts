/**
 * Slack Web API, as documented: GET /api/conversations.list (`channels`), /api/users.list (`members`)
 * and /api/conversations.history (`messages`, newest first, `oldest` as a Unix time with a fraction,
 * `has_more`), each with `limit` (at most 1000; 200 advised) and `cursor`; the next cursor in
 * `response_metadata.next_cursor`, "" on the last page. Every answer has `ok`; errors are 200 with
 * `{ ok: false, error }`; a rate limit is a 429 with Retry-After and `{ ok: false, error: "ratelimited" }`.
 */
import {
  decodeCursor,
  encodeCursor,
  pad,
  startCatalogServer,
  unix,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

export const SLACK_CHANNEL = 'C0123456789';
/** A message's ts: its creation time with a per-item fraction, unique as Slack's are. */
export const slackTs = (i: CatalogItem) => `${unix(i.created)}.${String(i.n).padStart(6, '0')}`;

const fail = (error: string) => ({ body: { ok: false, error } });

export const slackShape: ProviderShape = {
  route(req, ctx) {
    if (req.headers.authorization !== 'Bearer xoxb-test') return fail('invalid_auth');
    const method = /^\/api\/([a-z.]+)$/.exec(req.path)?.[1];
    let rows: object[];
    let key: string;
    let extra: Record<string, unknown> = {};
    const sorted = [...ctx.items].sort((a, b) => a.n - b.n);
    if (method === 'conversations.list') {
      key = 'channels';
      rows = sorted.map((i) => ({
        id: `C${pad(i.n, 10)}`,
        name: `channel-${i.n}`,
        is_channel: true,
        is_private: i.n % 5 === 0,
        is_archived: false,
        created: unix(i.created),
        num_members: i.n % 30,
      }));
    } else if (method === 'users.list') {
      key = 'members';
      rows = sorted.map((i) => ({
        id: `U${pad(i.n, 10)}`,
        team_id: 'T0123456789',
        name: `user${i.n}`,
        real_name: i.name,
        deleted: false,
        is_bot: i.n % 10 === 0,
        updated: unix(i.updated),
        profile: { email: `user${i.n}@example.com`, display_name: `user${i.n}` },
      }));
    } else if (method === 'conversations.history') {
      if (req.query.get('channel') !== SLACK_CHANNEL) return fail('channel_not_found');
      const oldest = Number(req.query.get('oldest') ?? 0);
      key = 'messages';
      rows = ctx.items
        .filter((i) => Number(slackTs(i)) > oldest)
        .sort((a, b) => b.created - a.created || b.n - a.n)
        .map((i) => ({
          type: 'message',
          user: `U${pad(i.n % 20, 10)}`,
          text: `Message ${i.n}`,
          ts: slackTs(i),
          ...(i.updated !== i.created
            ? { edited: { user: 'U0000000001', ts: `${unix(i.updated)}.000000` } }
            : {}),
        }));
    } else {
      return fail('unknown_method');
    }
    const limit = ctx.pageCap(Number(req.query.get('limit') ?? 100), 1000, 100);
    const from = decodeCursor(req.query.get('cursor'));
    const page = rows.slice(from, from + limit);
    const end = from + page.length;
    const more = end < rows.length;
    if (method === 'conversations.history') extra = { has_more: more, pin_count: 0 };
    return {
      body: {
        ok: true,
        [key]: page,
        ...extra,
        response_metadata: { next_cursor: more ? encodeCursor(end) : '' },
      },
    };
  },
  rateLimited: () => ({
    status: 429,
    headers: { 'retry-after': '1' },
    body: { ok: false, error: 'ratelimited' },
  }),
  fatal: () => fail('not_in_channel'),
};

export function startSlackSimulator(options?: CatalogSimulatorOptions): Promise<CatalogSimulator> {
  return startCatalogServer('slack', slackShape, options);
}
