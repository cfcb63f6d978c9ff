/**
 * Error handlers: DefaultErrorHandler (and each handler of a CompositeErrorHandler) — its
 * response_filters as Syncwright response rules (status codes, a body predicate, a message), its
 * max_retries and backoff as retry settings.
 */
import { issue, pathOf, typeOf, type StreamContext } from './context.js';
import { formatPath } from '../../json/path.js';
import { accessPath, parseTemplate, show, type Node } from './jinja.js';
import { isObject, type Json } from './manifest.js';
import { soleExpression } from './pagination.js';

export interface RuleOut {
  when: Record<string, unknown>;
  action: 'fail' | 'retry' | 'rate-limited' | 'ignore' | 'success';
  message?: string;
}

export interface ErrorHandling {
  rules: RuleOut[];
  maxAttempts?: number;
  initialIntervalMs?: number;
}

const ACTIONS: Record<string, RuleOut['action']> = {
  IGNORE: 'ignore',
  RETRY: 'retry',
  FAIL: 'fail',
  RATE_LIMITED: 'rate-limited',
  // Airbyte reads a matching 2xx answer as usual and a matching error answer as a last page without
  // records (a requests.Response is falsy when not ok); Syncwright's `success` does both (an error
  // body that holds records at the records path gives them, which Airbyte would not).
  SUCCESS: 'success',
};

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A predicate on the answer as one `when` test (body path or header). */
function predicateTest(node: Node): Record<string, unknown> | undefined {
  const target = (n: Node) => {
    const p = accessPath(n);
    if (p?.root === 'response' && p.path.length > 0)
      return { path: formatPath(p.path.map((key) => ({ key }))) };
    if (p?.root === 'headers' && p.path.length === 1) return { header: p.path[0] };
    return undefined;
  };
  if (node.k === 'bin' && node.op === '==') {
    const t = target(node.left);
    if (t && node.right.k === 'lit' && node.right.value !== null) return { ...t, equals: node.right.value };
    if (t && node.right.k === 'lit' && node.right.value === null) return { ...t, exists: false };
  }
  if (node.k === 'bin' && node.op === 'in' && node.left.k === 'lit' && typeof node.left.value === 'string') {
    const p = accessPath(node.right);
    if (p?.root === 'response')
      return { path: formatPath([...p.path, node.left.value].map((key) => ({ key }))), exists: true };
  }
  if (node.k === 'test' && node.name === 'none') {
    const t = target(node.value);
    if (t) return { ...t, exists: node.negated };
  }
  if (node.k === 'unary' && node.op === 'not') {
    const t = target(node.arg);
    if (t) return { ...t, exists: false };
  }
  const t = target(node);
  if (t) return { ...t, exists: true };
  return undefined;
}

/** The operands of `a and b and c`, in order. */
function operands(node: Node): Node[] {
  return node.k === 'bin' && node.op === 'and' ? [...operands(node.left), ...operands(node.right)] : [node];
}

/** A predicate of one test, or of tests joined by `and` (the first as the rule's, the rest as `and`). */
function conjunction(node: Node): Record<string, unknown> | undefined {
  const tests = operands(node).map(predicateTest);
  if (tests.some((t) => t === undefined)) return undefined;
  const [first, ...rest] = tests as Record<string, unknown>[];
  return rest.length === 0 ? first : { ...first, and: rest };
}

/** An error message: literal text with `{body.path}` for values of the answer. */
function messageOf(value: Json | undefined): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    let out = '';
    for (const part of parseTemplate(value)) {
      if ('text' in part) out += part.text;
      else if ('expr' in part) {
        const p = accessPath(part.expr);
        out +=
          p?.root === 'response' && p.path.length > 0 ? `{body.${p.path.join('.')}}` : `(${show(part.expr)})`;
      } else return undefined;
    }
    return out;
  } catch {
    return undefined;
  }
}

