/**
 * Choices in the template language (`{?condition}…{:}…{/}`) and the `replace:` filter: what each
 * condition keeps, that a branch is template text (placeholders and nested choices, values never read
 * as syntax), that a choice leaving nothing has no value, that malformed choices are refused with the
 * spec path, and that a base URL's choices are fixed per connection and every text they can give is
 * checked as a base URL (the URL policy is then built from the one chosen).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BaseUrlValueError,
  baseUrlPlaceholders,
  baseUrlProblem,
  fillBaseUrl,
} from '../../src/http/base-url.js';
import { fillPathTemplate } from '../../src/http/path-template.js';
import { fillBody, fillRecord } from '../../src/http/request-template.js';
import { createUrlPolicy, UntrustedUrlError } from '../../src/http/url-policy.js';
import { formatIssues } from '../../src/spec/errors.js';
import { integrationSpecSchema } from '../../src/spec/schema.js';
import { filterProblem } from '../../src/template/functions.js';
import { fillTemplate, placeholdersOf, templateProblem, TemplateError } from '../../src/template/template.js';

const vars = (values: Record<string, unknown>) => (name: string) => values[name];
const NOW = Date.parse('2026-03-31T10:20:30.000Z');

describe('template choices', () => {
  const fill = (t: string, values: Record<string, unknown>) => fillTemplate(t, vars(values), { nowMs: NOW });

  it('set and unset read a value as Jinja does: empty text, 0, false, [] and missing are unset', () => {
    const t = '{?x}yes{:}no{/}';
    for (const v of ['a', 1, true, ['a'], { a: 1 }])
      assert.equal(fill(t, { x: v }), 'yes', JSON.stringify(v));
    for (const v of ['', 0, false, [], {}, null, undefined])
      assert.equal(fill(t, { x: v }), 'no', JSON.stringify(v));
    assert.equal(fill('{?!x}off{:}on{/}', {}), 'off');
    assert.equal(fill('{?!x}off{:}on{/}', { x: 'y' }), 'on');
  });

  it('== and != compare the value as text; in and not in a list of texts; missing equals nothing', () => {
    assert.equal(fill('{?env=="live"}api{:}sandbox{/}', { env: 'live' }), 'api');
    assert.equal(fill('{?env=="live"}api{:}sandbox{/}', { env: 'Live' }), 'sandbox');
    assert.equal(fill('{?n=="3"}three{/}', { n: 3 }), 'three');
    assert.equal(fill('{?env!="eu"}-{env}{/}', { env: 'us' }), '-us');
    assert.equal(fill('{?env!="eu"}x{:}y{/}', {}), 'x', 'missing is not equal');
    const member = '{?t in ["a b","c}"]}in{:}out{/}';
    assert.equal(fill(member, { t: 'a b' }), 'in');
    assert.equal(fill(member, { t: 'c}' }), 'in', 'a "}" inside a quoted text does not end the condition');
    assert.equal(fill(member, { t: 'a' }), 'out');
    assert.equal(fill(member, {}), 'out');
    assert.equal(fill('{?t not in ["a"]}n{:}y{/}', { t: 'b' }), 'n');
    assert.equal(fill('{?t not in ["a"]}n{:}y{/}', {}), 'n');
  });

  it('branches are template text: placeholders with filters, nested choices; values are never read as syntax', () => {
    const end = '{?end}{end|split:T:0}{:}{now|date}{/}';
    assert.equal(fill(end, { end: '2025-01-02T03:04:05Z' }), '2025-01-02');
    assert.equal(fill(end, {}), '2026-03-31');
    const host = 'https://{?p=="EU"}eu-{:}{?p=="HIPAA"}hipaa-{/}{/}api.example.com';
    assert.equal(fill(host, { p: 'EU' }), 'https://eu-api.example.com');
    assert.equal(fill(host, { p: 'HIPAA' }), 'https://hipaa-api.example.com');
    assert.equal(fill(host, { p: 'US' }), 'https://api.example.com');
    assert.equal(fill('{?x}{y}{/}', { x: 1, y: '{?x}{z}{/}' }), '{?x}{z}{/}', 'a value stays a value');
  });

  it('a choice that leaves nothing has no value: a query parameter or body field is left out; one placeholder keeps its type', () => {
    const query = { country: '{?!sources}{country}{/}', limit: '{?!cursor}{size}{/}' };
    assert.deepEqual(fillRecord(query, vars({ country: 'US', size: 50 }), 'query'), {
      country: 'US',
      limit: '50',
    });
    assert.deepEqual(fillRecord(query, vars({ country: 'US', sources: 'bbc', cursor: 'c2' }), 'query'), {});
    assert.deepEqual(
      fillBody({ limit: '{?!cursor}{size}{/}', 'f?': { a: '{?x}{y}{/}' } }, vars({ size: 50, x: true })),
      {
        limit: 50,
      },
    );
    assert.deepEqual(
      fillBody({ 'f?': { a: '{?x}{y}{:}z{/}' } }, vars({})),
      { f: { a: 'z' } },
      'only the chosen placeholders count',
    );
  });

  it('in a path, literal text stays as written and each placeholder is one encoded segment', () => {
    assert.equal(
      fillPathTemplate('/stations/{?uid}uid={uid}{:}all{/}/readings', vars({ uid: 'a/b' }), 'at'),
      '/stations/uid=a%2Fb/readings',
    );
    assert.equal(
      fillPathTemplate('/stations/{?uid}uid={uid}{:}all{/}/readings', vars({}), 'at'),
      '/stations/all/readings',
    );
  });

  it('placeholdersOf lists every branch and the names conditions read', () => {
    assert.deepEqual(placeholdersOf('{?config.t in ["a"]}{config.l|join:;}{:}{config.l|join:,}{/}'), [
      { name: 'config.t', filters: [], condition: true },
      { name: 'config.l', filters: ['join:;'] },
      { name: 'config.l', filters: ['join:,'] },
    ]);
  });

  it('malformed choices are refused with what to write', () => {
    assert.equal(templateProblem('{?x}a'), '"{?x}a": a choice {?…} needs its {/}');
    assert.equal(templateProblem('{?x}a{:}b{:}c{/}'), '"{?x}a{:}b{:}c{/}": a choice has one {:}');
    assert.equal(templateProblem('a{/}'), '"a{/}": {/} outside a choice {?…}');
    assert.equal(
      templateProblem('{?x in []}a{/}'),
      '{?x in []}: "in" takes a list of quoted texts, ["a","b"]',
    );
    assert.match(
      templateProblem('{?x==live}a{/}') ?? '',
      /a condition is \{\?name\}, \{\?!name\}, \{\?name=="text"\}/,
    );
    assert.match(templateProblem('{?a}{/}'.repeat(9)) ?? '', /more than 256 different texts/);
    assert.throws(() => fillTemplate('{?x}a', vars({})), TemplateError);
    assert.equal(templateProblem('{plain} text { not a choice }'), undefined);
  });
});

describe('the replace filter', () => {
  it('replaces every occurrence of a literal text; an empty result stays empty text', () => {
    const v = vars({ c: 'global-global-us', g: 'global' });
    assert.equal(fillTemplate('{c|replace:global-:}', v), 'us');
    assert.equal(fillTemplate('{c|replace:-:_}', v), 'global_global_us');
    assert.equal(fillTemplate('{g|replace:global:|nonempty}', v), undefined);
    assert.equal(fillTemplate('{missing|replace:a:b}', v), undefined);
    assert.equal(
      filterProblem('replace:a'),
      'replace takes two texts without ":", "replace:<from>:<to>" (replace:global: removes "global")',
    );
    assert.equal(filterProblem('replace::b'), filterProblem('replace:a'));
    assert.equal(filterProblem('replace:a:b:c'), filterProblem('replace:a'));
  });
});

describe('choices in a spec', () => {
  const spec = (resource: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    id: 't',
    baseUrl: 'https://api.example.com',
    connectionConfig: { region: { type: 'string' }, url: { type: 'string', format: 'url' } },
    secrets: { token: 'token' },
    resources: { items: { primaryKey: 'id', ...resource } },
    ...extra,
  });
  const problems = (input: unknown) => {
    const r = integrationSpecSchema.safeParse(input);
    return r.success ? [] : formatIssues(r.error.issues).sort();
  };

  it('a malformed choice, or a condition on a name that does not exist, names the spec path', () => {
    assert.deepEqual(
      problems(
        spec({
          request: {
            path: '/items/{?region}{region}{/}',
            query: { a: '{?config.region}x', b: '{?config.nope=="1"}y{/}' },
          },
        }),
      ),
      [
        'resources.items.request.query: "{?config.region}x": a choice {?…} needs its {/}',
        'resources.items.request.query: {?config.nope}: "nope" is not a connectionConfig field (declared: region, url)',
      ],
    );
  });

  it('baseUrl: every text its choices give is checked as a base URL; conditions read only config or whether a secret is set', () => {
    assert.deepEqual(
      problems(
        spec(
          { request: { path: '/i' } },
          { baseUrl: '{?config.region=="us"}https://a.example.com{:}https://x@b.example.com{/}' },
        ),
      ),
      ['baseUrl: when its choices give "https://x@b.example.com": must not carry user info'],
    );
    assert.deepEqual(
      problems(
        spec(
          { request: { path: '/i' } },
          { baseUrl: 'https://{?config.region}{config.region}{:}api{/}.example.com' },
        ),
      ),
      [
        "connectionConfig.region.pattern: required: {config.region} is in baseUrl's host, so its values must be constrained by a pattern (e.g. '^[a-z0-9-]+$')",
      ],
    );
    assert.match(baseUrlProblem('{?now}https://a.example.com{/}') ?? '', /may only read a config value/);
    assert.match(
      baseUrlProblem('https://{?secrets.token=="x"}a{:}b{/}.example.com') ?? '',
      /may only test whether a secret is set/,
    );
    assert.deepEqual(
      problems(spec({ request: { path: '/i' } }, { baseUrl: 'https://{?secrets.nope}a{:}b{/}.example.com' })),
      ['baseUrl: {?secrets.nope}: secret "nope" is not declared in secrets (declared: token)'],
    );
    assert.deepEqual(
      problems(
        spec(
          { request: { path: '/i' } },
          { baseUrl: '{?config.url}{config.url}{:}https://api.example.com/v1{/}' },
        ),
      ),
      [],
    );
    assert.deepEqual(baseUrlPlaceholders('{?config.url}{config.url}{:}https://api.example.com/v1{/}'), [
      { name: 'url', inHost: false, condition: true },
      { name: 'url', inHost: false, wholeUrl: true },
    ]);
  });

  it('baseUrl: filled once per connection from its config; a choice giving no URL is an error; the policy follows the chosen base only', () => {
    const template =
      '{?config.env=="Production"}https://api.example.com/v2{:}{?config.env=="Test"}https://mock.example.net/m/v2{/}{/}';
    assert.equal(fillBaseUrl(template, { env: 'Production' }, 'c'), 'https://api.example.com/v2');
    const test = fillBaseUrl(template, { env: 'Test' }, 'c');
    assert.equal(test, 'https://mock.example.net/m/v2');
    assert.throws(
      () => fillBaseUrl(template, { env: 'Other' }, 'conn x'),
      (e: unknown) =>
        e instanceof BaseUrlValueError &&
        e.message === "conn x: the choices of the URL give no URL for this connection's config",
    );
    const policy = createUrlPolicy(test);
    assert.equal(policy.check(new URL('https://mock.example.net/m/v2/labels'), 'a next link'), 'credentials');
    assert.throws(
      () => policy.check(new URL('https://api.example.com/v2/labels'), 'a next link'),
      UntrustedUrlError,
    );

    const secretHost = 'https://{?!secrets.token}api{:}pro-api{/}.example.com';
    assert.equal(
      fillBaseUrl(secretHost, {}, 'c', undefined, undefined, { token: 's3cret' }),
      'https://pro-api.example.com',
    );
    assert.equal(
      fillBaseUrl(secretHost, {}, 'c', undefined, undefined, { token: '' }),
      'https://api.example.com',
    );
    assert.throws(() => fillBaseUrl(secretHost, {}, 'c'), /needs the connection's secrets/);
    const whole = '{?config.url}{config.url}{:}https://api.example.com/v1{/}';
    const fields = { url: { format: 'url' as const } };
    assert.equal(fillBaseUrl(whole, {}, 'c', undefined, fields), 'https://api.example.com/v1');
    assert.equal(
      fillBaseUrl(whole, { url: 'https://self.example.org/api/' }, 'c', undefined, fields),
      'https://self.example.org/api',
    );
    assert.throws(
      () => fillBaseUrl(whole, { url: 'http://evil.example.org' }, 'c', undefined, fields),
      /must be an https URL/,
    );
  });
});
