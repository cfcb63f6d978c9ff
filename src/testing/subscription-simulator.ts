/**
 * Testing kit: a provider's webhook subscription endpoints, Microsoft Graph style, in front of a
 * provider simulator (every other request is passed through to it). A real HTTP server:
 *
 * - POST   /subscriptions       { expirationDateTime, ... } → 201 { id, expirationDateTime, ... }
 * - PATCH  /subscriptions/<id>  { expirationDateTime }      → 200, or 404 once expired or removed
 * - DELETE /subscriptions/<id>                              → 204, or 404
 *
 * `lapse()` makes the provider forget a subscription (as Graph does when one expires), so renewals get
 * 404 and the engine must subscribe again and reconcile.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderSimulator } from './simulator.js';

export interface SimSubscription {
  id: string;
  expirationDateTime: string;
  request: Record<string, unknown>;
  renewals: number;
}

export interface SubscriptionSimulator {
  readonly url: string;
  /** Live subscriptions. */
  subscriptions(): SimSubscription[];
  /** Counts of each lifecycle call. */
  readonly calls: { subscribe: number; renew: number; unsubscribe: number; renewRefused: number };
  /** Forgets every subscription, as if they had expired unrenewed. */
  lapse(): void;
  close(): Promise<void>;
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startSubscriptionSimulator(
  provider: ProviderSimulator,
  options: { maxLifetimeMs?: number } = {},
): Promise<SubscriptionSimulator> {
  const live = new Map<string, SimSubscription>();
  const calls = { subscribe: 0, renew: 0, unsubscribe: 0, renewRefused: 0 };
  let next = 1;
  const expiry = (asked: unknown) => {
    const cap = Date.now() + (options.maxLifetimeMs ?? 3 * 24 * 3600 * 1000);
    const ms = typeof asked === 'string' ? Date.parse(asked) : NaN;
    return new Date(Number.isNaN(ms) ? cap : Math.min(ms, cap)).toISOString();
  };
  const current = (id: string) => {
    const s = live.get(id);
    if (s && Date.parse(s.expirationDateTime) <= Date.now()) live.delete(id);
    return live.get(id);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const m = /^\/subscriptions(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) {
      // Everything else is the provider's API.
      void (async () => {
        const upstream = await fetch(`${provider.url}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers: Object.fromEntries(
            Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
          ),
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        const headers: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'connection') headers[k] = v;
        });
        res.writeHead(upstream.status, { ...headers, 'content-length': String(body.length) }).end(body);
      })().catch(() => send(res, 502, { error: 'upstream failed' }));
      return;
    }
    void (async () => {
      const id = m[1] ? decodeURIComponent(m[1]) : undefined;
      if (req.method === 'POST' && !id) {
        const body = await readJson(req);
        calls.subscribe++;
        const s: SimSubscription = {
          id: `sub-${next++}`,
          expirationDateTime: expiry(body.expirationDateTime),
          request: body,
          renewals: 0,
        };
        live.set(s.id, s);
        return send(res, 201, { ...body, id: s.id, expirationDateTime: s.expirationDateTime });
      }
      if (req.method === 'PATCH' && id) {
        const body = await readJson(req);
        const s = current(id);
        if (!s) {
          calls.renewRefused++;
          return send(res, 404, { error: { code: 'ResourceNotFound', message: `no subscription ${id}` } });
        }
        calls.renew++;
        s.renewals++;
        s.expirationDateTime = expiry(body.expirationDateTime);
        return send(res, 200, { id, expirationDateTime: s.expirationDateTime });
      }
      if (req.method === 'DELETE' && id) {
        calls.unsubscribe++;
        return live.delete(id) ? send(res, 204) : send(res, 404, { error: { code: 'ResourceNotFound' } });
      }
      return send(res, 405, { error: 'method not allowed' });
    })().catch(() => send(res, 400, { error: 'bad request' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    subscriptions: () => [...live.keys()].map((k) => current(k)).filter((s): s is SimSubscription => !!s),
    calls,
    lapse: () => live.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
