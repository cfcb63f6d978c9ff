/**
 * A billing provider for test/fixtures/airbyte/response-predicates.yaml: customers, and each one's
 * usage; a customer without a plan answers 405 `{status: 405, code: <its code>}`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const BILLING_KEY = 'billing-key-4410';

export interface BillingCustomer {
  id: string;
  /** Usage rows; or the code of a 405 answer (no plan). */
  usage: { id: string; units: number }[] | { code: string };
}

export interface BillingApi {
  url: string;
  customers: BillingCustomer[];
  close(): Promise<void>;
}

export async function startBillingApi(customers: BillingCustomer[]): Promise<BillingApi> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${BILLING_KEY}`) return send(401, { status: 401 });
      if (u.pathname === '/customers') return send(200, { data: customers.map((c) => ({ id: c.id })) });
      const m = /^\/customers\/([^/]+)\/usage$/.exec(u.pathname);
      const customer = m && customers.find((c) => c.id === decodeURIComponent(m[1]!));
      if (!customer) return send(404, { status: 404, code: 'not_found' });
      if ('code' in customer.usage)
        return send(405, { status: 405, error: 'Method Not Allowed', code: customer.usage.code });
      send(200, { data: customer.usage });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    customers,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
