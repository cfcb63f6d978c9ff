/**
 * The requests of an export job (spec `export`): submit it, poll its status, cancel it, and find its
 * results. Each is a short call through the connection client (auth, rate budget, URL policy); the
 * waiting between polls is the workflow's. What a run knows of its job lives in the run's checkpoint
 * (ExportCheckpoint), so a retried or restarted activity finds the job instead of submitting another.
 */
import { ProviderError, type RequestContext } from '../http/errors.js';
import { parseRetryAfter } from '../http/rate-headers.js';
import { fillBody, fillRecord, TemplateError, type TemplateVars } from '../http/request-template.js';
import type { JsonResponse } from '../http/transport.js';
import { UntrustedUrlError } from '../http/url-policy.js';
import { matchesAtPath, scalarText, valueAtPath, hasWildcard } from '../json/path.js';
import { firstState } from '../pagination/paginate.js';
import { SpecError } from '../spec/errors.js';
import type { ExportRequest, ExportSpec } from '../spec/export-schema.js';
import type { IntegrationSpec, ResourceSpec } from '../spec/schema.js';
import type { SyncRun } from '../store/runs.js';
import type { FillOptions } from '../template/template.js';
import type { ConnectionClient } from './connection-client.js';
import { ExportRefusedError } from './export-errors.js';
import type { ExportJobState, ExportPoll } from './export-poll.js';
import { sinceParam, templateVars } from './request-vars.js';
import { withConnectionStart } from './run-bounds.js';
import { firstWindow, sinceOf, type Window } from './windows.js';

/** What a run's checkpoint holds while it exports (the run row is the truth; the workflow follows it). */
export interface ExportCheckpoint {
  /** Shown as the run's cursor. */
  label: string | null;
  /** The range the job covers, fixed when it was submitted (incremental runs). */
  window: Window | null;
  export: {
    jobId: string;
    phase: 'poll' | 'download' | 'done';
    /** Records the provider said the job produced (null: it does not say). */
    expected: number | null;
    /** The result file (or result page) being read, from 0. */
    file: number;
    /** Result files the status listed (URL modes), when known. */
    files: number | null;
    /** Paged results: the locator of the page being read (null: the first page). */
    locator: string | null;
    /** Records of the current file committed. */
    skip: number;
    /** Records of this job committed, over all its files. */
    parsed: number;
  };
}

export function exportCheckpointOf(checkpoint: unknown): ExportCheckpoint | null {
  if (checkpoint && typeof checkpoint === 'object' && 'export' in checkpoint) {
    const c = checkpoint as ExportCheckpoint;
    return c.export && typeof c.export.jobId === 'string' ? c : null;
  }
  return null;
}

export interface ExportJobContext {
  run: SyncRun;
  spec: IntegrationSpec;
  resource: ResourceSpec;
  exp: ExportSpec;
  client: ConnectionClient;
  fill: FillOptions;
}

/** One status answer, read: the engine's state and what the provider said with it. */
export interface StatusAnswer {
  poll: ExportPoll;
  /** Result file URLs (urlPath / urlsPath modes); never stored or returned to the workflow. */
  urls: string[];
}

function numberOf(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return Number(v);
  return null;
}

