/**
 * `when.and` in response rules: more tests of body values or headers that must all pass, validated by
 * path; and the Airbyte importer's mapping of a predicate joined by `and`
 * (test/fixtures/airbyte/response-predicates.yaml).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { matchResponseRules, responseRuleSchema, type ResponseRule } from '../../src/http/response-rules.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

const input = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  header: (name: string) => headers[name.toLowerCase()] ?? null,
  body: () => body,
});

const NO_PLAN: ResponseRule[] = [
  responseRuleSchema.parse({
    when: { path: 'status', equals: 405, and: [{ path: 'code', equals: 'no_active_subscription' }] },
    action: 'ignore',
  }),
];

describe('response rules: when.and', () => {
  it('matches only when every test passes', () => {
    const hit = matchResponseRules(NO_PLAN, input(405, { status: 405, code: 'no_active_subscription' }));
    assert.equal(hit?.action, 'ignore');
    assert.match(hit.message, /status = 405\) \(code = no_active_subscription\)/);
    assert.equal(matchResponseRules(NO_PLAN, input(405, { status: 405, code: 'plan_suspended' })), undefined);
    assert.equal(matchResponseRules(NO_PLAN, input(405, { code: 'no_active_subscription' })), undefined);
    const withHeader = [
      responseRuleSchema.parse({
        when: {
          status: 403,
          and: [
            { header: 'x-reason', matches: '^quota' },
            { path: 'retry', exists: false },
          ],
        },
        action: 'rate-limited',
      }),
    ];
    assert.equal(
      matchResponseRules(withHeader, input(403, {}, { 'x-reason': 'quota exceeded' }))?.action,
      'rate-limited',
    );
    assert.equal(
      matchResponseRules(withHeader, input(403, { retry: 1 }, { 'x-reason': 'quota exceeded' })),
      undefined,
    );
    assert.equal(matchResponseRules(withHeader, input(403, {}, { 'x-reason': 'banned' })), undefined);
  });

  it('validate names the path of a bad test', () => {
    const spec = (when: unknown) => ({
      id: 'x',
      baseUrl: 'https://api.example.com',
      resources: {
        items: { request: { path: '/items' }, primaryKey: 'id', responseRules: [{ when, action: 'ignore' }] },
      },
    });
    parseSpec(spec({ path: 'a', equals: 1, and: [{ path: 'b', exists: true }] }), 'x');
    assert.throws(
      () => parseSpec(spec({ path: 'a', equals: 1, and: [{ path: 'b' }] }), 'x'),
      /resources\.items\.responseRules\[0\]\.when\.and\[0\]: give exactly one of equals, matches or exists/,
    );
    assert.throws(
      () => parseSpec(spec({ path: 'a', equals: 1, and: [{ path: 'b', header: 'h', exists: true }] }), 'x'),
      /resources\.items\.responseRules\[0\]\.when\.and\[0\]: give a path or a header \(one of them\)/,
    );
    assert.throws(
      () => parseSpec(spec({ path: 'a', equals: 1, and: [] }), 'x'),
      /resources\.items\.responseRules\[0\]\.when\.and/,
    );
  });
});

describe('import airbyte: HttpResponseFilter predicates joined by and', () => {
  it('the fixture: the first test as the rule, the rest under and; imported fully', () => {
    const text = readFileSync('test/fixtures/airbyte/response-predicates.yaml', 'utf8');
    const result = importAirbyteManifest(text, { id: 'billing' });
    assert.deepEqual(
      result.issues.filter((i) => i.effect !== 'note'),
      [],
    );
    const usage = (result.spec!.resources as Record<string, Record<string, unknown>>).usage!;
    assert.deepEqual(usage.responseRules, [
      {
        when: { path: 'status', equals: 405, and: [{ path: 'code', equals: 'no_active_subscription' }] },
        action: 'ignore',
      },
    ]);
    parseSpec(result.spec, 'billing');
  });

  it('an operand with no equivalent leaves the whole predicate out, reported', () => {
    const text = readFileSync('test/fixtures/airbyte/response-predicates.yaml', 'utf8').replaceAll(
      "response.code == 'no_active_subscription'",
      "response.code.startswith('no_')",
    );
    const result = importAirbyteManifest(text, { id: 'billing' });
    const issue = result.issues.find((i) => i.component === 'HttpResponseFilter');
    assert.equal(issue?.effect, 'data');
    assert.match(issue.message, /has no equivalent \(tests of body values or headers, joined by and\)/);
  });
});
