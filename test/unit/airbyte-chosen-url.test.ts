import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { TODAY } from '../../src/import/airbyte/target.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

/** A one-stream manifest whose url_base is the given text. */
function manifest(urlBase: string, properties: Record<string, unknown>): string {
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
            url_base: urlBase,
            path: '/items',
            http_method: 'GET',
            authenticator: { type: 'BearerAuthenticator', api_token: "{{ config['token'] }}" },
          },
          record_selector: {
            type: 'RecordSelector',
            extractor: { type: 'DpathExtractor', field_path: ['data'] },
          },
        },
      },
    ],
    spec: {
      type: 'Spec',
      connection_specification: {
        type: 'object',
        properties: { token: { type: 'string', airbyte_secret: true }, ...properties },
      },
    },
  });
}

describe('import airbyte: a url_base chosen by a config value', () => {
  it('a boolean condition becomes an if choice between the two hosts, the common path stays', () => {
    const r = importAirbyteManifest(
      manifest(
        "{{ 'https://connect.sandbox.example/v2' if config['is_sandbox'] else 'https://connect.example/v2' }}",
        {
          is_sandbox: { type: 'boolean' },
        },
      ),
      { id: 'sq' },
    );
    assert.deepEqual(r.issues, []);
    const spec = parseSpec(r.spec!, 'sq'); // a valid spec
    assert.equal(spec.baseUrl, 'https://{config.is_sandbox|if:connect.sandbox.example:connect.example}');
    assert.equal(spec.resources.items?.request.path, '/v2/items');
    assert.equal(spec.connectionConfig.is_sandbox?.type, 'boolean');
  });

  it('!= swaps the choices; == on a config value chooses by its text', () => {
    const ne = importAirbyteManifest(
      manifest("{{ 'https://a.example' if config['env'] != 'live' else 'https://b.example' }}", {
        env: { type: 'string' },
      }),
      { id: 'x' },
    );
    assert.equal(parseSpec(ne.spec!, 'x').baseUrl, 'https://{config.env|eq:live:b.example:a.example}');
  });

  it('bases that differ in more than the host are a choice of whole bases; a secret condition stays reported', () => {
    const whole = importAirbyteManifest(
      manifest("{{ 'https://a.example/v1' if config['env'] == 'live' else 'https://b.example/v2' }}", {
        env: { type: 'string' },
      }),
      { id: 'x' },
    );
    assert.equal(
      parseSpec(whole.spec!, 'x').baseUrl,
      '{?config.env=="live"}https://a.example/v1{:}https://b.example/v2{/}',
    );
    const schemes = importAirbyteManifest(
      manifest("{{ 'https://a.example' if config['env'] == 'live' else 'http://b.example' }}", {
        env: { type: 'string' },
      }),
      { id: 'x' },
    );
    assert.equal(
      parseSpec(schemes.spec!, 'x').baseUrl,
      '{?config.env=="live"}https://a.example{:}http://b.example{/}',
    );
    for (const [base, props] of [
      [
        "{{ 'https://a.example' if config['key'] else 'https://b.example' }}",
        { key: { type: 'string', airbyte_secret: true } },
      ],
    ] as const) {
      const r = importAirbyteManifest(manifest(base, props), { id: 'x' });
      assert.ok(
        r.issues.some((i) => i.effect === 'data' && /url_base/.test(i.path)),
        `${base}: ${JSON.stringify(r.issues)}`,
      );
    }
  });

  it('the grammar before choices (--constructs today) keeps it reported', () => {
    const r = importAirbyteManifest(
      manifest("{{ 'https://a.example' if config['env'] == 'live' else 'https://b.example' }}", {
        env: { type: 'string' },
      }),
      { id: 'x', constructs: TODAY },
    );
    assert.ok(r.issues.some((i) => i.effect === 'data' && /url_base/.test(i.path)));
  });
});
