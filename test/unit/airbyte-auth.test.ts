/**
 * The importer's auth mappings of issue 20: fixed basic-auth text, secrets a requester sends next to
 * the authenticator, refresh_request_body and a login on a host of its own. Fixtures under
 * test/fixtures/airbyte are written in Airbyte's format for these tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

const fixture = (name: string) => readFileSync(`test/fixtures/airbyte/${name}.yaml`, 'utf8');

function imported(text: string, id = 'x') {
  const r = importAirbyteManifest(text, { id });
  return { r, spec: r.spec ? parseSpec(r.spec, id) : undefined };
}

/** One stream with the given authenticator (and requester extras), as YAML. */
function manifest(authenticator: string, requester = '', schema = ''): string {
  return `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester:
        url_base: https://api.x.test
        path: /s
        authenticator: ${authenticator}
${requester}
${schema}`;
}

describe('import airbyte: auth (issue 20)', () => {
  it('basic auth with a fixed user name, secrets in a header and a parameter next to it', () => {
    const { r, spec } = imported(fixture('basic-fixed-extra'), 'ledger');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(spec!.auth, {
      type: 'basic',
      username: { value: 'api' },
      password: 'api_key',
      extra: {
        headers: { 'X-Account-Id': '{secrets.account_id}' },
        query: { site_key: '{secrets.site_key}' },
      },
    });
    assert.deepEqual(Object.keys(spec!.secrets).sort(), ['account_id', 'api_key', 'site_key']);
    assert.deepEqual(spec!.resources.entries!.request.query, {}, 'the secrets are not plain query');
  });

  it('refresh_request_body: tokenParams, and the grant’s own fields dropped as Airbyte drops them', () => {
    const { r, spec } = imported(fixture('oauth-token-params'), 'books');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(spec!.auth, {
      type: 'oauth2-refresh-token',
      tokenUrl: 'https://auth.books.test/oauth/token',
      clientId: 'client_id',
      clientSecret: 'client_secret',
      refreshToken: 'refresh_token',
      clientAuth: 'post',
      tokenParams: { redirect_uri: '{config.redirect_uri}', subject_type: 'user' },
    });
    assert.deepEqual(spec!.connectionConfig.redirect_uri, { type: 'string', required: true });
  });

  it('refresh_request_body: a secret field is a secret; a field of another grant is refused', () => {
    const oauth = (grant: string, body: string) =>
      manifest(
        `{ type: OAuthAuthenticator, client_id: "{{ config.id }}", client_secret: "{{ config.secret }}", refresh_token: "{{ config.rt }}", grant_type: ${grant}, token_refresh_endpoint: "https://auth.x.test/token", refresh_request_body: ${body} }`,
        '',
        `spec:
  connection_specification:
    properties:
      pin: { type: string, airbyte_secret: true }`,
      );
    const secret = imported(
      oauth('client_credentials', '{ scope: "https://graph.x.test/.default", pin: "{{ config.pin }}" }'),
    );
    assert.deepEqual(secret.r.issues, []);
    assert.deepEqual((secret.spec!.auth as { tokenParams: unknown }).tokenParams, {
      scope: 'https://graph.x.test/.default',
      pin: '{secrets.pin}',
    });
    const other = imported(oauth('client_credentials', '{ refresh_token: abc }'));
    assert.deepEqual(
      other.r.issues.map((i) => i.message),
      ['refresh_request_body.refresh_token is a field of another grant: the stream is left out'],
    );
  });

  it('a login on another host becomes a literal login url; plain http to a remote host is refused', () => {
    const { r, spec } = imported(fixture('session-login-host'), 'shifts');
    assert.deepEqual(r.issues, []);
    assert.deepEqual(spec!.auth, {
      type: 'session-token',
      login: {
        url: 'https://login.shifts.test/login',
        method: 'POST',
        headers: {},
        body: { email: '{secrets.email}', password: '{secrets.password}' },
        bodyFormat: 'json',
      },
      tokenPath: 'token',
      header: 'authorization',
      value: 'Bearer {token}',
    });
    assert.equal(spec!.baseUrl, 'https://api.shifts.test');
    const plain = imported(
      fixture('session-login-host').replace('https://login.shifts.test', 'http://login.shifts.test'),
    );
    assert.match(
      plain.r.issues[0]!.message,
      /^the login URL http:\/\/login\.shifts\.test: must be an https URL/,
    );
  });

  it('a requester secret that would replace the auth’s own header is refused, not merged', () => {
    const { r } = imported(
      manifest(
        '{ type: BearerAuthenticator, api_token: "{{ config.token }}" }',
        `        request_headers:
          Authorization: "{{ config.other }}"`,
        `spec:
  connection_specification:
    properties:
      other: { type: string, airbyte_secret: true }`,
      ),
    );
    assert.deepEqual(
      r.issues.map((i) => i.message),
      [`the secret sent in "Authorization" would replace the bearer auth's own: the stream is left out`],
    );
  });

  it('a login under a config URL, authenticated with basic: a path under baseUrl and login.basic', () => {
    const { r, spec } = imported(fixture('session-basic-config'), 'pim');
    assert.deepEqual(r.issues, []);
    assert.equal(spec!.baseUrl, '{config.host}');
    assert.deepEqual(spec!.auth, {
      type: 'session-token',
      login: {
        path: '/api/oauth/v1/token',
        method: 'POST',
        headers: {},
        body: { username: '{secrets.api_username}', password: '{secrets.password}', grant_type: 'password' },
        bodyFormat: 'json',
        basic: { username: 'client_id', password: 'secret' },
      },
      tokenPath: 'access_token',
      lifetimeSeconds: 3600,
      header: 'authorization',
      value: 'Bearer {token}',
    });
  });

  it('a login authenticated by an API key header sends it as a login header', () => {
    const { r, spec } = imported(
      manifest(`
          type: SessionTokenAuthenticator
          login_requester:
            url_base: https://api.x.test/auth
            path: token
            http_method: GET
            authenticator: { type: ApiKeyAuthenticator, api_token: "{{ config.key }}", inject_into: { type: RequestOption, inject_into: header, field_name: x-api-key } }
          session_token_path: [access_token]
          request_authentication: { type: Bearer }`),
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual((spec!.auth as { login: unknown }).login, {
      path: '/auth/token',
      method: 'GET',
      headers: { 'x-api-key': '{secrets.key}' },
      bodyFormat: 'json',
    });
  });

  it('a login whose host a connection chooses is a URL template whose host field has a pattern', () => {
    const { r } = imported(
      manifest(`
          type: SessionTokenAuthenticator
          login_requester:
            url_base: "https://{{ config.domain }}/oauth2"
            path: token
          session_token_path: [access_token]
          request_authentication: { type: Bearer }`),
    );
    // Refused before login URLs could be built from config (test/unit/login-url-config.test.ts).
    assert.deepEqual(r.issues, []);
    const spec = r.spec as {
      auth: { login: Record<string, unknown> };
      connectionConfig: Record<string, unknown>;
    };
    assert.equal(spec.auth.login.url, 'https://{config.domain}/oauth2/token');
    assert.equal(spec.auth.login.path, undefined);
    assert.deepEqual(spec.connectionConfig.domain, {
      type: 'string',
      required: false,
      pattern: '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$',
    });
  });
});
