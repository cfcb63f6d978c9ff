/**
 * Importer fixes of issue 20 around URLs and where config values go: a token URL's query, and
 * problems outside the resources reported rather than thrown. Fixtures under test/fixtures/airbyte
 * are written in Airbyte's format for these tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { ISSUE_20 } from '../../src/import/airbyte/target.js';
import { parseSpec } from '../../src/spec/define.js';

const fixture = (name: string) => readFileSync(`test/fixtures/airbyte/${name}.yaml`, 'utf8');

function imported(text: string, id = 'x') {
  const r = importAirbyteManifest(text, { id, constructs: ISSUE_20 });
  return { r, spec: r.spec ? parseSpec(r.spec, id) : undefined };
}

describe('import airbyte: URL fixes (issue 20)', () => {
  it("a token URL's query goes to the token request's fields, reported as a difference", () => {
    const { r, spec } = imported(fixture('token-url-query'), 'ads');
    assert.deepEqual(r.issues, [
      {
        path: 'streams.0.retriever.requester.authenticator',
        component: 'oauth2-client-credentials',
        effect: 'differs',
        message: "the token URL's query (grant_type, scope) is sent as token request form fields",
      },
    ]);
    assert.deepEqual(spec!.auth, {
      type: 'oauth2-client-credentials',
      tokenUrl: 'https://id.example.com/oauth2/token',
      clientId: 'client_id',
      clientSecret: 'client_secret',
      scopes: [],
      clientAuth: 'post',
      tokenParams: { scope: 'adsorg' },
    });
  });

  it('a token URL query that sets another grant type is reported, not imported', () => {
    const text = fixture('token-url-query').replace('grant_type=client_credentials&', 'grant_type=password&');
    const { r, spec } = imported(text, 'ads');
    assert.equal(spec, undefined);
    const auth = r.issues.find((i) => i.path === 'streams.0.retriever.requester.authenticator');
    assert.equal(auth?.effect, 'data');
    assert.match(auth.message, /query sets grant_type, which the token request sets itself/);
  });

  it("a secret written into the path's query is sent as the auth's extra credentials", () => {
    const { r, spec } = imported(fixture('secret-in-path-query'), 'fonts');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(spec!.auth, {
      type: 'api-key',
      in: 'header',
      name: 'apikey',
      value: 'api_key',
      extra: { headers: {}, query: { key: '{secrets.api_key}' } },
    });
    assert.deepEqual(spec!.resources.fonts!.request.query, { sort: '{config.sort}' });
    assert.deepEqual(Object.keys(spec!.connectionConfig), ['sort']);
  });

  it('a secret also in the path proper is sealed there too: a whole segment {secrets.x}', () => {
    const text = fixture('secret-in-path-query').replace(
      '/fonts?key=',
      "/fonts/{{ config['api_key'] }}?key=",
    );
    const { r, spec } = imported(text, 'fonts');
    // Before path secrets (src/http/path-secrets.ts) it was plain config, and the spec was refused.
    assert.deepEqual(r.issues, []);
    assert.equal(spec!.resources.fonts!.request.path, '/v1/fonts/{secrets.api_key}');
    assert.deepEqual(spec!.secrets, { api_key: 'api_key' });
    assert.ok(!('api_key' in (spec!.connectionConfig ?? {})), 'never plain config');
  });

  it("a request header repeating the auth's key is the auth's own; another one carries the secret too", () => {
    const { r, spec } = imported(fixture('key-header-repeated'), 'reviews');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(spec!.auth, {
      type: 'custom-headers',
      headers: { apikey: '{secrets.client_id}', 'x-key': '{secrets.client_id}' },
    });
    assert.deepEqual(spec!.resources.units!.request.headers, {});
    assert.deepEqual(spec!.connectionConfig, {});
  });

  it('a strategy with no equivalent reads its first page with the page size written out', () => {
    const { r, spec } = imported(fixture('custom-paging-size'), 'news');
    assert.deepEqual(
      r.issues.map((i) => [i.effect, i.path, i.message]),
      [
        [
          'data',
          'streams.0.retriever.paginator.pagination_strategy',
          'this pagination strategy has no equivalent: only the first page would be read',
        ],
      ],
    );
    assert.deepEqual(spec!.resources.articles!.request.headers, { 'x-page-size': '10' });
  });
});
