import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseUrlProblem, fillBaseUrl } from '../../src/http/base-url.js';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';
import { fillTemplate } from '../../src/template/template.js';

const minimal = {
  id: 'coins',
  baseUrl: 'https://api.coins.example/v1',
  secrets: { token: 'API token' },
  auth: { type: 'bearer', token: 'token' },
  resources: { assets: { request: { path: '/assets' }, recordsPath: 'data', primaryKey: 'id' } },
};

function problems(input: unknown): string[] {
  try {
    parseSpec(input, 'spec.json');
    return [];
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.problems;
  }
}

describe('choice filters (if, eq)', () => {
  const fill = (t: string, vars: Record<string, unknown>) => fillTemplate(t, (n) => vars[n]);

  it('if reads a value as a condition does: set gives the first text, unset or missing the second', () => {
    for (const v of [true, 1, 'yes', 'false', ['a'], { a: 1 }])
      assert.equal(fill('{x|if:a:b}', { x: v }), 'a');
    for (const v of [false, 0, '', null, undefined, [], {}]) assert.equal(fill('{x|if:a:b}', { x: v }), 'b');
  });

  it('eq compares the value as text; a missing value equals nothing', () => {
    assert.equal(fill('{env|eq:production:live:test}', { env: 'production' }), 'live');
    assert.equal(fill('{env|eq:production:live:test}', { env: 'sandbox' }), 'test');
    assert.equal(fill('{env|eq:production:live:test}', {}), 'test');
    assert.equal(fill('{n|eq:2:two:other}', { n: 2 }), 'two');
    assert.equal(fill('x-{flag|eq:true:on:off}', { flag: true }), 'x-on');
  });

  it('a wrong number of texts is an error naming the placeholder', () => {
    assert.throws(() => fill('{x|if:a}', { x: 1 }), /\{x\|if:a\}: if takes two texts/);
    assert.throws(() => fill('{x|eq:a:b}', { x: 1 }), /\{x\|eq:a:b\}: eq takes three texts/);
  });
});

describe('baseUrl chosen by a config value', () => {
  it('fills the host with one of the literal hosts, whatever the value', () => {
    const t = 'https://{config.environment|eq:production:rest.coins.example:rest-sandbox.coins.example}/v1';
    assert.equal(baseUrlProblem(t), undefined);
    assert.equal(fillBaseUrl(t, { environment: 'production' }, 'c'), 'https://rest.coins.example/v1');
    assert.equal(fillBaseUrl(t, { environment: 'sandbox' }, 'c'), 'https://rest-sandbox.coins.example/v1');
    // A value that would be a host elsewhere still only chooses.
    assert.equal(
      fillBaseUrl(t, { environment: 'evil.example/x' }, 'c'),
      'https://rest-sandbox.coins.example/v1',
    );
    const s = 'https://connect.{config.sandbox|if:squareupsandbox:squareup}.com/v2';
    assert.equal(fillBaseUrl(s, { sandbox: true }, 'c'), 'https://connect.squareupsandbox.com/v2');
    assert.equal(fillBaseUrl(s, { sandbox: false }, 'c'), 'https://connect.squareup.com/v2');
    assert.equal(
      fillBaseUrl('https://a.example/{config.v|if:Beta:v1}', { v: 1 }, 'c'),
      'https://a.example/Beta',
    );
  });

  it('rejects choices whose texts are not host names in the host or segments in the path', () => {
    assert.match(baseUrlProblem('https://{config.e|if:a.example:b.example@x}/v1') ?? '', /not a host name/);
    assert.match(baseUrlProblem('https://a.example/{config.e|if:v1:v2/x}') ?? '', /not a path segment/);
    assert.match(baseUrlProblem('https://{config.e|if:a}.example') ?? '', /if takes two texts/);
    assert.match(
      baseUrlProblem('https://{config.e|upper}.example') ?? '',
      /only \{config\.name\} placeholders/,
    );
  });

  it('a spec needs no pattern for a field that only chooses the host, and names the field when it is undeclared', () => {
    const baseUrl = 'https://{config.environment|eq:production:api:api-sandbox}.coins.example/v1';
    assert.deepEqual(
      problems({ ...minimal, baseUrl, connectionConfig: { environment: { type: 'string' } } }),
      [],
    );
    assert.ok(
      problems({ ...minimal, baseUrl, connectionConfig: {} }).some((p) =>
        p.startsWith('baseUrl: {config.environment}: "environment" is not a connectionConfig field'),
      ),
    );
    assert.ok(
      problems({
        ...minimal,
        baseUrl: 'https://{config.e|if:a:b:c}.x.example',
        connectionConfig: { e: {} },
      }).some((p) => p.startsWith('baseUrl: {config.e|if:a:b:c}: if takes two texts')),
    );
  });
});
