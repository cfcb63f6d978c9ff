/**
 * Salesforce Bulk API 2.0 query jobs, as documented: POST /services/data/vXX.X/jobs/query with
 * `{ operation: "query", query: "<SOQL>" }` creates a job (state UploadComplete); GET
 * …/jobs/query/{id} answers its JobInfo (UploadComplete → InProgress → JobComplete, or Failed with an
 * errorMessage, or Aborted) with numberRecordsProcessed; GET …/jobs/query/{id}/results answers CSV
 * (every value quoted, a header row) in pages of `maxRecords`, the next page named by the
 * `Sforce-Locator` header ("null" on the last) and sent back as `locator`, with the page's record count
 * in `Sforce-NumberOfRecords`; PATCH …/jobs/query/{id} with `{ state: "Aborted" }` aborts it. A deleted
 * job (results past their retention) answers 404 NOT_FOUND. Errors are lists `[{ errorCode, message }]`.
 */
import http from 'node:http';
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

export const SALESFORCE_BULK_VERSION = 'v63.0';
/** The session token the simulator accepts (as `Authorization: Bearer …`). */
export const SALESFORCE_BULK_TOKEN = '00Dsim!bulk-session';

export interface SalesforceBulkOptions {
  /** Accounts in the org (default 5,000). */
  records?: number;
  /** Records per results page when the request gives no maxRecords (default 2,000). */
  pageRecords?: number;
  faults?: BulkFaults;
}

interface Job {
  id: string;
  object: string;
  fields: string[];
  set: RowSet;
  polls: number;
  state: 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';
  deleted: boolean;
  created: string;
}

export interface SalesforceBulkSimulator {
  readonly url: string;
  readonly requests: BulkRequest[];
  readonly jobs: ReadonlyMap<string, Job>;
  /** Marks records as changed now (an incremental job sees them). */
  touch(ns: number[]): void;
  /** Replaces the faults (jobs already finished keep their state). */
  faults(f: BulkFaults): void;
  close(): Promise<void>;
}

const SOQL =
  /^SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+SystemModstamp\s*(>=?)\s*(\S+))?\s*(?:ORDER BY .*)?$/i;

const sfTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

