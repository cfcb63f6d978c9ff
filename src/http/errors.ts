/**
 * Typed failures of a provider call. Each carries where it happened (without secrets) and whether
 * retrying can help; activities turn them into Temporal ApplicationFailures with that decision.
 */

export const ERROR_KINDS = [
  'auth',
  'rate-limited',
  'client',
  'server',
  'network',
  'timeout',
  'decode',
  'spec',
  'untrusted-url',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Temporal failure `type` strings: workflows and retry policies match on these, not on classes. */
export const FAILURE_TYPE: Record<ErrorKind, string> = {
  auth: 'AuthError',
  'rate-limited': 'RateLimitedError',
  client: 'ClientError',
  server: 'ServerError',
  network: 'NetworkError',
  timeout: 'TimeoutError',
  decode: 'DecodeError',
  spec: 'SpecError',
  'untrusted-url': 'UntrustedUrlError',
};

/** Whether retrying a failure of each kind can help. */
export const RETRYABLE: Record<ErrorKind, boolean> = {
  auth: false,
  'rate-limited': true,
  client: false,
  server: true,
  network: true,
  timeout: true,
  decode: false,
  spec: false,
  // A provider pointing elsewhere (next link, redirect) will do so again: a person must look.
  'untrusted-url': false,
};

export interface RequestContext {
  integration?: string;
  connection?: string;
  resource?: string;
  method: string;
  /** Path and query with secret values redacted. */
  path: string;
  /** Sent as X-Request-Id and logged, to find the call in provider and worker logs. */
  requestId?: string;
}

export interface ProviderErrorDetails {
  status?: number;
  /** The provider's answer, truncated. */
  body?: string;
  /** From Retry-After, for rate-limited errors. */
  retryAfterMs?: number;
  /** A response rule said the OAuth2 token is stale: refresh once and try again, as after a 401. */
  refreshToken?: boolean;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly retryable: boolean;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly context: RequestContext,
    readonly details: ProviderErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(`${message} (${describeContext(context)})`, options);
    this.retryable = RETRYABLE[kind];
  }
  get failureType(): string {
    return FAILURE_TYPE[this.kind];
  }
}

export function describeContext(c: RequestContext): string {
  const scope = [c.integration, c.connection, c.resource].filter(Boolean).join('/');
  return `${scope ? `${scope}: ` : ''}${c.method} ${c.path}${c.requestId ? ` [request ${c.requestId}]` : ''}`;
}

/** Keeps error bodies short enough for logs and Temporal failures. */
export function truncate(text: string, max = 500): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more chars)`;
}

/** The error kind for an HTTP status that is not a success. */
export function kindForStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate-limited';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  return 'client';
}

/**
 * The error with `scrub` applied to its message, stack, context path and quoted body (secret path
 * values, http/path-secrets.ts). Its cause is left out: a network error's message names the URL.
 */
export function scrubbedError(error: ProviderError, scrub: (text: string) => string): ProviderError {
  const context = { ...error.context, path: scrub(error.context.path) };
  const details = {
    ...error.details,
    ...(error.details.body !== undefined ? { body: scrub(error.details.body) } : {}),
  };
  const out = new ProviderError(error.kind, '', context, details);
  out.message = scrub(error.message);
  out.stack = `${out.name}: ${out.message}\n${scrub(error.stack ?? '')
    .split('\n')
    .slice(1)
    .join('\n')}`;
  return out;
}
