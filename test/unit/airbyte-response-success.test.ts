/**
 * Response filters with action SUCCESS (issue 20): imported as `success` response rules, which the
 * engine's rule matcher returns like any other verdict, so a matching answer stops the later rules.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { matchResponseRules, responseRuleSchema } from '../../src/http/response-rules.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

const fixture = readFileSync('test/fixtures/airbyte/response-success.yaml', 'utf8');

describe('import airbyte: response filter action SUCCESS', () => {
  it('becomes a success rule per filter, in the handlers’ order', () => {
    const r = importAirbyteManifest(fixture, { id: 'reports' });
    assert.deepEqual(r.issues, []);
    const spec = parseSpec(r.spec!, 'reports');
    assert.deepEqual(
      spec.resources.outcomes!.responseRules.map((rule) => [rule.when.status, rule.action]),
      [
        [[400], 'success'],
        [[500], 'success'],
      ],
    );
  });

  it('a SUCCESS predicate on a 200 comes before the FAIL filter it overrides', () => {
    const text = fixture.replace(
      `                  - type: HttpResponseFilter
                    action: SUCCESS
                    http_codes: [400]`,
      `                  - type: HttpResponseFilter
                    action: SUCCESS
                    predicate: "{{ response.partial == true }}"
                  - type: HttpResponseFilter
                    action: FAIL
                    predicate: "{{ response.errors }}"
                  - type: HttpResponseFilter
                    action: SUCCESS
                    http_codes: [400]`,
    );
    const r = importAirbyteManifest(text, { id: 'reports' });
    assert.deepEqual(r.issues, []);
    const rules = parseSpec(r.spec!, 'reports').resources.outcomes!.responseRules;
    assert.deepEqual(
      rules.map((rule) => [rule.action, rule.when.path ?? null]),
      [
        ['success', 'partial'],
        ['fail', 'errors'],
        ['success', null],
        ['success', null],
      ],
    );
    const body = { partial: true, errors: ['late data'], outcomes: [] };
    const verdict = matchResponseRules(rules, { status: 200, header: () => null, body: () => body });
    assert.equal(verdict?.action, 'success');
    const failing = matchResponseRules(rules, {
      status: 200,
      header: () => null,
      body: () => ({ errors: ['bad'] }),
    });
    assert.equal(failing?.action, 'fail');
  });

  it('an untranslatable SUCCESS predicate loses data (an error would fail the run), saying where', () => {
    const text = fixture.replace(
      `                    action: SUCCESS
                    http_codes: [400]`,
      `                    action: SUCCESS
                    predicate: "{{ response.errors | length > 2 }}"`,
    );
    const r = importAirbyteManifest(text, { id: 'reports' });
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]!.effect, 'data');
    assert.match(r.issues[0]!.path, /response_filters\.0\.predicate$/);
  });

  it('the rule schema takes the action', () => {
    assert.equal(responseRuleSchema.parse({ when: { status: '4xx' }, action: 'success' }).action, 'success');
    assert.throws(() => responseRuleSchema.parse({ when: { status: 400 }, action: 'succeed' }));
  });
});
