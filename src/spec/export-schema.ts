/**
 * The `export` section of a resource: an asynchronous bulk export (Salesforce Bulk API 2.0 query jobs,
 * Shopify bulk operations, report endpoints). A job is submitted, its status polled by the workflow on
 * durable timers, then its result files (or result pages) are downloaded as a stream and committed in
 * chunks like any streamed answer.
 */
import { z } from 'zod';
import { dotPath } from '../json/path.js';

/** A request of an export step: any method (Salesforce aborts a job with a PATCH), templated. */
export const exportRequestSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  /** Path template under baseUrl; `{job.id}` is the submitted job's id. */
  path: z.string().startsWith('/', 'must start with "/"'),
  query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown().optional(),
  /** A GraphQL request, POSTed as `{ query, variables }`; the variables are templates. */
  graphql: z
    .strictObject({ query: z.string().min(1), variables: z.record(z.string(), z.unknown()).default({}) })
    .optional(),
});
export type ExportRequest = z.infer<typeof exportRequestSchema>;

/** The states the engine knows; a provider's own state names are mapped onto them. */
export const EXPORT_STATES = ['pending', 'running', 'completed', 'failed', 'expired'] as const;
export type ExportJobState = (typeof EXPORT_STATES)[number];

const stateNames = z.array(z.string().min(1)).default([]);

const seconds = z.number().positive();

export const exportSchema = z.strictObject({
  submit: z.strictObject({
    request: exportRequestSchema,
    /** Where the answer names the new job, e.g. `id` or `data.bulkOperationRunQuery.bulkOperation.id`. */
    jobIdPath: dotPath().min(1),
    /** Where the answer says the job was refused (GraphQL `userErrors`): a value there fails the run. */
    errorPath: dotPath().min(1).optional(),
  }),
  status: z.strictObject({
    request: exportRequestSchema,
    /** Where the answer holds the provider's state name. */
    statePath: dotPath().min(1),
    /** The provider's state names for each of ours; a name in none of them is a spec problem at run time. */
    states: z.strictObject({
      pending: stateNames,
      running: stateNames,
      completed: z.array(z.string().min(1)).min(1, 'name the state(s) of a finished job'),
      failed: stateNames,
      /** The job (or its results) is gone: it is submitted again. */
      expired: stateNames,
    }),
    /** How many records the job produced: the download must parse exactly that many. */
    recordCountPath: dotPath().min(1).optional(),
    /** The provider's explanation of a failed job, shown in the run's error. */
    messagePath: dotPath().min(1).optional(),
    /** A suggested wait before the next poll, in seconds: a field of the answer (Retry-After is always read). */
    retryAfterPath: dotPath().min(1).optional(),
    /** Polling: the first wait, growing by `backoff` per poll up to `maxSeconds`; a suggestion is clamped. */
    interval: z
      .strictObject({
        initialSeconds: seconds.default(2),
        minSeconds: seconds.default(1),
        maxSeconds: seconds.default(60),
        backoff: z.number().min(1).default(1.5),
      })
      .default({ initialSeconds: 2, minSeconds: 1, maxSeconds: 60, backoff: 1.5 }),
    /** Give up (a failed run) when the job has not finished after this long. */
    timeoutSeconds: seconds.default(86_400),
  }),
  /** Where the records are: one of urlPath, urlsPath (in the status answer) or pages. */
  results: z
    .strictObject({
      /** One file's URL in the status answer (Shopify's `url`). */
      urlPath: dotPath().min(1).optional(),
      /** A list of file URLs in the status answer (a path with `*` collects them). */
      urlsPath: dotPath().min(1).optional(),
      /** A results endpoint paged by a locator header (Salesforce Bulk 2.0). */
      pages: z
        .strictObject({
          request: exportRequestSchema,
          /** The response header naming the next page's locator. */
          locatorHeader: z.string().min(1),
          /** The query parameter the locator is sent in. */
          locatorParam: z.string().min(1),
          /** Header values that mean "no more pages" (an absent header too). */
          lastLocator: z.array(z.string()).default(['null', '']),
          /** A header with the page's record count: a page that decodes to another count fails the run. */
          countHeader: z.string().min(1).optional(),
        })
        .optional(),
      /** Answers of a results download that mean "this URL expired": the status is polled again. */
      expiredStatuses: z.array(z.number().int().min(400).max(599)).default([403, 404, 410]),
    })
    .refine((r) => [r.urlPath, r.urlsPath, r.pages].filter((v) => v !== undefined).length === 1, {
      message: 'give exactly one of urlPath, urlsPath or pages',
    }),
  download: z.strictObject({
    format: z.enum(['jsonl', 'csv']),
    /** `auto` recognises a gzip file by its magic bytes. */
    compression: z.enum(['auto', 'none', 'gzip', 'deflate']).default('auto'),
    delimiter: z.string().length(1).default(','),
    /** Records per committed chunk (each a page with its own checkpoint). */
    chunkRecords: z.number().int().positive().max(100_000).default(2000),
  }),
  /** Cancels the provider's job when the run is cancelled. */
  cancel: z.strictObject({ request: exportRequestSchema }).optional(),
});
export type ExportSpec = z.infer<typeof exportSchema>;

/** The placeholder of the job id in step templates. */
export const JOB_ID = 'job.id';

/**
 * An export resource may leave `request` out: the submit request stands in for it (the resource's
 * request is what the rest of the spec language reads, e.g. its method in error messages).
 */
export function withExportRequest(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  if (!('export' in v) || 'request' in v) return v;
  const submit = (v.export as { submit?: { request?: { path?: unknown; method?: unknown } } } | null)?.submit
    ?.request;
  const path = typeof submit?.path === 'string' && submit.path.startsWith('/') ? submit.path : '/';
  return { ...v, request: { method: submit?.method === 'GET' ? 'GET' : 'POST', path } };
}
