/**
 * `import airbyte`: the Jinja subset, time notations, manifest references and parameters, and each
 * component type translated from manifests written for these tests (test/fixtures/airbyte/). Every
 * spec produced is parsed by the spec schema, as `validate` would.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  durationSeconds,
  formatFilter,
  isoFilterOf,
  readableTime,
  stepOf,
} from '../../src/import/airbyte/datetime.js';
import { accessPath, parseExpression, parseTemplate, show } from '../../src/import/airbyte/jinja.js';
import { loadManifest, originOf, ManifestError } from '../../src/import/airbyte/manifest.js';
import { importedFully, type ImportIssue } from '../../src/import/airbyte/report.js';
import { DEFAULT_CONSTRUCTS, ISSUE_20, TODAY } from '../../src/import/airbyte/target.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';
import { loadSpec } from '../../src/spec/load.js';

const fixture = (name: string) => readFileSync(path.join('test/fixtures/airbyte', `${name}.yaml`), 'utf8');

function imported(name: string) {
  const result = importAirbyteManifest(fixture(name), { id: name });
  assert.ok(result.spec, `${name}: a spec`);
  const spec = parseSpec(result.spec, name); // throws SpecError listing every problem
  return { ...result, spec, raw: result.spec };
}

const byPath = (issues: ImportIssue[], p: string) => issues.filter((i) => i.path === p);

describe('import airbyte: the Jinja subset', () => {
  it('parses access, calls, filters, tests and conditionals', () => {
    assert.deepEqual(accessPath(parseExpression("config['credentials']['api_key']")), {
      root: 'config',
      path: ['credentials', 'api_key'],
    });
    assert.deepEqual(accessPath(parseExpression("response.get('paging', {}).get('next')")), {
      root: 'response',
      path: ['paging', 'next'],
    });
    assert.equal(show(parseExpression('not response.has_more')), 'not response.has_more');
    assert.equal(show(parseExpression('record.x | int')), 'record.x | int');
    assert.equal(show(parseExpression("headers['link'] is not none")), 'headers.link is not none');
    assert.equal(
      show(parseExpression("'-' + config.region if config.region != 'eu' else ''")),
      "'-' + config.region if config.region != 'eu' else ''",
    );
    assert.equal(
      show(parseExpression("format_datetime(x, '%s', fmt='a')")),
      "format_datetime(x, '%s', fmt='a')",
    );
    assert.throws(() => parseExpression('config['), /unexpected end/);
  });

  it('splits templates into text, expressions and statements', () => {
    const parts = parseTemplate('/v1/{{ stream_partition.id }}/x{% if a %}');
    assert.equal(parts.length, 4);
    assert.deepEqual(parts[0], { text: '/v1/' });
    assert.ok('expr' in parts[1]!);
    assert.deepEqual(parts[3], { statement: 'if a' });
  });
});

describe('import airbyte: time notations', () => {
  it('strftime formats become template filters, or nothing', () => {
    assert.equal(formatFilter('%s'), 'unix');
    assert.equal(formatFilter('%ms'), 'unix-ms');
    assert.equal(formatFilter('%Y-%m-%d'), 'date');
    assert.equal(formatFilter('%Y-%m-%dT%H:%M:%SZ'), 'yyyy-MM-ddTHH:mm:ssZ');
    assert.equal(formatFilter('%Y-%m-%dT%H:%M:%S.%f%z'), 'yyyy-MM-ddTHH:mm:ss.SSS000+0000');
    assert.equal(formatFilter('%d %b %Y'), undefined, 'month names have no equivalent');
    assert.equal(formatFilter('day %d'), undefined, 'literal letters that would read as tokens');
  });

  it('formats whose values read back as times in order, and ISO forms of a precision', () => {
    for (const f of [
      '%s',
      '%ms',
      '%Y-%m-%d',
      '%Y-%m-%dT%H:%M:%SZ',
      '%Y-%m-%dT%H:%M:%S.%f%z',
      '%Y-%m-%d %H:%M',
      '%Y-%m-%dT%H:%M:%S.000Z',
    ])
      assert.equal(readableTime(f), true, f);
    for (const f of ['%d/%m/%Y %H:%M', '%d-%m-%Y', '%m/%d/%Y', '%Y%m%d', '%b %d %Y'])
      assert.equal(readableTime(f), false, f);
    assert.equal(isoFilterOf('dd/MM/yyyy HH:mm'), 'yyyy-MM-ddTHH:mmZ');
    assert.equal(isoFilterOf('dd-MM-yyyy'), 'date');
    assert.equal(isoFilterOf('yyyy-MM-ddTHH:mm:ssZ'), 'yyyy-MM-ddTHH:mm:ssZ');
    assert.equal(isoFilterOf('unix'), 'unix');
  });

  it('ISO 8601 durations become seconds and steps', () => {
    assert.equal(durationSeconds('PT5M'), 300);
    assert.equal(durationSeconds('P1DT1H'), 90_000);
    assert.equal(durationSeconds('P1M'), 30 * 86_400);
    assert.equal(durationSeconds('soon'), undefined);
    assert.equal(stepOf('P7D'), '7d');
    assert.equal(stepOf('PT12H'), '12h');
    assert.equal(stepOf('PT90S'), 90);
    assert.equal(stepOf('PT0.5S'), undefined);
  });
});

describe('import airbyte: manifests', () => {
  it('resolves $ref (beside keys win), bare "#/" references, parameters and default types; remembers origins', () => {
    const m = loadManifest(`
definitions:
  base: { type: DeclarativeStream, primary_key: id, retriever: { requester: { url_base: "https://x", path: "{{ parameters.path }}" } } }
  size: 25
streams:
  - $ref: "#/definitions/base"
    name: a
    page: "#/definitions/size"
    $parameters: { path: /a }
`);
    const s = m.streams[0]!;
    assert.equal(s.name, 'a');
    assert.equal(s.page, 25);
    const retriever = s.retriever as Record<string, unknown>;
    assert.equal(retriever.type, 'SimpleRetriever', 'implied type');
    const requester = retriever.requester as Record<string, unknown>;
    assert.equal(requester.type, 'HttpRequester');
    assert.deepEqual(requester.$parameters, { path: '/a' }, 'parameters flow down');
    assert.equal(originOf(s), 'streams.0');
    assert.equal(
      originOf(retriever),
      'definitions.base.retriever',
      'a referenced part reports at its definition',
    );
  });

  it('refuses circular and missing references, and non-manifests, clearly', () => {
    assert.throws(
      () => loadManifest('a: { $ref: "#/b" }\nb: { $ref: "#/a" }\nstreams: []'),
      /circular reference/,
    );
    assert.throws(() => loadManifest('streams: [{ $ref: "#/nope" }]'), /reference "#\/nope" not found/);
    assert.throws(() => loadManifest('- 1'), ManifestError);
    assert.throws(() => loadManifest('a: [1'), /line \d+/);
  });
});

describe('import airbyte: components', () => {
  it('ApiKey header, offset pages, parent/child, start option, filter, added fields, response filters', () => {
    const { spec, issues, raw } = imported('api-key-offset-parent');
    assert.deepEqual(issues, [], 'imported fully');
    assert.equal(spec.baseUrl, 'https://api.acme.test');
    assert.deepEqual(spec.auth, { type: 'api-key', in: 'header', name: 'X-Api-Key', value: 'api_key' });
    assert.deepEqual(spec.secrets, { api_key: 'API key' });
    const projects = spec.resources.projects!;
    assert.equal(projects.request.path, '/v1/projects');
    assert.deepEqual(projects.request.query, { updated_since: '{since|yyyy-MM-ddTHH:mm:ssZ}' });
    assert.equal(projects.recordsPath, 'data', 'field_path from $parameters');
    assert.deepEqual(projects.pagination, {
      type: 'offset',
      offsetParam: 'offset',
      limitParam: 'limit',
      pageSize: 40,
      stopOnEmptyPage: true,
    });
    assert.deepEqual(projects.filter, [{ path: 'status', equals: 'archived', not: true }]);
    assert.deepEqual((raw.resources as Record<string, { fields: unknown }>).projects!.fields, {
      source: { const: 'acme' },
      owner_name: 'owner.name',
    });
    assert.equal(projects.passthrough, true);
    assert.deepEqual(projects.incremental, {
      cursorField: 'updated_at',
      format: 'iso',
      lookbackSeconds: 300,
      startDate: '2025-01-01T00:00:00.000Z',
      lagSeconds: 0,
      clientSide: false,
      order: 'unsorted',
      readsAll: false,
    });
    assert.deepEqual(
      projects.responseRules.map((r) => [r.when, r.action, r.message]),
      [
        [{ status: [404] }, 'ignore', undefined],
        [{ path: 'error', equals: 'account_suspended' }, 'fail', 'Suspended: {body.message}'],
      ],
    );
    assert.equal(spec.retry.maxAttempts, 5, 'max_retries + 1');
    const tasks = spec.resources.tasks!;
    assert.equal(tasks.request.path, '/v1/projects/{parent.project_id}/tasks');
    assert.deepEqual(tasks.parent, { resource: 'projects', params: { project_id: 'id' } });
    assert.equal(tasks.recordsPath, 'items');
  });

  it('Bearer, POST body with the page token and size, has-more stop, a unix start/end range in steps', () => {
    const { spec, issues } = imported('bearer-cursor-body');
    assert.deepEqual(issues, []);
    assert.equal(spec.baseUrl, 'https://{config.region}.api.example.com');
    assert.match(spec.connectionConfig.region!.pattern!, /^\^/, 'a host placeholder gets a pattern');
    assert.equal(spec.connectionConfig.account!.pattern, '^[a-z0-9]+$', "the manifest's own pattern");
    const events = spec.resources.events!;
    assert.equal(events.request.method, 'POST');
    assert.equal(events.request.path, '/v2/events/search');
    assert.deepEqual(events.request.body, {
      sort: 'updated_at',
      account: '{config.account}',
      limit: '{limit}',
      starting_after: '{cursor}',
      updated_from: '{window.start|unix}',
      updated_to: '{window.end|unix}',
    });
    assert.equal(events.pagination.type, 'cursor');
    assert.deepEqual(
      { ...events.pagination, param: undefined },
      {
        type: 'cursor',
        cursorPath: 'paging.next',
        hasMorePath: 'has_more',
        pageSize: 50,
        stopOnEmptyPage: true,
        param: undefined,
      },
    );
    assert.deepEqual(events.primaryKey, ['account_id', 'id']);
    assert.equal(events.incremental?.format, 'unix');
    assert.equal(events.incremental?.step, '7d');
    assert.equal(events.incremental?.lookbackSeconds, 3600);
  });

  it('Basic without a password, page numbers, a one-value list partition, path query, JSON Lines, composite error handlers', () => {
    const { spec, issues } = imported('basic-page-list');
    assert.deepEqual(issues, [], 'an empty password is basic auth without one: nothing differs');
    assert.equal(importedFully(issues), true);
    assert.deepEqual(spec.auth, { type: 'basic', username: 'api_key' });
    assert.deepEqual(Object.keys(spec.secrets), ['api_key']);
    const inv = spec.resources.invoices!;
    assert.equal(inv.request.path, '/api/accounts/emea/invoices');
    assert.deepEqual(inv.request.query, { expand: 'lines', status: 'all', currency: '{config.currency}' });
    assert.equal(spec.connectionConfig.currency!.required, false);
    assert.equal(inv.primaryKey, 'meta.uid');
    assert.equal(inv.decoder?.format, 'jsonl');
    assert.equal(inv.pagination.type, 'page');
    assert.deepEqual(
      [
        inv.pagination.type === 'page' && inv.pagination.pageParam,
        inv.pagination.type === 'page' && inv.pagination.startPage,
      ],
      ['p', 1],
    );
    assert.deepEqual(
      inv.responseRules.map((r) => [r.when, r.action]),
      [
        [{ status: [429] }, 'rate-limited'],
        [{ path: '', matches: 'try again' }, 'retry'],
      ],
    );
    assert.equal(spec.retry.initialIntervalMs, 2000);
  });

  it('Basic with a fixed password: the fixed text is written into the spec, nothing lost', () => {
    const r = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester:
        url_base: https://x.example.com
        path: /s
        authenticator: { type: BasicHttpAuthenticator, username: "{{ config['api_key'] }}", password: x }
`,
      { id: 'x' },
    );
    const spec = parseSpec(r.spec!, 'x');
    assert.deepEqual(spec.auth, { type: 'basic', username: 'api_key', password: { value: 'x' } });
    assert.deepEqual(Object.keys(spec.secrets), ['api_key'], 'connections supply only the key');
    assert.deepEqual(r.issues, []);
  });

  it('RemoveFields: pointers become removeFields after the added fields; order, conditions, list items and globs are reported', () => {
    const r = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester: { url_base: https://x.example.com, path: /s }
      record_selector: { extractor: { field_path: [data] } }
    transformations:
      - type: AddFields
        fields: [{ path: [created], value: "{{ record['attributes']['created'] }}" }]
      - type: RemoveFields
        field_pointers: [[attributes, created], [items, '*', secret], [tags, 0], [blob, '*'], [x, 'a*']]
      - { type: RemoveFields, condition: "{{ property == '' }}", field_pointers: [[notes]] }
      - type: AddFields
        fields:
          - { path: [items], value: "{{ record['items'] }}" }
          - { path: [again], value: "{{ record['attributes']['created'] }}" }
`,
      { id: 'x' },
    );
    const spec = parseSpec(r.spec!, 'x');
    const s = spec.resources.s!;
    assert.deepEqual(s.removeFields, ['attributes.created', 'items.*.secret']);
    assert.deepEqual(s.fields, { created: 'attributes.created', again: 'attributes.created' });
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.effect]),
      [
        ['streams.0.transformations.1.field_pointers.2', 'differs'],
        ['streams.0.transformations.1.field_pointers.3', 'differs'],
        ['streams.0.transformations.1.field_pointers.4', 'differs'],
        ['streams.0.transformations.2.condition', 'differs'],
        ['streams.0.transformations.3.fields.0.path', 'data'],
        ['streams.0.transformations.3.fields.1.value', 'differs'],
      ],
    );
    // The common shape (copy a nested field up, then remove it) imports fully.
    const clean = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever: { requester: { url_base: https://x.example.com, path: /s } }
    transformations:
      - { type: AddFields, fields: [{ path: [createdAt], value: "{{ record['attributes']['createdAt'] }}" }] }
      - { type: RemoveFields, field_pointers: [[attributes, createdAt]] }
      - { type: RemoveFields, field_pointers: [[content, html]] }
`,
      { id: 'x' },
    );
    assert.deepEqual(clean.issues, []);
    assert.deepEqual(parseSpec(clean.spec!, 'x').resources.s!.removeFields, [
      'attributes.createdAt',
      'content.html',
    ]);
  });

  it('OAuth refresh tokens, Link header and next URL (RequestPath), a header cursor, flattening', () => {
    const { spec, issues } = imported('oauth-links');
    assert.deepEqual(issues, []);
    assert.equal(spec.auth.type, 'oauth2-refresh-token');
    assert.deepEqual(Object.keys(spec.secrets).sort(), [
      'credentials_client_id',
      'credentials_client_secret',
      'credentials_refresh_token',
    ]);
    assert.equal(spec.resources.contacts!.pagination.type, 'link-header');
    assert.equal(spec.resources.contacts!.flatten, 'properties');
    const deals = spec.resources.deals!.pagination;
    assert.ok(deals.type === 'next-url' && deals.nextUrlPath === 'data.next_url');
    const notes = spec.resources.notes!;
    assert.ok(notes.pagination.type === 'cursor' && notes.pagination.cursorHeader === 'X-Next-Page');
    assert.deepEqual(notes.request.headers, { 'X-Page-Token': '{cursor}' });
  });

  it('under the grammar before issue 20: reports every untranslatable component with its manifest path and effect, and keeps the rest', () => {
    const result = importAirbyteManifest(fixture('untranslatable'), { id: 'u', constructs: TODAY });
    assert.ok(result.spec);
    parseSpec(result.spec, 'u');
    assert.deepEqual(Object.values(result.resources).sort(), ['client_side_cursor', 'good']);
    const expect: [string, string, RegExp][] = [
      ['streams.1.retriever.record_selector.extractor.field_path', 'data', /wildcard/],
      ['streams.2.primary_key', 'data', /without a primary key/],
      ['streams.3.retriever.requester.request_parameters.since', 'data', /now_utc/],
      ['streams.4.incremental_sync.is_client_side_incremental', 'incremental', /client-side/],
      ['streams.5.retriever.partition_router.values', 'data', /neither a list nor one config value/],
      ['definitions.requester.authenticator', 'differs', /only the "key" option/],
    ];
    for (const [p, effect, message] of expect) {
      const found = byPath(result.issues, p);
      assert.equal(found.length, 1, p);
      assert.equal(found[0]!.effect, effect, p);
      assert.match(found[0]!.message, message, p);
    }
    assert.equal(result.issues.length, expect.length, JSON.stringify(result.issues, null, 1));
  });

  it('a secret-marked field in a path is plain config in the query too, and the spec validates', () => {
    const r = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: stats
    primary_key: id
    retriever:
      requester:
        url_base: https://x.example.com
        path: "/orgs/{{ config['org_id'] }}/stats"
        request_parameters: { entity: "urn:org:{{ config['org_id'] }}" }
spec:
  connection_specification:
    properties: { org_id: { type: string, airbyte_secret: true } }
`,
      { id: 'x' },
    );
    assert.deepEqual(Object.keys(r.resources), ['stats']);
    const spec = parseSpec(r.spec!, 'x');
    assert.equal(spec.resources.stats!.request.path, '/orgs/{config.org_id}/stats');
    assert.deepEqual(spec.resources.stats!.request.query, { entity: 'urn:org:{config.org_id}' });
    assert.deepEqual(Object.keys(spec.connectionConfig), ['org_id']);
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.effect]),
      [['streams.0.retriever.requester.path', 'differs']],
    );
  });

  it("start_datetime from config (plain or through format_datetime) is the connection's startDate, with relative alternatives; a computed one is reported", () => {
    const stream = (start: string) => `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /s }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: '%Y-%m-%dT%H:%M:%SZ'
      start_datetime: "${start}"
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: since }
spec:
  connection_specification:
    properties: { start_date: { type: string }, days: { type: integer } }
`;
    for (const start of [
      "{{ config['start_date'] }}",
      "{{ format_datetime(config['start_date'], '%Y-%m-%d') }}",
    ]) {
      const r = importAirbyteManifest(stream(start), { id: 'x' });
      assert.deepEqual(r.issues, [], start);
      const spec = parseSpec(r.spec!, 'x');
      assert.equal(spec.resources.s!.incremental!.startDate, '{config.start_date}', start);
      assert.equal(spec.connectionConfig.start_date!.type, 'string');
    }
    {
      const r = importAirbyteManifest(stream("{{ config.get('start_date') or day_delta(-30) }}"), {
        id: 'x',
      });
      assert.deepEqual(r.issues, []);
      assert.deepEqual(parseSpec(r.spec!, 'x').resources.s!.incremental!.startDate, [
        '{config.start_date}',
        '{now|minus:P30D}',
      ]);
    }
    // A number where a strftime format reads text, and a computed maximum: reported.
    for (const start of ["{{ config['days'] }}", "{{ max(day_delta(-30), config['start_date']) }}"]) {
      const r = importAirbyteManifest(stream(start), { id: 'x' });
      assert.equal(parseSpec(r.spec!, 'x').resources.s!.incremental!.startDate, undefined, start);
      assert.deepEqual(
        r.issues.map((i) => [i.path, i.effect]),
        [['streams.0.incremental_sync.start_datetime', 'differs']],
        start,
      );
    }
    const before = importAirbyteManifest(stream("{{ config['start_date'] }}"), {
      id: 'x',
      constructs: TODAY,
    });
    assert.equal(before.issues[0]?.path, 'streams.0.incremental_sync.start_datetime');
  });

  it('a config value glued to a host, and two hosts: left out with the reason', () => {
    const r = importAirbyteManifest(
      `
streams:
  - { type: DeclarativeStream, name: a, primary_key: id, retriever: { requester: { url_base: "{{ config.base_url }}.example.com", path: /a } } }
  - { type: DeclarativeStream, name: b, primary_key: id, retriever: { requester: { url_base: "https://one.example.com", path: /b } } }
  - { type: DeclarativeStream, name: c, primary_key: id, retriever: { requester: { url_base: "https://one.example.com", path: /c } } }
  - { type: DeclarativeStream, name: d, primary_key: id, retriever: { requester: { url_base: "https://two.example.com", path: /d } } }
`,
      { id: 'x' },
    );
    assert.deepEqual(Object.keys(r.resources).sort(), ['b', 'c']);
    assert.match(
      byPath(r.issues, 'streams.0.retriever.requester.url_base')[0]!.message,
      /neither an http\(s\) URL with a literal scheme nor a config value then a path/,
    );
    assert.match(
      byPath(r.issues, 'streams.3.retriever.requester.url_base')[0]!.message,
      /differs from https:\/\/one/,
    );
  });

  it('a whole base URL and token URL from config: a format: url field; config in a token URL host: a host label', () => {
    const r = importAirbyteManifest(
      `
definitions:
  requester:
    type: HttpRequester
    url_base: "{{ config['endpoint'] }}/api/v1"
    authenticator:
      type: OAuthAuthenticator
      client_id: "{{ config['client_id'] }}"
      client_secret: "{{ config['client_secret'] }}"
      refresh_token: "{{ config['refresh_token'] }}"
      token_refresh_endpoint: "{{ config['endpoint'] }}/oauth/token"
streams:
  - type: DeclarativeStream
    name: rooms
    primary_key: id
    retriever:
      requester: { $ref: "#/definitions/requester", path: rooms.list }
      record_selector: { extractor: { field_path: [rooms] } }
spec:
  connection_specification:
    required: [endpoint]
    properties:
      endpoint: { type: string, title: Endpoint }
      client_id: { type: string, airbyte_secret: true }
      client_secret: { type: string, airbyte_secret: true }
      refresh_token: { type: string, airbyte_secret: true }
`,
      { id: 'chat' },
    );
    assert.deepEqual(r.issues, []);
    const spec = parseSpec(r.spec!, 'chat');
    assert.equal(spec.baseUrl, '{config.endpoint}');
    assert.equal(spec.resources.rooms!.request.path, '/api/v1/rooms.list');
    assert.deepEqual(spec.connectionConfig.endpoint, {
      type: 'string',
      required: true,
      description: 'Endpoint',
      format: 'url',
    });
    assert.equal(
      spec.auth.type === 'oauth2-refresh-token' && spec.auth.tokenUrl,
      '{config.endpoint}/oauth/token',
    );

    const zoho = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: users
    primary_key: id
    retriever:
      requester:
        url_base: "https://analyticsapi.zoho.{{ config['data_center'] }}/restapi/v2"
        path: /users
        authenticator:
          type: OAuthAuthenticator
          client_id: "{{ config['client_id'] }}"
          client_secret: "{{ config['client_secret'] }}"
          refresh_token: "{{ config['refresh_token'] }}"
          token_refresh_endpoint: "https://accounts.zoho.{{ config['data_center'] }}/oauth/v2/token"
spec:
  connection_specification:
    properties:
      data_center: { type: string, enum: [com, eu, com.au] }
`,
      { id: 'zoho' },
    );
    assert.deepEqual(zoho.issues, []);
    const z = parseSpec(zoho.spec!, 'zoho');
    assert.equal(
      z.auth.type === 'oauth2-refresh-token' && z.auth.tokenUrl,
      'https://accounts.zoho.{config.data_center}/oauth/v2/token',
    );
    assert.ok(z.connectionConfig.data_center!.pattern, 'a host label has a pattern');
    // A secret config value is never taken as a URL; a partition value in a token URL is not config.
    const secretBase = importAirbyteManifest(
      `
streams:
  - { type: DeclarativeStream, name: a, primary_key: id, retriever: { requester: { url_base: "{{ config.url }}/v1", path: /a } } }
spec: { connection_specification: { properties: { url: { type: string, airbyte_secret: true } } } }
`,
      { id: 'x' },
    );
    assert.equal(secretBase.spec, undefined);
  });

  it('ListPartitionRouters with literal or config lists: one run per combination (parent.values)', () => {
    const r = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: runs
    primary_key: id
    retriever:
      requester: { url_base: https://x.example.com, path: "/tests/{{ stream_partition.strategy }}" }
      partition_router:
        - { type: ListPartitionRouter, cursor_field: strategy, values: [desktop, mobile] }
        - type: ListPartitionRouter
          cursor_field: locale
          values: [en, de]
          request_option: { type: RequestOption, inject_into: request_parameter, field_name: hl }
    transformations:
      - { type: AddFields, fields: [{ path: [strategy], value: "{{ stream_partition.strategy }}" }] }
  - type: DeclarativeStream
    name: from_config
    primary_key: id
    retriever:
      requester: { url_base: https://x.example.com, path: /c }
      partition_router:
        type: ListPartitionRouter
        cursor_field: url
        values: "{{ config['urls'] }}"
        request_option: { type: RequestOption, inject_into: request_parameter, field_name: url }
spec: { connection_specification: { properties: { urls: { type: array, items: { type: string } } } } }
`,
      { id: 'x' },
    );
    const spec = parseSpec(r.spec!, 'x');
    const runs = spec.resources.runs!;
    assert.deepEqual(runs.parent, { values: { strategy: ['desktop', 'mobile'], locale: ['en', 'de'] } });
    assert.equal(runs.request.path, '/tests/{parent.strategy}');
    assert.deepEqual(runs.request.query, { hl: '{parent.locale}' });
    assert.deepEqual(runs.fields, { strategy: { value: '{parent.strategy}' } });
    assert.deepEqual(r.issues, []);
    // A list from config: the connection's own values, a list field.
    assert.deepEqual(spec.resources.from_config!.parent, { values: { url: '{config.urls}' } });
    assert.equal(spec.connectionConfig.urls!.type, 'list');
  });

  it('a CustomRecordExtractor (provider Python code) is left out, saying so', () => {
    const r = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester: { url_base: https://x.example.com, path: /s }
      record_selector:
        extractor: { type: CustomRecordExtractor, class_name: source_x.components.RowsExtractor }
`,
      { id: 'x' },
    );
    assert.equal(r.spec, undefined);
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.effect, i.message]),
      [
        [
          'streams.0.retriever.record_selector.extractor',
          'data',
          'custom Python code (source_x.components.RowsExtractor) cannot be translated, and Syncwright runs no provider code: the stream is left out',
        ],
      ],
    );
  });

  it('OffsetIncrement without a page_size_option sends no page size; with one, in its parameter', () => {
    const manifest = (option: string) => `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester: { url_base: https://x.example.com, path: /s }
      paginator:
        type: DefaultPaginator
        page_token_option: { type: RequestOption, inject_into: request_parameter, field_name: skip }
        ${option}
        pagination_strategy: { type: OffsetIncrement, page_size: 50 }
`;
    const quiet = importAirbyteManifest(manifest(''), { id: 'x' });
    assert.deepEqual(quiet.issues, []);
    assert.deepEqual(parseSpec(quiet.spec!, 'x').resources.s!.pagination, {
      type: 'offset',
      offsetParam: 'skip',
      limitParam: false,
      pageSize: 50,
      stopOnEmptyPage: true,
    });
    const sized = importAirbyteManifest(
      manifest('page_size_option: { type: RequestOption, inject_into: request_parameter, field_name: top }'),
      { id: 'x' },
    );
    assert.deepEqual(sized.issues, []);
    const p = parseSpec(sized.spec!, 'x').resources.s!.pagination;
    assert.equal(p.type === 'offset' && p.limitParam, 'top');
  });

  it('cursor values and stop conditions: last record, conditional cursors, records-path emptiness, done flags', () => {
    const stream = (cursor: string, stop: string) => `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /s }
      record_selector: { extractor: { field_path: [entries] } }
      paginator:
        type: DefaultPaginator
        page_token_option: { type: RequestOption, inject_into: request_parameter, field_name: after }
        pagination_strategy: { type: CursorPagination, cursor_value: "${cursor}", stop_condition: "${stop}" }
`;
    const pag = (cursor: string, stop: string) => {
      const r = importAirbyteManifest(stream(cursor, stop), { id: 'x' });
      assert.deepEqual(r.issues, [], `${cursor} / ${stop}`);
      return (r.spec!.resources as Record<string, { pagination: unknown }>).s!.pagination;
    };
    assert.deepEqual(pag("{{ response['entries'][-1]['uuid'] }}", '{{ not response.has_more }}'), {
      type: 'cursor',
      lastRecordPath: 'uuid',
      param: 'after',
      hasMorePath: 'has_more',
    });
    assert.deepEqual(
      pag('{{ last_record.meta.after if last_record else None }}', '{{ response.entries | length == 0 }}'),
      {
        type: 'cursor',
        lastRecordPath: 'meta.after',
        param: 'after',
      },
    );
    assert.deepEqual(pag('{{ response.next }}', '{{ response.is_last == true }}'), {
      type: 'cursor',
      cursorPath: 'next',
      param: 'after',
      donePath: 'is_last',
    });
    const bad = importAirbyteManifest(stream('{{ response.next }}', '{{ response.page > 3 }}'), { id: 'x' });
    assert.equal(bad.issues[0]!.path, 'streams.0.retriever.paginator.pagination_strategy.stop_condition');
    assert.equal(bad.issues[0]!.effect, 'data');
  });
});

describe('import airbyte: the constructs of issue 20 (the default)', () => {
  it('append-only, client-side incremental, wildcard paths, now arithmetic, computed fields, session tokens', () => {
    assert.equal(DEFAULT_CONSTRUCTS, ISSUE_20);
    const r = importAirbyteManifest(fixture('untranslatable'), { id: 'u' });
    parseSpec(r.spec!, 'u'); // the spec schema accepts every construct emitted
    assert.deepEqual(Object.values(r.resources).sort(), [
      'client_side',
      'client_side_cursor',
      'good',
      'no_key',
      'wildcard',
    ]);
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.effect]),
      // Both options of the SelectiveAuthenticator are imported (auth.type: select): nothing differs.
      [['streams.5.retriever.partition_router.values', 'data']],
    );
    const res = r.spec!.resources as Record<string, Record<string, unknown>>;
    assert.equal(res.wildcard!.recordsPath, 'data.*.attributes');
    assert.equal(res.no_key!.appendOnly, true);
    assert.equal(res.no_key!.primaryKey, undefined);
    assert.deepEqual((res.client_side!.request as { query: unknown }).query, {
      since: '{now|minus:P30D|date}',
    });
    assert.deepEqual(res.client_side_cursor!.incremental, {
      cursorField: 'modified',
      clientSide: true,
      startDate: '{config.start_date}',
    });
    assert.deepEqual((r.spec!.connectionConfig as Record<string, unknown>).start_date, {
      type: 'string',
      required: false,
    });
    assert.equal(res.per_region, undefined, 'computed partition values are left out');
    assert.deepEqual(r.spec!.auth, {
      type: 'select',
      by: 'credentials_auth_type',
      options: {
        session: {
          type: 'session-token',
          login: { path: '/login', method: 'POST' },
          tokenPath: 'token',
          header: 'authorization',
          value: 'Bearer {token}',
        },
        key: { type: 'api-key', in: 'header', name: 'X-Key', value: 'credentials_api_key' },
      },
    });
    const added = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever: { requester: { url_base: "https://x.example.com", path: /s } }
    transformations:
      - type: AddFields
        fields:
          - { path: [synced_at], value: "{{ now_utc() }}" }
          - { path: [label], value: "{{ record.kind ~ '-' ~ record.id }}" }
          - { path: [day], value: "{{ format_datetime(record.created, '%Y-%m-%d') }}" }
          - { path: [double], value: "{{ record.n * 2 }}" }
`,
      { id: 'x' },
    );
    parseSpec(added.spec!, 'x');
    const fields = (added.spec!.resources as Record<string, { fields: unknown }>).s!.fields;
    // A concatenation is template text; arithmetic is still refused.
    assert.deepEqual(fields, {
      synced_at: { value: '{now}' },
      label: { value: '{record.kind}-{record.id}' },
      day: { value: '{record.created|date}' },
    });
    assert.equal(added.issues.length, 1);
    assert.match(added.issues[0]!.message, /"record\.n \* 2" has no Syncwright equivalent/);
  });
});

describe('import airbyte: relative windows, cursors without a request, window filters', () => {
  it('relative and computed start/end datetimes become startDate/endDate alternatives; no-request cursors readsAll; a window filter client-side', () => {
    const { spec, issues } = imported('relative-windows');
    assert.deepEqual(
      issues.map((i) => [i.path, i.effect]),
      [['streams.1.incremental_sync', 'note']],
      'nothing lost',
    );
    assert.deepEqual(spec.resources.logs!.incremental, {
      cursorField: 'timestamp',
      format: 'iso',
      lookbackSeconds: 0,
      lagSeconds: 0,
      clientSide: false,
      order: 'unsorted',
      readsAll: false,
      step: '7d',
      startDate: ['{config.start_date}', '{now|minus:P30D|yyyy-MM-ddTHH:mm:ssZ}'],
      endDate: ['{config.end_date}', '{now|minus:P1D|yyyy-MM-ddTHH:mm:ssZ}'],
    });
    assert.deepEqual(spec.resources.logs!.request.query, {
      'filter[from]': '{window.start|yyyy-MM-ddTHH:mm:ssZ}',
      'filter[to]': '{window.end|yyyy-MM-ddTHH:mm:ssZ}',
    });
    // Airbyte reads and emits every record on every sync when no request carries the cursor: readsAll
    // (no start date, no windows: nothing is sent, nothing skipped).
    assert.deepEqual(spec.resources.monitors!.incremental, {
      cursorField: 'created',
      format: 'iso',
      lookbackSeconds: 0,
      lagSeconds: 0,
      clientSide: false,
      order: 'unsorted',
      readsAll: true,
    });
    assert.match(
      issues[0]!.message,
      /Airbyte reads and emits every record on every sync: incremental\.readsAll/,
    );
    // `record.modified >= stream_interval.start_time`: records before the run's start are skipped.
    assert.equal(spec.resources.contacts!.filter, undefined);
    assert.equal(spec.resources.contacts!.incremental!.clientSide, true);
    assert.equal(spec.resources.contacts!.incremental!.startDate, '2020-01-01T00:00:00.000Z');
    assert.deepEqual(spec.resources.contacts!.incremental!.endDate, ['{config.end_date}', '{now}']);
    assert.deepEqual(spec.resources.contacts!.request.query, {
      modified_since: '{since|yyyy-MM-ddTHH:mm:ssZ}',
    });
  });

  it("a unix start from a number field, a window filter on another field, today's date as the end", () => {
    const r = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: activity
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /activity }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: created_at
      datetime_format: '%s'
      start_datetime: { type: MinMaxDatetime, datetime: "{{ config['start_date'] }}", datetime_format: '%s' }
      end_datetime: { type: MinMaxDatetime, datetime: "{{ now_utc().strftime('%s') }}", datetime_format: '%s' }
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: date_from }
  - type: DeclarativeStream
    name: other
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /other }
      record_selector:
        extractor: { field_path: [] }
        record_filter: { condition: "{{ record['created'] >= stream_interval['start_time'] }}" }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: '%Y-%m-%dT%H:%M:%SZ'
      start_datetime: '2024-01-01T00:00:00Z'
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: since }
  - type: DeclarativeStream
    name: feed
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /feed }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: '%Y-%m-%dT%H:%M:%SZ'
      start_datetime: '2024-01-01T00:00:00Z'
      end_datetime: { type: MinMaxDatetime, datetime: "{{ today_utc() }}", datetime_format: '%Y-%m-%d' }
      is_client_side_incremental: true
  - type: DeclarativeStream
    name: daily
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /daily }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: '%Y-%m-%d'
      start_datetime: '2024-01-01'
      end_datetime: "{{ now_utc().strftime('%Y-%m-%d') }}"
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: from }
      end_time_option: { type: RequestOption, inject_into: request_parameter, field_name: to }
  - type: DeclarativeStream
    name: answers
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /answers }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: created_at
      datetime_format: '%d/%m/%Y %H:%M'
      start_datetime: { type: MinMaxDatetime, datetime: "{{ config['since'] }}", datetime_format: '%d/%m/%Y %H:%M' }
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: start }
  - type: DeclarativeStream
    name: minutes
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /minutes }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: at
      datetime_format: '%d/%m/%Y %H:%M'
      cursor_datetime_formats: ['%Y-%m-%dT%H:%M:%SZ']
      start_datetime: { type: MinMaxDatetime, datetime: "{{ config['since'] }}", datetime_format: '%d/%m/%Y %H:%M' }
      end_datetime: { type: MinMaxDatetime, datetime: "{{ now_utc().strftime('%d/%m/%Y %H:%M') }}", datetime_format: '%d/%m/%Y %H:%M' }
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: start }
spec:
  connection_specification:
    properties: { start_date: { type: number }, end_date: { type: string }, since: { type: string } }
`,
      { id: 'x' },
    );
    const spec = parseSpec(r.spec!, 'x');
    assert.equal(spec.resources.activity!.incremental!.startDate, '{config.start_date|iso}');
    assert.equal(spec.resources.activity!.incremental!.endDate, undefined, 'now is the default end');
    assert.equal(spec.connectionConfig.start_date!.type, 'number');
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.effect]),
      [['streams.1.retriever.record_selector.record_filter.condition', 'incremental']],
    );
    // Records dated 15/03/2026 12:34 are read by that pattern (cursorFormat), and so is the
    // connection's start date (the parse: filter).
    assert.deepEqual(spec.resources.answers!.incremental, {
      cursorField: 'created_at',
      cursorFormat: 'dd/MM/yyyy HH:mm',
      startDate: '{config.since|parse:dd/MM/yyyy HH:mm}',
      format: 'iso',
      lookbackSeconds: 0,
      lagSeconds: 0,
      clientSide: false,
      readsAll: false,
      order: 'unsorted',
    });
    assert.equal(spec.resources.minutes!.incremental!.startDate, '{config.since|parse:dd/MM/yyyy HH:mm}');
    assert.equal(spec.resources.minutes!.incremental!.cursorFormat, undefined, 'its records are ISO');
    // Sent as dd/MM/yyyy HH:mm, but read back to the minute as a time.
    assert.equal(spec.resources.minutes!.incremental!.endDate, '{now|yyyy-MM-ddTHH:mmZ}');
    assert.deepEqual(spec.resources.minutes!.request.query, { start: '{since|dd/MM/yyyy HH:mm}' });
    assert.equal(spec.resources.other!.incremental!.clientSide, false);
    // Today's date is midnight, not now: records of today wait for tomorrow's run, as in Airbyte.
    assert.equal(spec.resources.feed!.incremental!.clientSide, true);
    assert.equal(spec.resources.feed!.incremental!.endDate, '{now|date}');
    assert.equal(spec.resources.daily!.incremental!.endDate, '{now|date}');
  });
});

describe('import airbyte: incremental children', () => {
  it('incremental_dependency on an incremental parent: only changed parents are visited (parent.changedOnly), each child from its own mark', () => {
    const manifest = `
definitions:
  requester: { type: HttpRequester, url_base: "https://x.example.com" }
  conversations:
    type: DeclarativeStream
    name: conversations
    primary_key: id
    retriever:
      requester: { $ref: '#/definitions/requester', path: /conversations }
      record_selector: { extractor: { field_path: [items] } }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: modifiedAt
      datetime_format: '%Y-%m-%dT%H:%M:%SZ'
      start_datetime: '2024-01-01T00:00:00Z'
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: modifiedSince }
streams:
  - $ref: '#/definitions/conversations'
  - type: DeclarativeStream
    name: threads
    primary_key: id
    retriever:
      requester: { $ref: '#/definitions/requester', path: "/conversations/{{ stream_partition['conversation_id'] }}/threads" }
      record_selector: { extractor: { field_path: [threads] } }
      partition_router:
        type: SubstreamPartitionRouter
        parent_stream_configs:
          - type: ParentStreamConfig
            parent_key: id
            partition_field: conversation_id
            stream: { $ref: '#/definitions/conversations' }
            incremental_dependency: true
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: createdAt
      datetime_format: '%Y-%m-%dT%H:%M:%SZ'
      start_datetime: '2024-01-01T00:00:00Z'
      is_data_feed: true
`;
    const r = importAirbyteManifest(manifest, { id: 'x' });
    const spec = parseSpec(r.spec!, 'x');
    assert.deepEqual(
      r.issues.filter((i) => i.effect !== 'note').map((i) => [i.path, i.effect]),
      [],
    );
    assert.equal(importedFully(r.issues), true);
    assert.deepEqual(spec.resources.threads!.parent, {
      resource: 'conversations',
      params: { conversation_id: 'id' },
      changedOnly: true,
    });
    assert.equal(spec.resources.threads!.incremental!.clientSide, true);
    assert.equal(spec.resources.threads!.incremental!.order, 'descending');

    // Without a cursor of its own, the child is read in full for each changed parent: incremental
    // through its parent alone.
    const bare = importAirbyteManifest(manifest.replace(/ {4}incremental_sync:\n(?: {6}.*\n)+$/, ''), {
      id: 'x',
    });
    const bareSpec = parseSpec(bare.spec!, 'x');
    assert.equal(bareSpec.resources.threads!.incremental, undefined);
    assert.equal(
      bareSpec.resources.threads!.parent &&
        'changedOnly' in bareSpec.resources.threads!.parent &&
        bareSpec.resources.threads!.parent.changedOnly,
      true,
    );
    assert.deepEqual(
      bare.issues.filter((i) => i.effect !== 'note').map((i) => [i.path, i.effect]),
      [],
    );
  });
});

describe('syncwright import airbyte (CLI)', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['bin/syncwright.js', ...args], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '', SYNCWRIGHT_HOME: os.tmpdir() },
    });

  it('writes a spec that validate accepts, prints the report, exits 0 when nothing is lost', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-'));
    const out = path.join(dir, 'acme.yaml');
    const r = cli([
      'import',
      'airbyte',
      'test/fixtures/airbyte/basic-page-list.yaml',
      '--out',
      out,
      '--id',
      'acme',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1 of 1 stream\(s\) imported into .*acme\.yaml/);
    assert.doesNotMatch(r.stdout, /would lose|imported with a difference/);
    const spec = await loadSpec(out);
    assert.equal(spec.id, 'acme');
    const v = cli(['validate', out]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('exits 1 when a stream would lose data, naming the paths; the spec still goes to stdout', () => {
    const r = cli(['import', 'airbyte', 'test/fixtures/airbyte/untranslatable.yaml']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^# Imported from untranslatable\.yaml/);
    assert.match(r.stderr, /would lose data \(1\):/);
    assert.match(r.stderr, /streams\.5\.retriever\.partition_router\.values \(stream per_region\)/);
    assert.match(r.stderr, /syncwright: 1 stream\(s\) would lose data or incremental behaviour/);
  });

  it('a manifest that is not one: one clear line', () => {
    const r = cli(['import', 'airbyte', 'package.json']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /syncwright: package\.json: streams: expected a list of streams/);
  });
});

describe('import airbyte: parents of parents', () => {
  it('a stream whose parent is a substream is a child of a child; the unlisted grandparent is imported too', () => {
    const { spec, issues } = imported('grandchildren');
    assert.deepEqual(issues, []);
    assert.deepEqual(Object.keys(spec.resources).sort(), ['clicks', 'groups', 'links']);
    assert.deepEqual(spec.resources.links?.parent, { resource: 'groups', params: { group_guid: 'guid' } });
    assert.deepEqual(spec.resources.clicks?.parent, {
      resource: 'links',
      params: { link_id: 'id', group_guid: 'group_guid' },
    });
    assert.equal(spec.resources.groups?.parent, undefined);
    assert.equal(
      spec.resources.clicks?.request.path,
      '/v1/groups/{parent.group_guid}/links/{parent.link_id}/clicks',
    );
  });
});

describe('import airbyte: a product of parents', () => {
  it("routers over different parent streams are parent: { product }, in the routers' order", () => {
    const { spec, issues } = imported('parent-product');
    assert.deepEqual(issues, []);
    assert.deepEqual(spec.resources.clicks?.parent, {
      product: [
        { resource: 'groups', params: { group_guid: 'guid' } },
        { resource: 'links', params: { link_id: 'id' } },
      ],
    });
  });
});
