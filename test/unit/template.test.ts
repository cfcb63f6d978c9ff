/**
 * The template language: date arithmetic and formatting, defaults, joins, `now`, paths that stay one
 * segment whatever a filter gives, and validation that names the placeholder and the spec path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillPathTemplate, PathValueError } from '../../src/http/path-template.js';
import { fillBody, fillRecord } from '../../src/http/request-template.js';
import { integrationSpecSchema } from '../../src/spec/schema.js';
import { formatIssues } from '../../src/spec/errors.js';
import { parseDuration } from '../../src/template/functions.js';
import { fillTemplate, TemplateError } from '../../src/template/template.js';

const vars = (values: Record<string, unknown>) => (name: string) => values[name];
const NOW = Date.parse('2026-03-31T10:20:30.000Z');

describe('template functions', () => {
  const v = vars({
    since: '2026-03-31T10:20:30Z',
    tags: ['a', 'b', null],
    name: '  Ada ',
    empty: '',
    n: 1767225600,
  });
  const fill = (t: string) => fillTemplate(t, v, { nowMs: NOW });

  it('date arithmetic and formats chain left to right', () => {
    assert.equal(fill('{since|minus:P30D}'), '2026-03-01T10:20:30.000Z');
    assert.equal(fill('{since|minus:P1M|date}'), '2026-03-03', 'calendar months (Feb 31 → Mar 3)');
    assert.equal(fill('{since|plus:PT1H30M|HH:mm}'), '11:50');
    assert.equal(fill('{since|plus:P1Y2M3DT4H5M6S|iso}'), '2027-06-03T14:25:36.000Z');
    assert.equal(parseDuration('2w'), undefined, 'short lengths are s, m, h, d (as incremental.step)');
    assert.equal(fill('{since|minus:P2W|date}'), '2026-03-17');
    assert.equal(fill('{since|minus:12h|unix}'), Date.parse('2026-03-30T22:20:30Z') / 1000);
    assert.equal(fill('{n|iso}'), '2026-01-01T00:00:00.000Z', 'unix seconds read as a time');
    assert.equal(fill('{now}'), '2026-03-31T10:20:30.000Z');
    assert.equal(fill('from {now|minus:P7D|date} to {now|date}'), 'from 2026-03-24 to 2026-03-31');
  });

  it('defaults, case, trim and joins', () => {
    assert.equal(fill('{missing|default:2020-01-01T00:00:00Z|unix}'), 1577836800);
    assert.equal(fill('{empty|default:none}'), 'none');
    assert.equal(fill('{since|default:x|date}'), '2026-03-31', 'a present value keeps its own');
    assert.equal(fill('{missing|upper}'), undefined, 'a missing value stays missing');
    assert.equal(fill('{name|trim|upper}'), 'ADA');
    assert.equal(fill('{tags|join:,}'), 'a,b,');
    assert.equal(fill('{tags|join:; }'), 'a; b; ');
  });

  it('refuses what is not a time or not a filter, naming the placeholder', () => {
    assert.throws(
      () => fill('{name|minus:P1D}'),
      (e: unknown) => {
        assert.ok(e instanceof TemplateError);
        assert.match(e.message, /\{name\|minus:P1D\}: " {2}Ada " is not a time/);
        return true;
      },
    );
    assert.throws(() => fill('{since|minus:P1X}'), /"P1X" is not a duration/);
    assert.throws(() => fill('{since|shout}'), /unknown filter "shout"/);
  });

  it('the body keeps types; a ?-key with a default is not missing', () => {
    assert.deepEqual(
      fillBody({ 'range?': { gte: '{since|default:2020-01-01|unix}' }, 'f?': { x: '{cursor}' } }, v),
      { range: { gte: 1774952430 } },
    );
    assert.deepEqual(fillRecord({ from: '{since|minus:P1D|date}', to: '{now|date}' }, v, 'query'), {
      from: '2026-03-30',
      to: String(fillTemplate('{now|date}', v)),
    });
  });

  it('a path placeholder is one segment whatever its filters give', () => {
    const lookup = vars({ 'window.start': '2026-01-02T00:00:00Z', evil: '..', slashy: 'a/b' });
    assert.equal(
      fillPathTemplate('/stats/{window.start|yyyy/MM/dd}/{slashy}', lookup, 'c'),
      '/stats/2026%2F01%2F02/a%2Fb',
    );
    assert.throws(() => fillPathTemplate('/x/{evil|trim}', lookup, 'c'), PathValueError);
    assert.throws(() => fillPathTemplate('/x/{slashy|minus:P1D}', lookup, 'c'), PathValueError);
    assert.throws(
      () => fillPathTemplate('/x/{nothing}', lookup, 'c'),
      /path placeholder \{nothing\} has no value/,
    );
  });
});

describe('template validation', () => {
  const spec = (resource: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    id: 't',
    baseUrl: 'https://api.example.com',
    connectionConfig: { org: { type: 'string' } },
    secrets: { token: 'token' },
    resources: { items: { primaryKey: 'id', ...resource } },
    ...extra,
  });
  const problems = (input: unknown) => {
    const r = integrationSpecSchema.safeParse(input);
    return r.success ? [] : formatIssues(r.error.issues).sort();
  };

  it('names the spec path and the placeholder', () => {
    assert.deepEqual(
      problems(
        spec({
          request: {
            path: '/orgs/{org}/stats/{window.start|date}/{nope}',
            query: { from: '{now|minus:P1Q}', to: '{since|default:2020}' },
            headers: { 'x-org': '{config.org|upper}' },
          },
        }),
      ),
      [
        'resources.items.request.path: {nope} is not a connectionConfig field (declared: org)',
        'resources.items.request.path: {window.start|date} needs an incremental section',
        'resources.items.request.query: {now|minus:P1Q}: "P1Q" is not a duration: use ISO 8601 (P30D, PT12H, P1M) or 30d, 12h, 30m, 45s',
        'resources.items.request.query: {since|default:2020} needs an incremental section',
      ],
    );
  });

  it('token URLs take {config.name} with the baseUrl rules; auth headers take filters', () => {
    assert.deepEqual(
      problems(
        spec(
          { request: { path: '/items' } },
          {
            auth: {
              type: 'oauth2-client-credentials',
              tokenUrl: 'https://{config.org}.example.com/oauth/{config.tenant}/token',
              clientId: 'token',
              clientSecret: 'token',
            },
          },
        ),
      ),
      [
        'auth.tokenUrl: {config.tenant}: "tenant" is not a connectionConfig field (declared: org)',
        "connectionConfig.org.pattern: required: {config.org} is in auth.tokenUrl's host, so its values must be constrained by a pattern (e.g. '^[a-z0-9-]+$')",
      ],
    );
    assert.deepEqual(
      problems(
        spec(
          { request: { path: '/items' } },
          {
            auth: { type: 'custom-headers', headers: { 'x-auth': '{secrets.tokn|trim} {config.org|shout}' } },
          },
        ),
      ),
      [
        'auth.headers.x-auth: {config.org|shout}: unknown filter "shout": use iso, unix, unix-ms, date, a date pattern such as yyyy-MM-dd HH:mm, parse:<pattern>, tz:<zone>, plus:<duration>, minus:<duration>, default:<text>, upper, lower, trim, join:<separator>, nonempty, dq, sq, if:<a>:<b>, eq:<text>:<a>:<b>, or:<name>, split:<separator>:<index>, slice:<start>:<end>, replace:<from>:<to> or hash:<md5|sha1|sha256|sha512>',
        'auth.headers.x-auth: {secrets.tokn|trim}: secret "tokn" is not declared in secrets (declared: token)',
      ],
    );
  });
});
