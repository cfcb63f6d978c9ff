/**
 * The one place provider HTTP calls are made: node-fetch over keep-alive agents, a per-request timeout,
 * a response size limit, and failures turned into typed ProviderErrors.
 */
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import fetch, { AbortError, type Response } from 'node-fetch';
import type { Logger } from '../log.js';
import { kindForStatus, ProviderError, truncate, type RequestContext } from './errors.js';

export interface TransportOptions {
  /** Each request is logged at debug (failures at info) with its request id; never headers or bodies. */
  log?: Logger;
  timeoutMs?: number;
  maxResponseBytes?: number;
  maxSockets?: number;
}

export interface JsonRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Where this call belongs, for error messages; `method` and `path` are filled in from the request. */
  context?: Omit<RequestContext, 'method' | 'path'>;
  /** Cancels the request (activity cancellation). */
  signal?: AbortSignal;
  /** Query parameters whose values must never appear in errors or logs. */
  secretParams?: readonly string[];
}

export interface JsonResponse {
  status: number;
  /** A response header, or null. */
  header(name: string): string | null;
  body: unknown;
  /** Bytes received. */
  bytes: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** Retry-After as milliseconds from `nowMs`: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date has a weekday and month name; anything else ("-5", "soon") is unreadable.
  if (!/[a-z]{3}/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Path and query of a URL with the values of secret query parameters replaced. */
export function redactedPath(url: string, secretParams: readonly string[] = []): string {
  const u = new URL(url);
  for (const name of secretParams) if (u.searchParams.has(name)) u.searchParams.set(name, 'REDACTED');
  return `${u.pathname}${u.search.replaceAll('REDACTED', '[redacted]')}`;
}

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly log: Logger | undefined;

  constructor(options: TransportOptions = {}) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_BYTES;
    this.log = options.log;
  }

  /** Sends the request and decodes a JSON answer; any failure is a ProviderError. */
  async requestJson(req: JsonRequest): Promise<JsonResponse> {
    const method = req.method ?? 'GET';
    const requestId = randomBytes(6).toString('hex');
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
      return await this.sendWith(req, context, controller.signal, timeout.signal);
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
  ): Promise<JsonResponse> {
    const method = context.method;
    let response: Response;
    try {
      response = await fetch(req.url, {
        method,
        headers: {
          accept: 'application/json',
          'x-request-id': context.requestId ?? '',
          ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...req.headers,
        },
        body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
        agent: (u) => (u.protocol === 'https:' ? this.httpsAgent : this.httpAgent),
        signal,
        size: this.maxBytes,
      });
    } catch (error) {
      throw this.transportError(error, context, timeout, req.signal);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (error instanceof Error && error.name === 'FetchError' && /over limit/.test(error.message)) {
        throw new ProviderError('decode', `response larger than ${this.maxBytes} bytes`, context, {
          status: response.status,
        });
      }
      throw this.transportError(error, context, timeout, req.signal);
    }
    if (!response.ok) {
      const kind = kindForStatus(response.status);
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
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
      body = text.length === 0 ? null : JSON.parse(text);
    } catch {
      throw new ProviderError(
        'decode',
        `provider answered ${response.status} with a body that is not JSON (starts with ${JSON.stringify(text.slice(0, 80))})`,
        context,
        { status: response.status },
      );
    }
    const headers = response.headers;
    return {
      status: response.status,
      header: (name) => headers.get(name),
      body,
      bytes: Buffer.byteLength(text),
    };
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