export function createExportSteps(ctx: ExportJobContext) {
  const { run, spec, resource, exp, client, fill } = ctx;
  // Start and end bounds resolved as for paged resources (config values, `{now}` at the run's start).
  const inc = withConnectionStart(
    resource.incremental,
    client.config,
    `connection ${run.integration}/${run.connection}`,
    run.startedAt.getTime(),
  );
  const context = (method: string, url: URL): RequestContext => ({
    integration: run.integration,
    connection: run.connection,
    resource: run.resource,
    method,
    path: url.pathname,
  });

  const varsOf = (window: Window | null, jobId?: string): TemplateVars =>
    templateVars(
      firstState(resource.pagination),
      window,
      window?.start ?? null,
      client.config,
      {},
      jobId === undefined ? undefined : { id: jobId },
    );

  /** The URL, headers and body of a step, filled; a template that cannot be filled is a spec error. */
  function build(
    step: string,
    req: ExportRequest,
    vars: TemplateVars,
    extraQuery: Record<string, string> = {},
  ) {
    try {
      const url = client.urlFor(client.fillPath(req.path, {}, vars, fill));
      const query = { ...fillRecord(req.query, vars, 'query', fill), ...extraQuery };
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
      const headers = fillRecord(req.headers, vars, 'header', fill);
      const body = req.graphql
        ? { query: req.graphql.query, variables: fillBody(req.graphql.variables, vars, fill) }
        : req.body === undefined
          ? undefined
          : fillBody(req.body, vars, fill);
      const method = req.graphql ? 'POST' : req.method;
      return { url, headers, body, method };
    } catch (error) {
      if (error instanceof TemplateError)
        throw new SpecError(spec.id, [`resources.${run.resource}.export.${step}.request: ${error.message}`]);
      throw error;
    }
  }

  const rules = [...resource.responseRules, ...spec.responseRules];

  async function send(
    step: string,
    req: ExportRequest,
    vars: TemplateVars,
    signal: AbortSignal,
    extraQuery?: Record<string, string>,
  ): Promise<{ response: JsonResponse; url: URL }> {
    const { url, headers, body, method } = build(step, req, vars, extraQuery);
    const response = await client.request({
      url,
      method,
      headers,
      body,
      cost: resource.requestCost,
      resource: run.resource,
      signal,
      rules,
    });
    return { response, url };
  }

  /** The range an incremental export covers: from the high-water mark (less lookback) up to now less lag. */
  function windowNow(): Window | null {
    if (!inc) return null;
    const since = sinceOf(inc, run.since);
    return firstWindow({ ...inc, step: undefined }, since, Date.now());
  }

  return {
    /** Submits the job; returns its id and the range it covers. */
    async submit(signal: AbortSignal): Promise<{ jobId: string; window: Window | null }> {
      const window = windowNow();
      const vars = varsOf(window);
      const extra: Record<string, string> = {};
      if (inc?.param && window) extra[inc.param] = sinceParam(window.start, inc.format);
      const { response, url } = await send('submit', exp.submit.request, vars, signal, extra);
      if (exp.submit.errorPath) {
        const refused = valueAtPath(response.body, exp.submit.errorPath);
        if (refused !== undefined && refused !== null && !(Array.isArray(refused) && refused.length === 0))
          throw new ExportRefusedError(
            `the provider refused the export job: ${typeof refused === 'string' ? refused : JSON.stringify(refused).slice(0, 500)} (${run.integration}/${run.connection}/${run.resource}: POST ${url.pathname})`,
          );
      }
      const id = valueAtPath(response.body, exp.submit.jobIdPath);
      if (id === undefined || id === null || id === '' || typeof id === 'object')
        throw new ProviderError(
          'decode',
          `the submit answer has no job id at "${exp.submit.jobIdPath}"`,
          context('POST', url),
        );
      return { jobId: scalarText(id), window };
    },

    /** Polls the job's status once. */
    async status(jobId: string, window: Window | null, signal: AbortSignal): Promise<StatusAnswer> {
      const st = exp.status;
      const { response, url } = await send('status', st.request, varsOf(window, jobId), signal);
      const body = response.body;
      const raw = valueAtPath(body, st.statePath);
      const providerState = raw === undefined || raw === null ? '' : scalarText(raw);
      const state = (Object.keys(st.states) as ExportJobState[]).find((s) =>
        st.states[s].includes(providerState),
      );
      if (state === undefined)
        throw new ProviderError(
          'decode',
          `the job's state "${providerState}" at "${st.statePath}" is none of the spec's export.status.states (${Object.values(st.states).flat().join(', ')})`,
          context('GET', url),
        );
      const records = st.recordCountPath ? numberOf(valueAtPath(body, st.recordCountPath)) : null;
      const message = st.messagePath ? valueAtPath(body, st.messagePath) : undefined;
      const fromField = st.retryAfterPath ? numberOf(valueAtPath(body, st.retryAfterPath)) : null;
      const fromHeader = parseRetryAfter(response.header('retry-after'), Date.now());
      const suggestedMs = fromHeader ?? (fromField !== null ? fromField * 1000 : null);
      let urls: string[] = [];
      if (state === 'completed') urls = resultUrls(body, url);
      return {
        poll: {
          jobId,
          state,
          providerState,
          records,
          message: message === undefined || message === null || message === '' ? null : scalarText(message),
          suggestedMs,
          interval: {
            initialMs: st.interval.initialSeconds * 1000,
            minMs: st.interval.minSeconds * 1000,
            maxMs: st.interval.maxSeconds * 1000,
            backoff: st.interval.backoff,
          },
          timeoutMs: st.timeoutSeconds * 1000,
        },
        urls,
      };
    },

    /** Asks the provider to cancel the job (spec export.cancel); false when the spec has no cancel. */
    async cancel(jobId: string, window: Window | null, signal: AbortSignal): Promise<boolean> {
      if (!exp.cancel) return false;
      await send('cancel', exp.cancel.request, varsOf(window, jobId), signal);
      return true;
    },

    /** The request of one result page (paged results): the page after `locator` (null: the first). */
    resultsPage(jobId: string, window: Window | null, locator: string | null) {
      const pages = exp.results.pages!;
      return build(
        'results.pages',
        pages.request,
        varsOf(window, jobId),
        locator === null ? {} : { [pages.locatorParam]: locator },
      );
    },
  };

  /** The result files' URLs in a completed job's status answer, each checked against the URL policy. */
  function resultUrls(body: unknown, statusUrl: URL): string[] {
    const r = exp.results;
    if (r.pages) return [];
    const path = (r.urlPath ?? r.urlsPath)!;
    const found = hasWildcard(path) ? matchesAtPath(body, path) : valueAtPath(body, path);
    const list = (Array.isArray(found) ? found : found === undefined || found === null ? [] : [found]).filter(
      (v) => v !== null && v !== '',
    );
    return list.map((v) => {
      if (typeof v !== 'string')
        throw new ProviderError('decode', `a result URL at "${path}" is not text`, context('GET', statusUrl));
      const url = new URL(v, statusUrl);
      try {
        client.urlPolicy.check(url, 'an export result URL');
      } catch (error) {
        if (!(error instanceof UntrustedUrlError)) throw error;
        throw new ProviderError('untrusted-url', error.message, context('GET', statusUrl));
      }
      return url.toString();
    });
  }
}

export type ExportSteps = ReturnType<typeof createExportSteps>;