function defaultHandler(handler: Json, ctx: StreamContext, at: string, out: ErrorHandling): void {
  if (!isObject(handler)) return;
  if (handler.type === 'CompositeErrorHandler') {
    const list = Array.isArray(handler.error_handlers) ? handler.error_handlers : [];
    list.forEach((h, i) => defaultHandler(h, ctx, pathOf(ctx, h, `${at}.error_handlers.${i}`), out));
    return;
  }
  if (handler.type !== 'DefaultErrorHandler') {
    issue(
      ctx,
      at,
      typeOf(handler),
      'differs',
      "this error handler has no equivalent: Syncwright's defaults apply (429 waits, 5xx retried, other 4xx fail)",
    );
    return;
  }
  if (typeof handler.max_retries === 'number')
    out.maxAttempts = Math.max(out.maxAttempts ?? 0, handler.max_retries + 1);
  const backoffs = Array.isArray(handler.backoff_strategies) ? handler.backoff_strategies : [];
  backoffs.forEach((b, i) => {
    const bAt = pathOf(ctx, b, `${at}.backoff_strategies.${i}`);
    if (!isObject(b)) return;
    if (b.type === 'ConstantBackoffStrategy' && typeof b.backoff_time_in_seconds === 'number')
      out.initialIntervalMs = Math.round(b.backoff_time_in_seconds * 1000);
    else if (b.type === 'ExponentialBackoffStrategy' && typeof b.factor === 'number')
      out.initialIntervalMs = Math.round(b.factor * 1000);
    else if (b.type === 'WaitTimeFromHeader' || b.type === 'WaitUntilTimeFromHeader') {
      const header = typeof b.header === 'string' ? b.header.toLowerCase() : '';
      if (!['retry-after', 'x-ratelimit-reset', 'ratelimit-reset'].includes(header))
        issue(
          ctx,
          bAt,
          b.type,
          'note',
          `waits are read from Retry-After and the usual rate headers, not from ${JSON.stringify(b.header)}`,
        );
    } else issue(ctx, bAt, typeOf(b), 'note', 'this backoff has no equivalent: exponential backoff applies');
  });
  const filters = Array.isArray(handler.response_filters) ? handler.response_filters : [];
  filters.forEach((f, i) => {
    const fAt = pathOf(ctx, f, `${at}.response_filters.${i}`);
    if (!isObject(f)) return;
    const action =
      typeof f.action === 'string' ? ACTIONS[f.action] : f.action === undefined ? 'fail' : undefined;
    if (!action) {
      issue(
        ctx,
        `${fAt}.action`,
        'HttpResponseFilter',
        'data',
        `the action ${JSON.stringify(f.action)} has no equivalent`,
      );
      return;
    }
    const when: Record<string, unknown> = {};
    if (Array.isArray(f.http_codes) && f.http_codes.length > 0) when.status = f.http_codes;
    if (typeof f.error_message_contains === 'string' && f.error_message_contains !== '')
      Object.assign(when, { path: '', matches: escapeRegex(f.error_message_contains) });
    if (typeof f.predicate === 'string' && f.predicate.trim() !== '') {
      const node = soleExpression(f.predicate);
      const test = node && conjunction(node);
      if (!test || when.path !== undefined) {
        issue(
          ctx,
          `${fAt}.predicate`,
          'HttpResponseFilter',
          action === 'ignore' || action === 'success' ? 'data' : 'differs',
          `"${f.predicate}" has no equivalent (tests of body values or headers, joined by and)`,
        );
        return;
      }
      Object.assign(when, test);
    }
    if (Object.keys(when).length === 0) {
      // Airbyte builds such a filter with no codes, an empty predicate and no text to look for, so it
      // matches no answer: the handler's defaults decide, as Syncwright's do.
      issue(
        ctx,
        fAt,
        'HttpResponseFilter',
        'note',
        'a filter without http_codes, error_message_contains or predicate matches no answer in Airbyte: no rule',
      );
      return;
    }
    const message = messageOf(f.error_message);
    out.rules.push({ when, action, ...(message ? { message } : {}) });
  });
}

export function translateErrorHandler(handler: Json | undefined, ctx: StreamContext): ErrorHandling {
  const out: ErrorHandling = { rules: [] };
  if (handler === undefined || handler === null) return out;
  defaultHandler(handler, ctx, pathOf(ctx, handler, 'retriever.requester.error_handler'), out);
  return out;
}
