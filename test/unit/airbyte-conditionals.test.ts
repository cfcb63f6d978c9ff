/**
 * The importer's Jinja conditionals and string operators (manifests written here, shaped like real
 * connectors'): choices in hosts (a region suffix, a sandbox host, a paid plan's host by whether its
 * key is set), whole bases chosen by config (a self-hosted URL or the cloud's, one per environment),
 * a login host, and parameters (None leaves one out, a split date or today's, joins by a list
 * membership, replace, concatenation in a path).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

function manifest(
  requester: Record<string, unknown>,
  properties: Record<string, unknown>,
  authenticator: Record<string, unknown> = { type: 'NoAuth' },
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
        retriever: {
          type: 'SimpleRetriever',
          requester: {
            type: 'HttpRequester',
            http_method: 'GET',
            path: '/items',
            authenticator,
            ...requester,
          },
          record_selector: { type: 'RecordSelector', extractor: { type: 'DpathExtractor', field_path: [] } },
        },
      },
    ],
    spec: { type: 'Spec', connection_specification: { type: 'object', properties } },
  });
}

function imported(text: string) {
  const r = importAirbyteManifest(text, { id: 'items' });
  assert.deepEqual(
    r.issues.filter((i) => i.effect !== 'note'),
    [],
  );
  return parseSpec(r.spec!, 'items');
}

describe('import airbyte: conditionals and string operators', () => {
  it('the fixture: every parameter, the path and the base URL', () => {
    const spec = imported(readFileSync('test/fixtures/airbyte/conditionals.yaml', 'utf8'));
    assert.equal(
      spec.baseUrl,
      '{?config.region=="us"}https://api.weather.test/v2{:}https://eu.weather.test/europe/v2{/}',
    );
    const request = spec.resources.readings!.request;
    assert.equal(request.path, '/stations/uid={config.uid}/readings');
    assert.deepEqual(request.query, {
      country: '{?!config.sources}{config.country}{/}',
      sources: '{config.sources}',
      end_date: '{?config.end_datetime}{config.end_datetime|split:T:0}{:}{now|plus:P0D|date}{/}',
      targets:
        '{?config.targets_type in ["addresses","coordinates"]}{config.targets|join:;|nonempty}{:}{config.targets|join:,|nonempty}{/}',
      kind: '{config.kind|replace:global:|nonempty}',
      limit: '{?!cursor}{config.page_size}{/}',
    });
  });

  it('hosts: a suffix unless a value, a label when a flag is set, a host by whether a secret is set', () => {
    const klarna = imported(
      manifest(
        {
          url_base:
            "https://api{{ '-' + config.region if config.region != 'eu' }}.{{ 'playground.' if config.playground }}example.com/",
        },
        { region: { type: 'string', enum: ['eu', 'us'] }, playground: { type: 'boolean' } },
      ),
    );
    assert.equal(
      klarna.baseUrl,
      'https://api{?config.region!="eu"}-{config.region}{/}.{?config.playground}playground.{/}example.com',
    );
    assert.ok(klarna.connectionConfig.region!.pattern, 'a value in a host has a pattern');
    assert.equal(klarna.connectionConfig.playground!.pattern, undefined, 'a condition needs none');

    const paid = imported(
      manifest(
        {
          url_base: "https://{{ 'api' if not config['api_key'] else 'pro-api' }}.example.com/v3",
          request_parameters: { key: "{{ config['api_key'] }}" },
        },
        { api_key: { type: 'string', airbyte_secret: true } },
      ),
    );
    assert.equal(paid.baseUrl, 'https://{?!secrets.api_key}api{:}pro-api{/}.example.com');
    assert.equal(paid.resources.items!.request.path, '/v3/items');
    assert.deepEqual(paid.connectionConfig, {}, 'the secret stays sealed');
  });

  it('whole bases: a config URL or the cloud one; nested environment choices; text joined around host choices', () => {
    const url = imported(
      manifest(
        { url_base: "{{ config['api_url'] or 'https://cloud.example.com/api/v1/' }}" },
        { api_url: { type: 'string' } },
      ),
    );
    assert.equal(url.baseUrl, '{?config.api_url}{config.api_url}{:}https://cloud.example.com/api/v1{/}');
    assert.equal(url.connectionConfig.api_url!.format, 'url');

    const env = imported(
      manifest(
        {
          url_base:
            "{{ 'https://api.example.com/v2/' if config['endpoint'] == 'Production' else ('https://mock.example.net/m/v2' if config['endpoint'] == 'Test' else '') }}",
        },
        { endpoint: { type: 'string', enum: ['Production', 'Test'] } },
      ),
    );
    assert.equal(
      env.baseUrl,
      '{?config.endpoint=="Production"}https://api.example.com/v2{:}{?config.endpoint=="Test"}https://mock.example.net/m/v2{/}{/}',
    );

    const jot = imported(
      manifest(
        {
          url_base:
            "{{ config['ep']['enterprise_url'] if config['ep']['enterprise_url'] else 'https://' ~ ('eu-' if config['ep']['prefix'] == 'EU' else 'hipaa-' if config['ep']['prefix'] == 'HIPAA' else '') ~ 'api.example.com' }}",
        },
        {
          ep: {
            type: 'object',
            properties: { enterprise_url: { type: 'string' }, prefix: { type: 'string' } },
          },
        },
      ),
    );
    assert.equal(
      jot.baseUrl,
      '{?config.ep_enterprise_url}{config.ep_enterprise_url}{:}https://{?config.ep_prefix=="EU"}eu-{:}{?config.ep_prefix=="HIPAA"}hipaa-{/}{/}api.example.com{/}',
    );
  });

  it('a secret never chooses a whole base, and a value from a response never chooses a host', () => {
    for (const [url_base, properties] of [
      [
        "{{ 'https://a.example.com' if config['key'] else 'https://b.example.com' }}",
        { key: { type: 'string', airbyte_secret: true } },
      ],
      ["https://{{ 'a' if stream_partition.x else 'b' }}.example.com", {}],
      ["{{ config['u'] or 'ftp://files.example.com' }}", { u: { type: 'string' } }],
    ] as const) {
      const r = importAirbyteManifest(manifest({ url_base }, properties), { id: 'items' });
      assert.equal(r.spec, undefined, url_base);
      assert.ok(
        r.issues.some((i) => i.effect === 'data' && /url_base/.test(i.path)),
        `${url_base}: ${JSON.stringify(r.issues)}`,
      );
    }
  });

  it("a login host chosen by a flag (a token URL's host)", () => {
    const r = importAirbyteManifest(
      manifest(
        {
          url_base: 'https://api.example.com',
        },
        {
          is_sandbox: { type: 'boolean' },
          client_id: { type: 'string', airbyte_secret: true },
          client_secret: { type: 'string', airbyte_secret: true },
          refresh_token: { type: 'string', airbyte_secret: true },
        },
        {
          type: 'OAuthAuthenticator',
          token_refresh_endpoint:
            "https://{{ 'test' if config['is_sandbox'] else 'login' }}.example.com/services/oauth2/token",
          client_id: "{{ config['client_id'] }}",
          client_secret: "{{ config['client_secret'] }}",
          refresh_token: "{{ config['refresh_token'] }}",
        },
      ),
      { id: 'items' },
    );
    assert.deepEqual(
      r.issues.filter((i) => i.effect !== 'note'),
      [],
    );
    const spec = parseSpec(r.spec!, 'items');
    assert.equal(
      (spec.auth as { tokenUrl: string }).tokenUrl,
      'https://{?config.is_sandbox}test{:}login{/}.example.com/services/oauth2/token',
    );
  });
});
