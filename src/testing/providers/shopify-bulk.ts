/**
 * Shopify bulk operations, as documented: POST /admin/api/2025-01/graphql.json (X-Shopify-Access-Token)
 * with the mutation `bulkOperationRunQuery(query: …)` starts one (status CREATED; one query operation
 * at a time per shop, else a userError); `node(id: …) { … on BulkOperation }` or `currentBulkOperation`
 * answer its status (CREATED → RUNNING → COMPLETED, or FAILED with an errorCode, CANCELING → CANCELED,
 * EXPIRED), `objectCount` (a string) and, once completed, `url`: a JSON Lines file on a separate
 * storage host, signed and short-lived (an expired signature answers 403 ExpiredToken; each status
 * answer signs a fresh one). `bulkOperationCancel(id: …)` cancels it. Products are the records.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  bulkUpdated,
  jobRows,
  readJson,
  rowCount,
  sendJson,
  writeRows,
  type BulkFaults,
  type BulkRequest,
  type RowSet,
} from './bulk-kit.js';

export const SHOPIFY_BULK_VERSION = '2025-01';
export const SHOPIFY_BULK_TOKEN = 'shpat_sim_bulk';

export interface ShopifyBulkOptions {
  /** Products in the shop (default 5,000). */
  records?: number;
  /** Result files are gzip (file-level), as some storage hosts serve them. */
  gzip?: boolean;
  faults?: BulkFaults;
}

type Status = 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELING' | 'CANCELED' | 'EXPIRED';

interface Operation {
  id: string;
  n: number;
  set: RowSet;
  polls: number;
  status: Status;
  created: string;
  completed: string | null;
}

export interface ShopifyBulkSimulator {
  readonly url: string;
  /** The storage host's origin (result files). */
  readonly storageUrl: string;
  readonly requests: BulkRequest[];
  readonly operations: ReadonlyMap<string, Operation>;
  touch(ns: number[]): void;
  faults(f: BulkFaults): void;
  close(): Promise<void>;
}

const FILTER = /updated_at:\s*>=?\s*'?([0-9T:.\-+Z]+)'?/;

