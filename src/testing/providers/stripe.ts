/**
 * Stripe, as documented for list endpoints: GET /v1/{customers,invoices,events}, newest first,
 * `limit` (at most 100) and `starting_after` (an object id), `created[gte]`/`created[gt]` filters,
 * `{ object: "list", data, has_more, url }`. Errors are `{ error: { type, code, message } }`; too many
 * requests is a 429 with `error.code: rate_limit` (Stripe sends no Retry-After: clients back off).
 */
import {
  pad,
  startCatalogServer,
  unix,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type ProviderShape,
} from './kit.js';

const lists: Record<string, (i: CatalogItem) => Record<string, unknown>> = {
  customers: (i) => ({
    id: `cus_${pad(i.n)}`,
    object: 'customer',
    name: i.name,
    email: `customer${i.n}@example.com`,
    created: unix(i.created),
  }),
  invoices: (i) => ({
    id: `in_${pad(i.n)}`,
    object: 'invoice',
    customer: `cus_${pad(i.n)}`,
    status: i.n % 5 === 0 ? 'open' : 'paid',
    total: i.n * 100,
    currency: 'usd',
    created: unix(i.created),
  }),
  // One event per item, created when the item last changed (a created item is a customer.created).
  events: (i) => ({
    id: `evt_${pad(i.n)}_${unix(i.updated)}`,
    object: 'event',
    type: i.updated === i.created ? 'customer.created' : 'customer.updated',
    created: unix(i.updated),
    data: { object: { id: `cus_${pad(i.n)}`, object: 'customer', name: i.name } },
  }),
};

export const stripeShape: ProviderShape = {
  route(req, ctx) {
    const m = /^\/v1\/(customers|invoices|events)$/.exec(req.path);
    if (req.method !== 'GET' || !m) return undefined;
    const shape = lists[m[1]!]!;
    const gte = req.query.get('created[gte]');
    const gt = req.query.get('created[gt]');
    const all = ctx.items
      .map(shape)
      .filter(
        (r) =>
          (gte === null || Number(r.created) >= Number(gte)) &&
          (gt === null || Number(r.created) > Number(gt)),
      )
      .sort((a, b) => Number(b.created) - Number(a.created) || String(b.id).localeCompare(String(a.id)));
    const after = req.query.get('starting_after');
    const from = after ? all.findIndex((r) => r.id === after) + 1 : 0;
    if (after && from === 0)
      return {
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            message: `No such object: '${after}'`,
            param: 'starting_after',
          },
        },
      };
    const limit = Number(req.query.get('limit') ?? 10);
    if (limit > 100)
      return {
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            message: 'Invalid integer: limit must be at most 100',
            param: 'limit',
          },
        },
      };
    const page = all.slice(from, from + ctx.pageCap(limit, 100, 10));
    return { body: { object: 'list', data: page, has_more: from + page.length < all.length, url: req.path } };
  },
  rateLimited: () => ({
    status: 429,
    body: {
      error: {
        type: 'invalid_request_error',
        code: 'rate_limit',
        message:
          'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
      },
    },
  }),
  fatal: () => ({
    status: 401,
    body: {
      error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_********0000' },
    },
  }),
  okHeaders: (ctx) => ({ 'request-id': `req_${ctx.served}` }),
};

export function startStripeSimulator(options?: CatalogSimulatorOptions): Promise<CatalogSimulator> {
  return startCatalogServer('stripe', stripeShape, options);
}
