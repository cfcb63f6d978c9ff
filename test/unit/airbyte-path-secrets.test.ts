/**
 * The importer's mappings for secrets in URLs and keys with dots, on manifests written for these tests
 * in Airbyte's format (after CallRail, RingCentral, Microsoft Graph, Chargify and greytHR): a
 * secret-marked value that is a whole path segment is sealed; one inside a segment, or one another place
 * needs as plain config, stays plain config (reported); a token URL keeps its tenant secret; a login
 * host from config is a URL template; OData's `@odata.nextLink` and `invoice.lines` are quoted keys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

function imported(text: string, id = 'x') {
  const r = importAirbyteManifest(text, { id });
  return { r, spec: r.spec ? parseSpec(r.spec, id) : undefined };
}

const stream = (name: string, path: string, more = '') => `
  - type: DeclarativeStream
    name: ${name}
    primary_key: id
    retriever:
      requester:
        url_base: https://api.x.test/v3
        path: "${path}"
        authenticator: { type: BearerAuthenticator, api_token: "{{ config['api_key'] }}" }${more}
      record_selector: { extractor: { field_path: [items] } }`;

const manifest = (streams: string) => `
streams:${streams}
spec:
  connection_specification:
    properties:
      api_key: { type: string, airbyte_secret: true }
      account_id: { type: string, airbyte_secret: true }
`;

describe('import airbyte: secrets in paths', () => {
  it('a secret-marked whole segment is sealed: {secrets.x}, never plain config', () => {
    const { r, spec } = imported(manifest(stream('calls', "a/{{ config['account_id'] }}/calls.json")));
    assert.deepEqual(r.issues, []);
    assert.equal(spec!.resources.calls!.request.path, '/v3/a/{secrets.account_id}/calls.json');
    assert.deepEqual(Object.keys(spec!.secrets).sort(), ['account_id', 'api_key']);
    assert.deepEqual(spec!.connectionConfig, {});
  });

  it('one inside a longer segment stays plain config, reported; so does every other use of it', () => {
    const { r, spec } = imported(
      manifest(
        stream('calls', "a/{{ config['account_id'] }}/calls.json") +
          stream('orgs', "/orgs/urn:org:{{ config['account_id'] }}"),
      ),
    );
    assert.deepEqual(
      r.issues.map((i) => [i.effect, i.stream, i.message]),
      [
        [
          'differs',
          'orgs',
          'config.account_id is marked secret but is part of a path segment: it is plain connection config here',
        ],
      ],
    );
    assert.equal(spec!.resources.orgs!.request.path, '/v3/orgs/urn:org:{config.account_id}');
    assert.ok(spec!.connectionConfig.account_id, 'declared as plain config');
  });

  it('a secret sealed in one path but needed as plain config by a query elsewhere: plain everywhere', () => {
    const { r, spec } = imported(
      manifest(
        stream('calls', "a/{{ config['account_id'] }}/calls.json") +
          stream(
            'stats',
            '/stats',
            `\n        request_parameters: { entity: "urn:org:{{ config['account_id'] }}" }`,
          ),
      ),
    );
    assert.deepEqual(
      r.issues.map((i) => i.stream),
      ['calls'],
    );
    assert.equal(spec!.resources.calls!.request.path, '/v3/a/{config.account_id}/calls.json');
    assert.equal(spec!.resources.stats!.request.query.entity, 'urn:org:{config.account_id}');
  });
});

describe('import airbyte: token and login URLs from config', () => {
  it("Microsoft's token URL keeps the tenant secret in its path", () => {
    const text = `
streams:
  - type: DeclarativeStream
    name: users
    primary_key: id
    retriever:
      requester:
        url_base: https://graph.x.test/v1.0
        path: /users
        authenticator:
          type: OAuthAuthenticator
          client_id: "{{ config['client_id'] }}"
          client_secret: "{{ config['client_secret'] }}"
          grant_type: client_credentials
          token_refresh_endpoint: "https://login.x.test/{{ config['tenant_id'] }}/oauth2/v2.0/token"
      record_selector: { extractor: { field_path: [value] } }
      paginator:
        type: DefaultPaginator
        page_token_option: { type: RequestOption, inject_into: request_parameter, field_name: $skiptoken }
        pagination_strategy:
          type: CursorPagination
          cursor_value: "{{ response.get('@odata.nextLink') | regex_search('\\\\$skiptoken=([^&]+)') }}"
          stop_condition: "{{ response.get('@odata.nextLink') is none }}"
spec:
  connection_specification:
    properties:
      tenant_id: { type: string, airbyte_secret: true }
      client_id: { type: string }
      client_secret: { type: string, airbyte_secret: true }
`;
    const { r, spec } = imported(text);
    assert.deepEqual(r.issues, []);
    assert.equal(
      (spec!.auth as { tokenUrl: string }).tokenUrl,
      'https://login.x.test/{secrets.tenant_id}/oauth2/v2.0/token',
    );
    assert.deepEqual(spec!.resources.users!.pagination, {
      type: 'cursor',
      cursorPath: "['@odata.nextLink']",
      cursorPattern: '\\$skiptoken=([^&]+)',
      param: '$skiptoken',
      stopOnEmptyPage: true,
    });
    assert.deepEqual(spec!.connectionConfig, {});
  });

  it("greytHR's login on a host from config: a URL template, its field constrained to host names", () => {
    const login = `
streams:
  - type: DeclarativeStream
    name: employees
    primary_key: id
    retriever:
      requester:
        url_base: "{{ config['base_url'] }}"
        path: /employee/v2/employees
        authenticator:
          type: SessionTokenAuthenticator
          login_requester:
            type: HttpRequester
            url_base: "https://{{ config['domain'] }}/uas/v1/oauth2"
            path: client-token
            http_method: POST
            authenticator:
              type: BasicHttpAuthenticator
              username: "{{ config['username'] }}"
              password: "{{ config['password'] }}"
          session_token_path: [access_token]
          request_authentication: { type: ApiKey, inject_into: { type: RequestOption, field_name: ACCESS-TOKEN, inject_into: header } }
      record_selector: { extractor: { field_path: [data] } }
spec:
  connection_specification:
    required: [base_url, domain, username]
    properties:
      base_url: { type: string }
      domain: { type: string }
      username: { type: string }
      password: { type: string, airbyte_secret: true }
`;
    const { r, spec } = imported(login);
    assert.deepEqual(r.issues, []);
    const auth = spec!.auth as { login: { url?: string; path?: string } };
    assert.equal(auth.login.url, 'https://{config.domain}/uas/v1/oauth2/client-token');
    assert.equal(auth.login.path, undefined);
    assert.equal(spec!.connectionConfig.domain!.pattern, '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$');
    assert.equal(spec!.connectionConfig.base_url!.format, 'url');
  });
});

describe('import airbyte: keys with dots', () => {
  it("Chargify's field_path key with a dot is a quoted key of recordsPath", () => {
    const { r, spec } = imported(
      manifest(stream('invoices', '/invoices')).replace('field_path: [items]', 'field_path: [invoice.lines]'),
    );
    assert.deepEqual(r.issues, []);
    assert.equal(spec!.resources.invoices!.recordsPath, "['invoice.lines']");
  });
});
