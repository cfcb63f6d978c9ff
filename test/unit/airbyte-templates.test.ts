import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { TODAY } from '../../src/import/airbyte/target.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

/** A one-stream manifest with these request parameters, added fields and $parameters. */
function manifest(
  params: Record<string, string>,
  fields: Record<string, string> = {},
  parameters: Record<string, string> = {},
): string {
  return stringify({
    version: '6.0.0',
    type: 'DeclarativeSource',
    check: { type: 'CheckStream', stream_names: ['items'] },
    streams: [
      {
        type: 'DeclarativeStream',
        name: 'items',
        primary_key: 'id',
        $parameters: parameters,
        retriever: {
          type: 'SimpleRetriever',
          requester: {
            type: 'HttpRequester',
            url_base: 'https://api.items.test',
            path: '/items',
            http_method: 'GET',
            request_parameters: params,
          },
          record_selector: {
            type: 'RecordSelector',
            extractor: { type: 'DpathExtractor', field_path: ['data'] },
          },
        },
        ...(Object.keys(fields).length > 0
          ? {
              transformations: [
                {
                  type: 'AddFields',
                  fields: Object.entries(fields).map(([k, v]) => ({ path: [k], value: v })),
                },
              ],
            }
          : {}),
      },
    ],
    spec: {
      type: 'Spec',
      connection_specification: {
        type: 'object',
        properties: {
          tags: { type: 'array', items: { type: 'string' } },
          day: { type: 'string' },
          kind: { type: 'string' },
          fallback: { type: 'string' },
          token: { type: 'string', airbyte_secret: true },
        },
      },
    },
  });
}

function query(params: Record<string, string>, parameters: Record<string, string> = {}) {
  const r = importAirbyteManifest(manifest(params, {}, parameters), { id: 'items' });
  const spec = r.spec ? parseSpec(r.spec, 'items') : undefined;
  return { issues: r.issues, query: spec?.resources.items?.request.query, spec };
}