export async function startShopifyBulkSimulator(
  options: ShopifyBulkOptions = {},
): Promise<ShopifyBulkSimulator> {
  const count = options.records ?? 5000;
  let faults: BulkFaults = { ...options.faults };
  const touched = new Map<number, number>();
  const ops = new Map<string, Operation>();
  const requests: BulkRequest[] = [];
  /** Signatures handed out: signature → operation id and when it stops working. */
  const signatures = new Map<string, { op: string; until: number }>();
  let seq = 0;
  let storageUrl = '';

  const view = (op: Operation) => {
    const done = op.status === 'COMPLETED';
    const objects = done
      ? Math.max(0, rowCount(op.set) + (faults.countSkew ?? 0))
      : op.status === 'RUNNING'
        ? Math.floor(rowCount(op.set) / 2)
        : 0;
    let url: string | null = null;
    if (done && rowCount(op.set) > 0) {
      const sig = randomBytes(12).toString('hex');
      signatures.set(sig, { op: op.id, until: Date.now() + 600_000 });
      url = `${storageUrl}/shopify-bulk/${op.n}.jsonl?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=600&X-Goog-Signature=${sig}`;
    }
    return {
      id: op.id,
      status: op.status,
      errorCode: op.status === 'FAILED' ? 'INTERNAL_SERVER_ERROR' : null,
      createdAt: op.created,
      completedAt: op.completed,
      objectCount: String(objects),
      rootObjectCount: String(objects),
      fileSize: done ? String(rowCount(op.set) * 120) : null,
      url,
      partialDataUrl: null,
      type: 'QUERY',
    };
  };

  const advance = (op: Operation) => {
    op.polls++;
    if (op.status === 'CREATED' || op.status === 'RUNNING') {
      if (faults.failJob) op.status = 'FAILED';
      else if (op.polls > (faults.slowPolls ?? 1)) {
        op.status = 'COMPLETED';
        op.completed = new Date().toISOString();
      } else if (op.polls > 1) op.status = 'RUNNING';
    } else if (op.status === 'CANCELING') op.status = 'CANCELED';
    else if (op.status === 'COMPLETED' && (faults.expireJobs ?? 0) > 0) {
      faults = { ...faults, expireJobs: faults.expireJobs! - 1 };
      op.status = 'EXPIRED';
    }
  };
  const running = () => [...ops.values()].find((o) => ['CREATED', 'RUNNING', 'CANCELING'].includes(o.status));

  const api = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        at: Date.now(),
      });
      if (req.headers['x-shopify-access-token'] !== SHOPIFY_BULK_TOKEN)
        return sendJson(res, 401, {
          errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
        });
      if (url.pathname !== `/admin/api/${SHOPIFY_BULK_VERSION}/graphql.json` || req.method !== 'POST')
        return sendJson(res, 404, { errors: 'Not Found' });
      const body = (await readJson(req)) as
        { query?: string; variables?: Record<string, unknown> } | undefined;
      const q = body?.query ?? '';
      const vars = body?.variables ?? {};
      if (q.includes('bulkOperationRunQuery')) {
        const inner =
          typeof vars.query === 'string' ? vars.query : (/query:\s*"""([\s\S]*?)"""/.exec(q)?.[1] ?? '');
        const busy = running();
        if (busy)
          return sendJson(res, 200, {
            data: {
              bulkOperationRunQuery: {
                bulkOperation: null,
                userErrors: [
                  {
                    field: null,
                    message: `A bulk query operation for this app and shop is already in progress: ${busy.id}.`,
                  },
                ],
              },
            },
          });
        if (!/products/.test(inner))
          return sendJson(res, 200, {
            data: {
              bulkOperationRunQuery: {
                bulkOperation: null,
                userErrors: [
                  { field: ['query'], message: 'Invalid bulk query: only products are simulated' },
                ],
              },
            },
          });
        const f = FILTER.exec(inner);
        const since = f ? Date.parse(f[1]!) : null;
        const n = ++seq;
        const op: Operation = {
          id: `gid://shopify/BulkOperation/${1000 + n}`,
          n,
          set: { rows: jobRows(count, touched, since), count },
          polls: 0,
          status: 'CREATED',
          created: new Date().toISOString(),
          completed: null,
        };
        ops.set(op.id, op);
        return sendJson(res, 200, {
          data: {
            bulkOperationRunQuery: { bulkOperation: { id: op.id, status: op.status }, userErrors: [] },
          },
        });
      }
      if (q.includes('bulkOperationCancel')) {
        const op = ops.get(typeof vars.id === 'string' ? vars.id : '');
        if (!op)
          return sendJson(res, 200, {
            data: {
              bulkOperationCancel: {
                bulkOperation: null,
                userErrors: [{ field: ['id'], message: 'Bulk operation does not exist' }],
              },
            },
          });
        if (op.status === 'CREATED' || op.status === 'RUNNING') op.status = 'CANCELING';
        return sendJson(res, 200, {
          data: { bulkOperationCancel: { bulkOperation: { id: op.id, status: op.status }, userErrors: [] } },
        });
      }
      if (q.includes('currentBulkOperation')) {
        const op = [...ops.values()].at(-1);
        if (op) advance(op);
        return sendJson(res, 200, { data: { currentBulkOperation: op ? view(op) : null } });
      }
      if (/\bnode\s*\(/.test(q)) {
        const op = ops.get(typeof vars.id === 'string' ? vars.id : '');
        if (op) advance(op);
        return sendJson(res, 200, { data: { node: op ? view(op) : null } });
      }
      return sendJson(res, 200, { errors: [{ message: 'unsupported query in the simulator' }] });
    })().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { errors: String(error) });
      else res.destroy();
    });
  });

  const storage = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      at: Date.now(),
    });
    const expiredAnswer = () => {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>",
      );
    };
    const m = /^\/shopify-bulk\/(\d+)\.jsonl$/.exec(url.pathname);
    const signed = signatures.get(url.searchParams.get('X-Goog-Signature') ?? '');
    const op = m ? [...ops.values()].find((o) => o.n === Number(m[1])) : undefined;
    if (!m || !op || !signed || signed.op !== op.id) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end("<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code></Error>");
      return;
    }
    if (signed.until < Date.now() || op.status === 'EXPIRED') return expiredAnswer();
    if ((faults.expireDownloads ?? 0) > 0) {
      faults = { ...faults, expireDownloads: faults.expireDownloads! - 1 };
      signed.until = 0;
      return expiredAnswer();
    }
    res.writeHead(200, { 'content-type': options.gzip ? 'application/gzip' : 'application/jsonl' });
    void writeRows(
      res,
      op.set,
      0,
      rowCount(op.set),
      (n) =>
        `${JSON.stringify({ id: `gid://shopify/Product/${n}`, title: `Product ${n}`, status: n % 5 ? 'ACTIVE' : 'DRAFT', updatedAt: new Date(bulkUpdated(n, touched)).toISOString() })}\n`,
      {
        ...(options.gzip ? { gzip: true } : {}),
        ...(faults.truncate ? { truncate: true } : {}),
        ...(faults.sliceDelayMs ? { sliceDelayMs: faults.sliceDelayMs } : {}),
      },
    );
  });

  const listen = async (s: http.Server, host?: string) => {
    if (host) s.listen(0, host);
    else s.listen(0);
    await new Promise((r) => s.once('listening', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  const url = await listen(api, '127.0.0.1');
  // Another origin: the storage host gets no credentials.
  storageUrl = (await listen(storage)).replace('127.0.0.1', 'localhost');
  const close = (s: http.Server) =>
    new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  return {
    url,
    storageUrl,
    requests,
    operations: ops,
    touch: (ns) => {
      for (const n of ns) touched.set(n, Date.now() - 1000);
    },
    faults: (f) => {
      faults = { ...f };
    },
    close: async () => {
      await close(api);
      await close(storage);
    },
  };
}
