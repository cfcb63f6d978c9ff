/**
 * Response rules: what an answer means when its status alone does not say it. An ordered list; the
 * first rule whose `when` matches decides. Examples from real providers:
 *
 *   - Slack answers 200 `{"ok": false, "error": "ratelimited"}`:
 *       { when: { path: error, equals: ratelimited }, action: rate-limited, retryAfterSeconds: 30 }
 *       { when: { path: ok, equals: false }, action: fail, message: "Slack said {body.error}" }
 *   - GraphQL answers 200 with `errors`: { when: { path: errors, exists: true }, action: fail }
 *   - a child resource whose 404 means "no rows": { when: { status: 404 }, action: ignore }
 *   - a 400 "your plan has no such report" that is no failure: { when: { status: 400 }, action: success }
 *
 * Pure: the transport hands in the status, a header getter and the parsed body.
 */
import { z } from 'zod';
import { dotPath, valueAtPath } from '../json/path.js';
import { passes, regexSchema, scalarSchema, testCount } from '../json/value-test.js';

const statusSchema = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^[1-5]xx$/, 'expected a status such as 404 or a class such as "5xx"'),
]);

/** One more test of a body value or header, all of which must pass too (`when.and`). */
const extraTestSchema = z
  .strictObject({
    path: dotPath().optional(),
    header: z.string().min(1).optional(),
    equals: scalarSchema.optional(),
    matches: regexSchema.optional(),
    exists: z.boolean().optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.path === undefined) === (t.header === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: 'give a path or a header (one of them)' });
    if (testCount(t) !== 1)
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of equals, matches or exists' });
  });

export const responseRuleSchema = z.strictObject({
  when: z
    .strictObject({
      /** A status, a class ("4xx"), or a list of them. Without it, any status. */
      status: z.union([statusSchema, z.array(statusSchema).min(1)]).optional(),
      /** Dot path of a value in the JSON body to test. */
      path: dotPath().optional(),
      /** A response header to test (instead of a body path). */
      header: z.string().min(1).optional(),
      /** The tested value equals this (numbers and booleans compare with their text too: "0" = 0). */
      equals: scalarSchema.optional(),
      /** The tested value, as text, matches this regular expression. */
      matches: regexSchema.optional(),
      /** The tested value is present (true) or absent (false); an empty list counts as absent. */
      exists: z.boolean().optional(),
      /**
       * More tests, each of a body path or a header, that must all pass as well
       * (`and: [{ path: code, equals: no_active_subscription }]`).
       */
      and: z.array(extraTestSchema).min(1).optional(),
    })
    .superRefine((w, ctx) => {
      const tests = testCount(w);
      if (w.path !== undefined && w.header !== undefined)
        ctx.addIssue({ code: 'custom', path: ['header'], message: 'give path or header, not both' });
      if ((w.path !== undefined || w.header !== undefined) && tests !== 1)
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'with path or header, give exactly one of equals, matches or exists',
        });
      if (w.path === undefined && w.header === undefined && tests > 0)
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'equals, matches and exists need a path or a header',
        });
      if (w.status === undefined && w.path === undefined && w.header === undefined)
        ctx.addIssue({ code: 'custom', path: [], message: 'give at least one of status, path or header' });
    }),
  /**
   * fail: stop the run (not retried); retry: retried with backoff; rate-limited: retried after the
   * provider's Retry-After / rate headers or `retryAfterSeconds`, and the connection's budget waits
   * too; ignore: the answer counts as "no records here" (the last page); refresh-token: refresh the
   * OAuth2 token once and try again, as after a 401; success: the answer is a successful page whatever
   * its status (later rules and the status checks are skipped) — an error answer (not 2xx) gives the
   * records its body holds at the records path, none when it holds none, and is the last page.
   */
  action: z.enum(['fail', 'retry', 'rate-limited', 'ignore', 'refresh-token', 'success']),
  /** Said in the error; `{body.path}` takes a value from the answer. */
  message: z.string().optional(),
  retryAfterSeconds: z.number().positive().optional(),
});

export type ResponseRule = z.infer<typeof responseRuleSchema>;
export type RuleAction = ResponseRule['action'];

export interface RuleInput {
  status: number;
  header(name: string): string | null;
  /** The parsed JSON body, or undefined when it is not JSON. */
  body: () => unknown;
}

export interface RuleVerdict {
  action: RuleAction;
  /** What to say: the rule's message filled in, or a description of what matched. */
  message: string;
  retryAfterMs?: number;
  /** 1-based position of the rule, for the error. */
  index: number;
}

function statusMatches(spec: ResponseRule['when']['status'], status: number): boolean {
  if (spec === undefined) return true;
  const list = Array.isArray(spec) ? spec : [spec];
  return list.some((s) => (typeof s === 'number' ? s === status : String(status)[0] === s[0]));
}

function short(v: unknown): string {
  const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function fillMessage(template: string, body: () => unknown): string {
  return template.replace(/\{body\.([^{}]+)\}/g, (_, path: string) => {
    const v = valueAtPath(body(), path);
    return v === undefined ? '' : short(v);
  });
}

/** The first matching rule's verdict, or undefined when no rule matches. */
export function matchResponseRules(
  rules: readonly ResponseRule[],
  input: RuleInput,
): RuleVerdict | undefined {
  for (const [i, rule] of rules.entries()) {
    const w = rule.when;
    if (!statusMatches(w.status, input.status)) continue;
    let tested = '';
    if (w.path !== undefined || w.header !== undefined) {
      const value = w.header !== undefined ? input.header(w.header) : valueAtPath(input.body(), w.path!);
      const ok = passes(value, w);
      if (!ok) continue;
      tested = ` (${w.header !== undefined ? `header ${w.header}` : w.path || 'body'} = ${short(value)})`;
    }
    const more = (w.and ?? []).map((t) => ({
      t,
      value: t.header !== undefined ? input.header(t.header) : valueAtPath(input.body(), t.path ?? ''),
    }));
    if (!more.every(({ t, value }) => passes(value, t))) continue;
    for (const { t, value } of more)
      tested += ` (${t.header !== undefined ? `header ${t.header}` : t.path || 'body'} = ${short(value)})`;
    const message = rule.message
      ? fillMessage(rule.message, input.body)
      : `response rule ${i + 1} (${rule.action}) matched status ${input.status}${tested}`;
    return {
      action: rule.action,
      message,
      index: i + 1,
      ...(rule.retryAfterSeconds !== undefined ? { retryAfterMs: rule.retryAfterSeconds * 1000 } : {}),
    };
  }
  return undefined;
}