describe('import airbyte: the text expressions of a manifest as template filters', () => {
  it('the fixture: every expression has its filter and the spec is valid', () => {
    const r = importAirbyteManifest(readFileSync('test/fixtures/airbyte/text-expressions.yaml', 'utf8'), {
      id: 'press',
    });
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.effect]),
      [['streams.0.transformations.0.fields.0.value', 'differs']],
      'only the hash of a missing value differs',
    );
    const spec = parseSpec(r.spec!, 'press');
    const articles = spec.resources.articles!;
    assert.deepEqual(articles.request.query, {
      symbols: '{config.symbols|join:,|nonempty}',
      created_after: '{config.start_date|unix|unix-ms}',
      q: '{config.query_articles}',
      order: '{config.sort|eq:oldest:asc:desc}',
      archived: '{config.include_archived|if:yes:no}',
    });
    assert.deepEqual(articles.fields, {
      email_hash: { value: '{record.email|hash:md5}' },
      day: { value: '{record.published|split:T:0}' },
      section: { value: '{record.key|split::::1}' },
    });
    assert.equal(spec.connectionConfig.symbols?.type, 'list');
    assert.equal(
      spec.resources.team_stats?.request.path,
      '/v1/teams/{config.team_id|or:parent.team_id}/stats',
    );
    // Fields inside the parent's value are params of their own, read at that path of the parent record.
    assert.equal(spec.resources.leads?.request.path, '/v1/leads/{parent.team.uuid}');
    assert.deepEqual(spec.resources.leads?.parent, {
      resource: 'teams',
      params: { team: 'lead', 'team.uuid': 'lead.uuid', 'team.name': 'lead.name' },
    });
    assert.deepEqual(spec.resources.leads?.fields, { lead_name: { value: '{parent.team.name}' } });
  });

  it('join: any literal separator, a config list declared as a list; `.get(x, [])` the same', () => {
    const r = query({ a: "{{ '|'.join(config.tags) }}", b: "{{ ', '.join(config.get('tags', [])) }}" });
    assert.match(
      r.issues[0]?.message ?? '',
      /join\(\) has no equivalent here/,
      'a "|" cannot be a filter argument',
    );
    const ok = query({ b: "{{ ', '.join(config.get('tags', [])) }}" });
    assert.deepEqual(ok.issues, []);
    assert.deepEqual(ok.query, { b: '{config.tags|join:, |nonempty}' });
    assert.equal(ok.spec?.connectionConfig.tags?.type, 'list');
  });

  it('split: a literal separator and index (negative too); anything else is refused', () => {
    assert.deepEqual(
      query({ y: "{{ config.day.split('-')[0] }}", d: "{{ config.day.split('-')[-1] }}" }).query,
      {
        y: '{config.day|split:-:0}',
        d: '{config.day|split:-:-1}',
      },
    );
    for (const bad of [
      '{{ config.day.split(config.kind)[0] }}',
      "{{ config.day.split('-')[config.kind] }}",
      '{{ config.day.split()[0] }}',
    ])
      assert.match(query({ x: bad }).issues[0]?.message ?? '', /only a split at a literal separator/, bad);
  });

  it('timestamp(): unix seconds; times 1000 whole seconds as milliseconds', () => {
    assert.deepEqual(
      query({ s: '{{ timestamp(config.day) }}', ms: '{{ timestamp(config.day) * 1000 }}' }).query,
      {
        s: '{config.day|unix}',
        ms: '{config.day|unix|unix-ms}',
      },
    );
    assert.match(
      query({ x: '{{ timestamp(config.day) * 60 }}' }).issues[0]?.message ?? '',
      /has no Syncwright equivalent/,
    );
  });

  it('or between values is a fallback; a default after it stays a default', () => {
    assert.deepEqual(query({ v: "{{ config.kind or config.fallback or 'latest' }}" }).query, {
      v: '{config.kind|or:config.fallback|default:latest}',
    });
    // The fallback is placed as it is: one with conversions has no filter to name it.
    assert.match(
      query({ v: '{{ config.kind or config.day.split("-")[0] }}' }).issues[0]?.message ?? '',
      /the fallback must be one value without conversions/,
    );
  });

  it('a condition on one config value between literal texts is a choice filter; texts with ":" a template choice', () => {
    assert.deepEqual(
      query({
        a: "{{ 'x' if config.kind == 'k' else 'y' }}",
        b: "{{ 'x' if config.kind != 'k' else 'y' }}",
        c: "{{ 'x' if not config.kind else 'y' }}",
        d: "{{ 'x' if config.kind }}",
      }).query,
      {
        a: '{config.kind|eq:k:x:y}',
        b: '{config.kind|eq:k:y:x}',
        c: '{config.kind|if:y:x}',
        d: '{config.kind|if:x:}',
      },
    );
    // A text a filter cannot carry (":" separates its texts) is a choice of template text instead.
    const colon = query({ a: "{{ 'a:b' if config.kind else 'y' }}" });
    assert.deepEqual(colon.issues, []);
    assert.deepEqual(colon.query, { a: '{?config.kind}a:b{:}y{/}' });
    // A secret's presence is not read into plain config.
    const secret = query({ a: "{{ 'pro' if config.token else 'free' }}" });
    assert.equal(secret.query, undefined);
    assert.deepEqual(
      secret.issues.map((i) => [i.effect, i.path]),
      [['data', 'streams.0.retriever.requester.request_parameters.a']],
    );
  });

  it('a test on manifest parameters is decided at import; literal texts written in pieces are one', () => {
    const r = query(
      {
        c: "{{ config.kind if parameters.name == 'web' else config.day }}",
        q: "{{ config['fall' + 'back'] }}",
      },
      { name: 'web' },
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.query, { c: '{config.kind}', q: '{config.fallback}' });
    assert.deepEqual(
      query({ c: "{{ config.kind if parameters.name != 'web' else 'none' }}" }, { name: 'web' }).query,
      { c: 'none' },
    );
    // Without the parameter the test is not decided here (a stream's name is parameters.name).
    assert.ok(
      query({ c: "{{ config.kind if parameters.page == 'web' else config.day }}" }).issues.length > 0,
    );
  });

  it('hash: md5 by default or a named algorithm; a salt is refused', () => {
    const r = importAirbyteManifest(
      manifest(
        {},
        {
          a: '{{ record.email | hash }}',
          b: "{{ record.email | hash('sha256') }}",
          c: "{{ record.email | hash('md5', 'salt') }}",
        },
      ),
      { id: 'items' },
    );
    assert.deepEqual(parseSpec(r.spec!, 'items').resources.items?.fields, {
      a: { value: '{record.email|hash:md5}' },
      b: { value: '{record.email|hash:sha256}' },
    });
    assert.deepEqual(
      r.issues.map((i) => [i.effect, i.path.replace(/^streams\.0\.transformations\.0\.fields\./, '')]),
      [
        ['differs', '0.value'],
        ['differs', '1.value'],
        ['data', '2.value'],
      ],
    );
  });

  it('without the time functions (an older grammar) nothing of this is emitted', () => {
    const r = importAirbyteManifest(manifest({ a: "{{ ','.join(config.tags) }}" }), {
      id: 'items',
      constructs: TODAY,
    });
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]!.effect, 'data');
  });
});

