/**
 * The one place provider HTTP calls are made: node:http (or node-fetch, node-client.ts) over keep-alive
 * agents, a per-request timeout, a response size limit, and failures turned into typed ProviderErrors.
 */
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { AbortError } from 'node-fetch';
import type { Logger } from '../log.js';
import { kindForStatus, ProviderError, scrubbedError, truncate, type RequestContext } from './errors.js';
import type { PathSecrets } from './path-secrets.js';
import { decodeBody, DecodeError, decodeJson, type DecoderConfig } from './decoders.js';
import { decodeRecordStream, isStreamingFormat } from './record-stream.js';
import { parseRateHeaders, parseRetryAfter } from './rate-headers.js';
import { matchResponseRules, type ResponseRule, type RuleVerdict } from './response-rules.js';
import { UntrustedUrlError, type UrlPolicy } from './url-policy.js';
import {
  BodyTooLargeError,
  DEFAULT_HTTP_CLIENT,
  sendWire,
  type HttpClientName,
  type WireResponse,
} from './node-client.js';
import { formBody } from './request-template.js';

/**
 * Request ids (sent as x-request-id, logged with the request): 12 random hex digits, cut from random
 * bytes fetched 256 ids at a time rather than asking the system on every page.
 */
const ID_BYTES = 6;
let idPool = Buffer.alloc(0);
let idOffset = 0;
function nextRequestId(): string {
  if (idOffset >= idPool.length) {
    idPool = randomBytes(ID_BYTES * 256);
    idOffset = 0;
  }
  idOffset += ID_BYTES;
  return idPool.toString('hex', idOffset - ID_BYTES, idOffset);
}
export interface TransportOptions {
  /** Each request is logged at debug (failures at info) with its request id; never headers or bodies. */
  log?: Logger;
  timeoutMs?: number;
  maxResponseBytes?: number;
  maxSockets?: number;
  /** Redirects followed per request (each one checked against the request's URL policy). */
  maxRedirects?: number;
  /** What sends the requests (node-client.ts): node:http unless set. */
  client?: HttpClientName;
}

export interface JsonRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /**
   * Send `body` (an object) as an HTML form (application/x-www-form-urlencoded) instead of JSON. A GET
   * with a body is sent too (over node:http, node-client.ts), as Python's requests does.
   */
  form?: boolean;
  /** Where this call belongs, for error messages; `method` and `path` are filled in from the request. */
  context?: Omit<RequestContext, 'method' | 'path'>;
  /** Cancels the request (activity cancellation). */
  signal?: AbortSignal;
  /** Query parameters whose values must never appear in errors or logs. */
  secretParams?: readonly string[];
  /**
   * Secrets placed in the path (path-secrets.ts): `url` carries their markers, revealed only in the URL
   * sent to an origin with credentials; every error this request raises is scrubbed of their values.
   */
  pathSecrets?: PathSecrets;
  /**
   * Where redirects may lead. Without one, no redirect is followed (a 3xx is a client error). With one,
   * a redirect to a URL the policy refuses is an `untrusted-url` error, and one to an origin that gets no
   * credentials drops `credentialHeaders` and `secretParams` first.
   */
  urlPolicy?: UrlPolicy;
  /** Header names (lower case) that carry credentials. */
  credentialHeaders?: readonly string[];
  /** Fields of a form body that carry credentials: left out of it on a redirect to an anonymous origin. */
  credentialFields?: readonly string[];
  /** What answers mean beyond their status (response-rules.ts); the first match decides. */
  rules?: readonly ResponseRule[];
  /** How a successful answer is decoded (decoders.ts); JSON without one. */
  decoder?: DecoderConfig;
  /**
   * Stream a JSON Lines or CSV answer: the response's `records` yields them as the body arrives, past
   * `maxResponseBytes` (which then bounds one record). Response rules see status and headers only.
   */
  stream?: boolean;
}

/** The records of a streamed answer, pulled one at a time; failures are ProviderErrors. */
export interface StreamedRecords {
  /** The next record, or done at the end of the body. */
  next(): Promise<IteratorResult<unknown, undefined>>;
  /** Stops the download (the socket is released); a pending `next` fails. */
  close(): void;
}