export async function startSalesforceBulkSimulator(
  options: SalesforceBulkOptions = {},
): Promise<SalesforceBulkSimulator> {
  const count = options.records ?? 5000;
  const pageRecords = options.pageRecords ?? 2000;
  let faults: BulkFaults = { ...options.faults };
  const touched = new Map<number, number>();
  const jobs = new Map<string, Job>();
  const requests: BulkRequest[] = [];
  let seq = 0;
  const base = `/services/data/${SALESFORCE_BULK_VERSION}/jobs/query`;
  const errors = (res: http.ServerResponse, status: number, errorCode: string, message: string) =>
    sendJson(res, status, [{ errorCode, message }]);

  const jobInfo = (j: Job) => ({
    id: j.id,
    operation: 'query',
    object: j.object,
    createdById: '005sim000000001AAA',
    createdDate: j.created,
    systemModstamp: j.created,
    state: j.state,
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: Number(SALESFORCE_BULK_VERSION.slice(1)),
    jobType: 'V2Query',
    lineEnding: 'LF',
    columnDelimiter: 'COMMA',
    numberRecordsProcessed:
      j.state === 'JobComplete' ? Math.max(0, rowCount(j.set) + (faults.countSkew ?? 0)) : 0,
    retries: 0,
    totalProcessingTime: j.polls * 100,
    ...(j.state === 'Failed'
      ? { errorMessage: "INVALID_FIELD: No such column 'Secret__c' on entity 'Account'" }
      : {}),
  });

  const value = (field: string, n: number): string => {
    switch (field.toLowerCase()) {
      case 'id':
        return `0015g00000${String(n).padStart(8, '0')}`;
      case 'name':
        return `Account ${n}, "bulk"`;
      case 'systemmodstamp':
        return sfTime(bulkUpdated(n, touched));
      case 'industry':
        return n % 2 ? 'Technology' : 'Retail';
      default:
        return '';
    }
  };
  const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        at: Date.now(),
      });
      if (req.headers.authorization !== `Bearer ${SALESFORCE_BULK_TOKEN}`)
        return errors(res, 401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      if (url.pathname === base && req.method === 'POST') {
        const body = (await readJson(req)) as { operation?: string; query?: string } | undefined;
        if (body?.operation !== 'query' && body?.operation !== 'queryAll')
          return errors(res, 400, 'API_ERROR', 'operation: expected query or queryAll');
        const m = SOQL.exec(body.query ?? '');
        if (!m) return errors(res, 400, 'API_ERROR', `MALFORMED_QUERY: unexpected query ${body.query}`);
        const since = m[4] ? Date.parse(m[4]) : null;
        if (m[4] && Number.isNaN(since))
          return errors(res, 400, 'API_ERROR', `INVALID_FIELD: bad date ${m[4]}`);
        const id = `750sim${String(++seq).padStart(12, '0')}`;
        const job: Job = {
          id,
          object: m[2]!,
          fields: m[1]!.split(',').map((f) => f.trim()),
          set: { rows: jobRows(count, touched, since), count },
          polls: 0,
          state: 'UploadComplete',
          deleted: false,
          created: sfTime(Date.now()),
        };
        jobs.set(id, job);
        return sendJson(res, 200, jobInfo(job));
      }
      const m = new RegExp(`^${base}/([^/]+)(/results)?$`).exec(url.pathname);
      const job = m ? jobs.get(decodeURIComponent(m[1]!)) : undefined;
      if (!m || !job || job.deleted)
        return errors(res, 404, 'NOT_FOUND', 'The requested resource does not exist');
      if (!m[2] && req.method === 'PATCH') {
        const body = (await readJson(req)) as { state?: string } | undefined;
        if (body?.state !== 'Aborted') return errors(res, 400, 'INVALIDJOBSTATE', 'state: expected Aborted');
        if (job.state === 'JobComplete' || job.state === 'Failed')
          return errors(res, 400, 'INVALIDJOBSTATE', `Job is already ${job.state}`);
        job.state = 'Aborted';
        return sendJson(res, 200, jobInfo(job));
      }
      if (!m[2] && req.method === 'GET') {
        job.polls++;
        if (job.state === 'UploadComplete' || job.state === 'InProgress') {
          if (faults.failJob) job.state = 'Failed';
          else if (job.polls > (faults.slowPolls ?? 1)) job.state = 'JobComplete';
          else if (job.polls > 1) job.state = 'InProgress';
        } else if (job.state === 'JobComplete' && (faults.expireJobs ?? 0) > 0) {
          faults = { ...faults, expireJobs: faults.expireJobs! - 1 };
          job.deleted = true;
          return errors(res, 404, 'NOT_FOUND', 'The requested resource does not exist');
        }
        return sendJson(res, 200, jobInfo(job));
      }
      if (m[2] && req.method === 'GET') {
        if (job.state !== 'JobComplete')
          return errors(res, 400, 'INVALIDJOBSTATE', `Results are not available: the job is ${job.state}`);
        // Salesforce has no "expired" state: a job past its retention is deleted, results and all.
        if ((faults.expireDownloads ?? 0) > 0 || (faults.expireJobs ?? 0) > 0) {
          faults =
            (faults.expireDownloads ?? 0) > 0
              ? { ...faults, expireDownloads: faults.expireDownloads! - 1 }
              : { ...faults, expireJobs: faults.expireJobs! - 1 };
          job.deleted = true;
          return errors(res, 404, 'NOT_FOUND', 'The requested resource does not exist');
        }
        const max = Number(url.searchParams.get('maxRecords') ?? pageRecords);
        const locator = url.searchParams.get('locator');
        const from = locator ? Number(Buffer.from(locator, 'base64url').toString('utf8').split(':')[1]) : 0;
        const total = rowCount(job.set);
        if (!Number.isInteger(from) || from < 0 || from > total)
          return errors(res, 400, 'INVALID_LOCATOR', `invalid locator ${locator}`);
        const to = Math.min(total, from + max);
        res.writeHead(200, {
          'content-type': 'text/csv',
          'sforce-locator': to < total ? Buffer.from(`${job.id}:${to}`).toString('base64url') : 'null',
          'sforce-numberofrecords': String(to - from),
        });
        return writeRows(
          res,
          job.set,
          from,
          to,
          (n) => `${job.fields.map((f) => quote(value(f, n))).join(',')}\n`,
          {
            head: `${job.fields.map(quote).join(',')}\n`,
            ...(faults.truncate ? { truncate: true } : {}),
            ...(faults.sliceDelayMs ? { sliceDelayMs: faults.sliceDelayMs } : {}),
          },
        );
      }
      return errors(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} not allowed`);
    })().catch((error: unknown) => {
      if (!res.headersSent) errors(res, 500, 'UNKNOWN_EXCEPTION', String(error));
      else res.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    jobs,
    touch: (ns) => {
      for (const n of ns) touched.set(n, Date.now() - 1000);
    },
    faults: (f) => {
      faults = { ...f };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