/** A child stream of `users` (partition field user_id) adding fields from its slice. */
function childManifest(fields: Record<string, string>, primaryKey: string, incremental = false): string {
  const users = {
    type: 'DeclarativeStream',
    name: 'users',
    primary_key: 'id',
    retriever: {
      type: 'SimpleRetriever',
      requester: {
        type: 'HttpRequester',
        url_base: 'https://api.items.test',
        path: '/users',
        http_method: 'GET',
      },
      record_selector: {
        type: 'RecordSelector',
        extractor: { type: 'DpathExtractor', field_path: ['data'] },
      },
    },
  };
  return stringify({
    version: '6.0.0',
    type: 'DeclarativeSource',
    check: { type: 'CheckStream', stream_names: ['users'] },
    streams: [
      users,
      {
        type: 'DeclarativeStream',
        name: 'teams',
        primary_key: primaryKey,
        retriever: {
          type: 'SimpleRetriever',
          requester: {
            type: 'HttpRequester',
            url_base: 'https://api.items.test',
            path: "/users/{{ stream_partition['user_id'] }}/teams",
            http_method: 'GET',
          },
          record_selector: {
            type: 'RecordSelector',
            extractor: { type: 'DpathExtractor', field_path: ['data'] },
          },
          partition_router: {
            type: 'SubstreamPartitionRouter',
            parent_stream_configs: [
              { type: 'ParentStreamConfig', parent_key: 'id', partition_field: 'user_id', stream: users },
            ],
          },
        },
        ...(incremental
          ? {
              incremental_sync: {
                type: 'DatetimeBasedCursor',
                cursor_field: 'updated',
                datetime_format: '%Y-%m-%dT%H:%M:%SZ',
                start_datetime: '2025-01-01T00:00:00Z',
              },
            }
          : {}),
        transformations: [
          { type: 'AddFields', fields: Object.entries(fields).map(([k, v]) => ({ path: [k], value: v })) },
        ],
      },
    ],
    spec: { type: 'Spec', connection_specification: { type: 'object', properties: {} } },
  });
}

describe('import airbyte: slice keys in added fields', () => {
  it("a key the stream's slices never set is null, as Airbyte adds it (reported as a note)", () => {
    const r = importAirbyteManifest(
      childManifest(
        { user: "{{ stream_partition['user_id'] }}", owner: "{{ stream_partition['id'] }}" },
        'id',
      ),
      { id: 'items' },
    );
    assert.deepEqual(
      r.issues.map((i) => [i.effect, i.path]),
      [['note', 'streams.1.transformations.0.fields.1.value']],
    );
    assert.deepEqual(parseSpec(r.spec!, 'items').resources.teams?.fields, {
      user: { value: '{parent.user_id}' },
      owner: { const: null },
    });
  });

  it('not when a cursor adds keys to the slices, nor for a primary key field', () => {
    const windowed = importAirbyteManifest(
      childManifest({ owner: "{{ stream_partition['id'] }}" }, 'id', true),
      { id: 'items' },
    );
    assert.ok(windowed.issues.some((i) => i.effect === 'data' && i.path.endsWith('fields.0.value')));
    const keyed = importAirbyteManifest(childManifest({ owner: "{{ stream_partition['id'] }}" }, 'owner'), {
      id: 'items',
    });
    const issue = keyed.issues.find((i) => i.path.endsWith('fields.0.value'));
    assert.equal(issue?.effect, 'data');
    assert.match(issue?.message ?? '', /part of the primary key/);
  });
});

describe('import airbyte: window bounds in added fields', () => {
  const windowed = (fields: Record<string, string>, extractor: Record<string, unknown>) =>
    stringify({
      version: '6.0.0',
      type: 'DeclarativeSource',
      check: { type: 'CheckStream', stream_names: ['perf'] },
      streams: [
        {
          type: 'DeclarativeStream',
          name: 'perf',
          retriever: {
            type: 'SimpleRetriever',
            requester: {
              type: 'HttpRequester',
              url_base: 'https://api.items.test',
              path: '/perf',
              http_method: 'GET',
            },
            record_selector: { type: 'RecordSelector', extractor },
          },
          incremental_sync: {
            type: 'DatetimeBasedCursor',
            cursor_field: 'ends',
            datetime_format: '%s',
            start_datetime: '2025-01-01T00:00:00Z',
            start_time_option: {
              type: 'RequestOption',
              field_name: 'from',
              inject_into: 'request_parameter',
            },
            end_time_option: { type: 'RequestOption', field_name: 'to', inject_into: 'request_parameter' },
          },
          transformations: [
            { type: 'AddFields', fields: Object.entries(fields).map(([k, v]) => ({ path: [k], value: v })) },
          ],
        },
      ],
      spec: { type: 'Spec', connection_specification: { type: 'object', properties: {} } },
    });

  it("stream_interval.end_time is the window's end, in the cursor's format", () => {
    const r = importAirbyteManifest(
      windowed(
        { ends: '{{ stream_interval.end_time }}', starts: '{{ stream_slice.start_time }}' },
        {
          type: 'DpathExtractor',
          field_path: ['data'],
        },
      ),
      { id: 'perf' },
    );
    assert.deepEqual(r.issues, []);
    const perf = parseSpec(r.spec!, 'perf').resources.perf!;
    assert.deepEqual(perf.fields, {
      ends: { value: '{window.end|unix}' },
      starts: { value: '{window.start|unix}' },
    });
    assert.deepEqual(perf.request.query, { from: '{window.start|unix}', to: '{window.end|unix}' });
  });

  it('a stream left out for its records reports nothing about its cursor', () => {
    const r = importAirbyteManifest(
      windowed(
        { ends: '{{ stream_interval.end_time }}' },
        { type: 'CustomRecordExtractor', class_name: 'x.Y' },
      ),
      { id: 'perf' },
    );
    assert.deepEqual(
      r.issues.map((i) => i.effect),
      ['data'],
    );
  });
});
