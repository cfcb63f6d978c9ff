/**
 * What a provider's answer says about its rate limit, from Retry-After, X-RateLimit-* and the IETF
 * RateLimit / RateLimit-Policy headers. Pure: the caller passes `now`. Retry-After wins over the rest.
 */

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

export interface RateFeedback {
  /** No request before this time. */
  blockedUntil?: Date;
  remaining?: number;
  resetAt?: Date;
  limit?: number;
  windowSeconds?: number;
  /** Which header decided `blockedUntil`. */
  source?: 'retry-after' | 'x-ratelimit' | 'ratelimit';
}

type HeaderGet = (name: string) => string | null;

const num = (v: string | null | undefined): number | undefined => {
  if (v === null || v === undefined) return undefined;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : undefined;
};

/**
 * X-RateLimit-Reset comes as delta seconds, epoch seconds or epoch milliseconds, depending on the
 * provider; the magnitude tells which (a delta is under a year, epoch seconds under 1e11).
 */
export function resetTime(value: number, now: Date): Date | undefined {
  if (value < 0) return undefined;
  if (value < 365 * 24 * 3600) return new Date(now.getTime() + value * 1000);
  if (value < 1e11) return new Date(value * 1000);
  return new Date(value);
}

/** `limit=100, remaining=50, reset=30` (draft 6) or `"default";r=50;t=30` (later drafts). */
function parseIetf(value: string | null): { remaining?: number; reset?: number; limit?: number } {
  if (!value) return {};
  const out: { remaining?: number; reset?: number; limit?: number } = {};
  for (const part of value.split(/[;,]/)) {
    const [k, v] = part.split('=').map((s) => s.trim().toLowerCase());
    const n = num(v);
    if (n === undefined) continue;
    if (k === 'remaining' || k === 'r') out.remaining = n;
    else if (k === 'reset' || k === 't') out.reset = n;
    else if (k === 'limit' || k === 'q') out.limit = n;
  }
  return out;
}

export function parseRateHeaders(header: HeaderGet, now: Date): RateFeedback {
  const out: RateFeedback = {};
  const xl = num(header('x-ratelimit-limit'));
  const xr = num(header('x-ratelimit-remaining'));
  const xt = num(header('x-ratelimit-reset'));
  const ietf = parseIetf(header('ratelimit'));
  const policy = header('ratelimit-policy');
  if (policy) {
    const q = /(?:^|[;,\s])(?:q=)?(\d+)\s*;\s*w=(\d+)/i.exec(policy);
    if (q) {
      out.limit = Number(q[1]);
      out.windowSeconds = Number(q[2]);
    }
  }
  out.limit = xl ?? ietf.limit ?? out.limit;
  out.remaining = xr ?? ietf.remaining;
  const reset =
    xt !== undefined
      ? resetTime(xt, now)
      : ietf.reset !== undefined
        ? new Date(now.getTime() + ietf.reset * 1000)
        : undefined;
  if (reset) out.resetAt = reset;
  if (out.remaining !== undefined && out.remaining <= 0 && out.resetAt && out.resetAt > now) {
    out.blockedUntil = out.resetAt;
    out.source = xr !== undefined ? 'x-ratelimit' : 'ratelimit';
  }
  const retry = parseRetryAfter(header('retry-after'), now.getTime());
  if (retry !== undefined) {
    out.blockedUntil = new Date(now.getTime() + retry);
    out.source = 'retry-after';
  }
  return out;
}