export interface JsonResponse {
  status: number;
  /** A response header, or null. */
  header(name: string): string | null;
  body: unknown;
  /** Bytes received. */
  bytes: number;
  /** A response rule said to ignore this answer: it holds no records (body is null). */
  ignored?: boolean;
  /**
   * A response rule said this error answer (not 2xx) is a success: its body (parsed, or null when it
   * cannot be) may hold records, and it is the last page.
   */
  errorAsSuccess?: boolean;
  /** A streamed answer's records (`stream: true`); body is null then. */
  records?: StreamedRecords;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Path and query of a URL with the values of secret query parameters replaced. */
export function redactedPath(url: string, secretParams: readonly string[] = []): string {
  const u = new URL(url);
  for (const name of secretParams) if (u.searchParams.has(name)) u.searchParams.set(name, 'REDACTED');
  return `${u.pathname}${u.search.replaceAll('REDACTED', '[redacted]')}`;
}

/** A 403 that carries Retry-After or a spent X-RateLimit-Remaining is a rate limit, not a refusal. */
function rateLimitedHeaders(header: (name: string) => string | null): boolean {
  return header('retry-after') !== null || header('x-ratelimit-remaining')?.trim() === '0';
}

/** How long the provider asks us to wait: Retry-After first, then the rate headers' reset. */
function waitFromHeaders(header: (name: string) => string | null): number | undefined {
  const now = Date.now();
  const retryAfter = parseRetryAfter(header('retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;
  const until = parseRateHeaders(header, new Date(now)).blockedUntil;
  return until ? Math.max(0, until.getTime() - now) : undefined;
}

const RULE_KIND = {
  fail: 'client',
  retry: 'server',
  'rate-limited': 'rate-limited',
  'refresh-token': 'auth',
} as const;

function ruleError(
  verdict: RuleVerdict,
  context: RequestContext,
  status: number,
  text: string,
  header: (name: string) => string | null,
): ProviderError {
  const action = verdict.action as keyof typeof RULE_KIND;
  const retryAfterMs =
    action === 'rate-limited' ? (waitFromHeaders(header) ?? verdict.retryAfterMs) : verdict.retryAfterMs;
  return new ProviderError(
    RULE_KIND[action],
    `${verdict.message} [response rule ${verdict.index}: ${verdict.action}]`,
    context,
    {
      status,
      body: truncate(text),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(action === 'refresh-token' ? { refreshToken: true } : {}),
    },
  );
}

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly log: Logger | undefined;
  private readonly maxRedirects: number;
  private readonly client: HttpClientName;

  constructor(options: TransportOptions = {}) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_BYTES;
    this.log = options.log;
    this.maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.client = options.client ?? DEFAULT_HTTP_CLIENT;
  }

  /** Sends the request and decodes a JSON answer; any failure is a ProviderError. */
  async requestJson(req: JsonRequest): Promise<JsonResponse> {
    const secrets = req.pathSecrets;
    if (!secrets?.any) return this.requestJsonAs(req);
    const clean = (error: unknown) =>
      error instanceof ProviderError ? scrubbedError(error, secrets.scrub) : error;
    let response: JsonResponse;
    try {
      response = await this.requestJsonAs(req);
    } catch (error) {
      throw clean(error);
    }
    const records = response.records;
    if (!records) return response;
    return {
      ...response,
      records: {
        close: () => records.close(),
        next: async () => {
          try {
            return await records.next();
          } catch (error) {
            throw clean(error);
          }
        },
      },
    };
  }

  private async requestJsonAs(req: JsonRequest): Promise<JsonResponse> {
    const method = req.method ?? 'GET';
    const requestId = nextRequestId();
    const context: RequestContext = {
      ...req.context,
      method,
      path: redactedPath(req.url, req.secretParams),
      requestId,
    };
    const started = performance.now();
    try {
      const response = await this.send(req, context);
      this.log?.debug(
        {
          requestId,
          method,
          path: context.path,
          status: response.status,
          bytes: response.bytes,
          ms: Math.round(performance.now() - started),
        },
        'provider request',
      );
      return response;
    } catch (error) {
      if (error instanceof ProviderError) {
        this.log?.info(
          {
            requestId,
            method,
            path: context.path,
            status: error.details.status,
            kind: error.kind,
            ms: Math.round(performance.now() - started),
          },
          'provider request failed',
        );
      }
      throw error;
    }
  }

  /**
   * One controller per request, aborted by the timeout or by the caller's signal. Listeners are removed
   * when the request ends: an activity's cancellation signal sees many requests.
   */
  private async send(req: JsonRequest, context: RequestContext): Promise<JsonResponse> {
    const controller = new AbortController();
    const timeout = new AbortController();
    const timer = setTimeout(() => {
      timeout.abort();
      controller.abort();
    }, this.timeoutMs);
    const onCancel = () => controller.abort();
    if (req.signal?.aborted) controller.abort();
    req.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      return await this.sendWith(req, context, controller.signal, timeout.signal, () => controller.abort());
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCancel);
    }
  }

  private async sendWith(
    req: JsonRequest,
    context: RequestContext,
    signal: AbortSignal,
    timeout: AbortSignal,
    abort: () => void,
  ): Promise<JsonResponse> {
    let response: WireResponse;
    try {
      response = await this.fetchFollowing(req, context, signal);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw this.transportError(error, context, timeout, req.signal);
    }
    if (req.stream && response.ok && req.decoder && isStreamingFormat(req.decoder))
      return this.streamed(req, req.decoder, response, context, abort);
    let raw: Buffer;
    try {
      raw = await response.bytes();
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        throw new ProviderError('decode', `response larger than ${this.maxBytes} bytes`, context, {
          status: response.status,
        });
      }
      throw this.transportError(error, context, timeout, req.signal);
    }
    const text = raw.toString('utf8');
    const header = (name: string) => response.header(name);
    // Parsed at most once, for the response rules and the default JSON decoding alike.
    let parsed: { value: unknown } | { error: DecodeError } | undefined;
    const parseJson = () => {
      if (!parsed) {
        try {
          parsed = { value: decodeJson(text) };
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          parsed = { error };
        }
      }
      return parsed;
    };
    const parsedBody = () => {
      const p = parseJson();
      return 'value' in p ? p.value : undefined;
    };
    const verdict = req.rules?.length
      ? matchResponseRules(req.rules, { status: response.status, header, body: parsedBody })
      : undefined;
    if (verdict) {
      if (verdict.action === 'ignore')
        return { status: response.status, header, body: null, bytes: raw.length, ignored: true };
      if (verdict.action !== 'success') throw ruleError(verdict, context, response.status, text, header);
      if (!response.ok) {
        let body: unknown = null;
        try {
          body = req.decoder ? decodeBody(raw, req.decoder, this.maxBytes) : (parsedBody() ?? null);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
        }
        return { status: response.status, header, body, bytes: raw.length, errorAsSuccess: true };
      }
    }
    if (!response.ok) {
      let kind = kindForStatus(response.status);
      // GitHub's secondary rate limit (and others') is a 403 that says when to come back.
      if (kind === 'auth' && response.status === 403 && rateLimitedHeaders(header)) kind = 'rate-limited';
      const retryAfterMs = kind === 'rate-limited' ? waitFromHeaders(header) : undefined;
      const hint =
        kind === 'auth'
          ? ": the connection's credentials were refused; fix them (syncwright connection add … --secret …)"
          : '';
      throw new ProviderError(
        kind,
        `provider answered ${response.status} ${response.statusText}${hint}`,
        context,
        {
          status: response.status,
          body: truncate(text),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        },
      );
    }
    let body: unknown;
    try {
      if (req.decoder) body = decodeBody(raw, req.decoder, this.maxBytes);
      else {
        const p = parseJson();
        if ('error' in p) throw p.error;
        body = p.value;
      }
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      throw new ProviderError(
        'decode',
        `provider answered ${response.status} with a body that is ${error.message}`,
        context,
        {
          status: response.status,
        },
      );
    }
    return {
      status: response.status,
      header,
      body,
      bytes: raw.length,
    };
  }

  /**
   * A successful answer whose records are decoded as they arrive. The request's own timeout ends with
   * the headers; from then on each record must arrive within the timeout (an idle timeout), however
   * long the whole download takes.
   */
  private streamed(
    req: JsonRequest,
    decoder: DecoderConfig,
    response: WireResponse,
    context: RequestContext,
    abort: () => void,
  ): JsonResponse {
    const header = (name: string) => response.header(name);
    const verdict = req.rules?.length
      ? matchResponseRules(req.rules, { status: response.status, header, body: () => undefined })
      : undefined;
    // A successful answer only: `success` reads it as it is.
    if (verdict && verdict.action !== 'success') {
      abort();
      if (verdict.action === 'ignore')
        return { status: response.status, header, body: null, bytes: 0, ignored: true };
      throw ruleError(verdict, context, response.status, '', header);
    }
    const body = response.stream();
    if (!body) throw new ProviderError('decode', 'the provider answered without a body', context);
    const records = decodeRecordStream(body, decoder, this.maxBytes);
    let closed = false;
    let idle = false;
    let count = 0;
    // One idle timer re-armed per record (a timer made and cleared per record was a million timers for
    // a million-record file). It counts only while a record is awaited: expiring while the consumer is
    // busy elsewhere (a commit) it just lapses, and the next record arms a new one.
    let timer: NodeJS.Timeout | undefined;
    let awaiting = false;
    const close = () => {
      closed = true;
      clearTimeout(timer);
      abort();
    };
    return {
      status: response.status,
      header,
      body: null,
      bytes: 0,
      records: {
        close,
        next: async () => {
          awaiting = true;
          if (timer) timer.refresh();
          else
            timer = setTimeout(() => {
              timer = undefined;
              if (!awaiting) return;
              idle = true;
              abort();
            }, this.timeoutMs).unref();
          try {
            const r = await records.next();
            if (!r.done) count++;
            else {
              clearTimeout(timer);
              timer = undefined;
            }
            return r;
          } catch (error) {
            close();
            const at = `after record ${count}`;
            if (error instanceof DecodeError)
              throw new ProviderError(
                'decode',
                `provider answered ${response.status} with a body that is ${error.message} (${at})`,
                context,
                { status: response.status },
              );
            if (error instanceof ProviderError) throw error;
            const message = error instanceof Error ? error.message : String(error);
            if (idle)
              throw new ProviderError(
                'timeout',
                `the download stalled: no record within ${this.timeoutMs} ms (${at})`,
                context,
                {},
                { cause: error },
              );
            throw new ProviderError(
              'network',
              closed && !idle && req.signal?.aborted
                ? 'request cancelled'
                : `the download broke off ${at}: ${message}`,
              context,
              {},
              { cause: error },
            );
          } finally {
            awaiting = false;
          }
        },
      },
    };
  }

  /**
   * Sends the request, following redirects by hand: a client's own following would carry custom auth
   * headers to any host. Each hop is checked against the URL policy; 303 (and 301/302 after a POST or
   * a GET with a body) continue as a GET without a body, as browsers and Python's requests do.
   */
  private async fetchFollowing(
    req: JsonRequest,
    context: RequestContext,
    signal: AbortSignal,
  ): Promise<WireResponse> {
    let url = new URL(req.url);
    // Markers of path secrets are revealed for an origin with credentials only (the first hop's is
    // the caller's decision; a redirect's, the URL policy's).
    let reveal = req.pathSecrets?.any === true;
    const wire = (u: URL) => (reveal ? new URL(req.pathSecrets!.reveal(u.toString())) : u);
    let method = context.method;
    let body = req.body === undefined ? undefined : req.form ? formBody(req.body) : JSON.stringify(req.body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      'x-request-id': context.requestId ?? '',
      ...(body !== undefined
        ? { 'content-type': req.form ? 'application/x-www-form-urlencoded' : 'application/json' }
        : {}),
      ...req.headers,
    };
    // A streamed answer is bounded per record (record-stream.ts), not as a whole.
    const size = req.stream ? 0 : this.maxBytes;
    for (let hop = 0; ; hop++) {
      const response = await sendWire(this.client, {
        url: wire(url),
        method,
        headers,
        body,
        agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
        signal,
        size,
      });
      const location = response.header('location');
      if (!REDIRECTS.has(response.status) || location === null) return response;
      // Free the socket: a redirect's body is never read.
      await response.bytes().catch(() => undefined);
      const refuse = (kind: 'client' | 'untrusted-url', message: string) =>
        new ProviderError(kind, message, context, { status: response.status });
      if (!req.urlPolicy)
        throw refuse(
          'client',
          `provider answered ${response.status} (a redirect), which this request does not follow`,
        );
      if (hop >= this.maxRedirects)
        throw refuse('client', `more than ${this.maxRedirects} redirects: stopping`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw refuse('client', `provider answered ${response.status} with a Location that is not a URL`);
      }
      let access;
      try {
        access = req.urlPolicy.check(next, `a ${response.status} redirect`);
      } catch (error) {
        if (error instanceof UntrustedUrlError) throw refuse('untrusted-url', error.message);
        throw error;
      }
      reveal = access === 'credentials' && req.pathSecrets?.any === true;
      // A path secret goes only where credentials go, even when the provider writes it into a
      // redirect elsewhere: that origin gets the marker.
      if (access === 'anonymous' && req.pathSecrets?.any) next = req.pathSecrets.seal(next);
      if (access === 'anonymous') {
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => !req.credentialHeaders?.includes(k.toLowerCase())),
        );
        for (const name of req.secretParams ?? []) next.searchParams.delete(name);
        if (req.credentialFields?.length && body !== undefined && req.form) {
          const rest = Object.entries(req.body as Record<string, unknown>).filter(
            ([k]) => !req.credentialFields!.includes(k),
          );
          body = rest.length ? formBody(Object.fromEntries(rest)) : undefined;
          if (body === undefined) delete headers['content-type'];
        }
      }
      // A GET's body goes no further than a POST's would (Python's requests drops both).
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && (method === 'POST' || method === 'GET'))
      ) {
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      url = next;
    }
  }

  private transportError(
    error: unknown,
    context: RequestContext,
    timeout: AbortSignal,
    cancel: AbortSignal | undefined,
  ): ProviderError {
    const message = error instanceof Error ? error.message : String(error);
    if (cancel?.aborted)
      return new ProviderError('network', 'request cancelled', context, {}, { cause: error });
    if (timeout.aborted || error instanceof AbortError) {
      return new ProviderError(
        'timeout',
        `no answer within ${this.timeoutMs} ms`,
        context,
        {},
        { cause: error },
      );
    }
    return new ProviderError('network', `request failed: ${message}`, context, {}, { cause: error });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
