/**
 * The importer's SelectiveAuthenticator mapping: every option that translates becomes an option of
 * `auth.type: select`, chosen by the config value at authenticator_selection_path (a required config
 * field naming the options); what a stream adds to its auth (a secret header, a login URL) is added to
 * each option; an option that does not translate is left out and said. Manifests are written here, in
 * Airbyte's format, and under test/fixtures/airbyte.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { TODAY } from '../../src/import/airbyte/target.js';
import { parseSpec } from '../../src/spec/define.js';
import { connectionProblems } from '../../src/sync/connections.js';

const fixture = (name: string) => readFileSync(`test/fixtures/airbyte/${name}.yaml`, 'utf8');

function imported(text: string, id = 'x', constructs?: typeof TODAY) {
  const r = importAirbyteManifest(text, { id, ...(constructs ? { constructs } : {}) });
  return { r, spec: r.spec ? parseSpec(r.spec, id) : undefined };
}

/** One stream whose authenticator is a SelectiveAuthenticator with these options (YAML, indented). */
function manifest(options: string, more = '', path = '[credentials, auth_type]'): string {
  return `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester:
        url_base: https://api.x.test
        path: /s
${more}
        authenticator:
          type: SelectiveAuthenticator
          authenticator_selection_path: ${path}
          authenticators:
${options}
`;
}

const BEARER = `            pat:
              type: BearerAuthenticator
              api_token: "{{ config['credentials']['token'] }}"`;

describe('import airbyte: SelectiveAuthenticator', () => {
  it('every option, chosen by the config value at authenticator_selection_path', () => {
    const { r, spec } = imported(fixture('selective-auth'), 'timesheet');
    assert.deepEqual(r.issues, []);
    const extra = { headers: { 'Timesheet-Account-Id': '{secrets.account_id}' }, query: {} };
    assert.deepEqual(spec!.auth, {
      type: 'select',
      by: 'credentials_auth_type',
      options: {
        Token: { type: 'bearer', token: 'credentials_api_token', extra },
        Client: {
          type: 'oauth2-refresh-token',
          tokenUrl: 'https://id.timesheet.test/oauth2/token',
          clientId: 'credentials_client_id',
          clientSecret: 'credentials_client_secret',
          refreshToken: 'credentials_refresh_token',
          clientAuth: 'post',
          tokenParams: {},
          extra,
        },
      },
    });
    assert.deepEqual(spec!.connectionConfig.credentials_auth_type, {
      type: 'string',
      required: true,
      description: 'auth option: Token or Client',
    });
    assert.deepEqual(Object.keys(spec!.secrets).sort(), [
      'account_id',
      'credentials_api_token',
      'credentials_client_id',
      'credentials_client_secret',
      'credentials_refresh_token',
    ]);
    assert.deepEqual(spec!.resources.entries!.request.headers, {}, 'the account id is sent by the auth');
    // A connection supplies its option's secrets only, and must name an option the spec has.
    const check = (config: Record<string, unknown>, secrets: Record<string, string>) =>
      connectionProblems(spec!, { integration: 'timesheet', id: 'a', config, secrets });
    assert.deepEqual(
      check({ credentials_auth_type: 'Token' }, { account_id: 'a', credentials_api_token: 't' }),
      [],
    );
    assert.deepEqual(
      check({ credentials_auth_type: 'Client' }, { account_id: 'a', credentials_api_token: 't' }),
      [
        'secrets.credentials_client_id: required (Client ID)',
        'secrets.credentials_client_secret: required (Client Secret)',
        'secrets.credentials_refresh_token: required (Refresh Token)',
      ],
    );
    assert.deepEqual(
      check({ credentials_auth_type: 'token' }, { account_id: 'a', credentials_api_token: 't' }),
      [
        'config.credentials_auth_type: "token" is not an auth option of this integration (options: "Token", "Client")',
      ],
    );
  });

  it('an option that does not translate is left out, and said', () => {
    const { r, spec } = imported(
      manifest(`${BEARER}
            oauth:
              type: CustomAuthenticator
              class_name: source_x.components.MyAuth`),
    );
    assert.deepEqual(spec!.auth, {
      type: 'select',
      by: 'credentials_auth_type',
      options: { pat: { type: 'bearer', token: 'credentials_token' } },
    });
    assert.deepEqual(
      r.issues.map((i) => [i.effect, i.component, i.message]),
      [
        [
          'differs',
          'select',
          'the "oauth" option is left out (oauth: the custom authenticator source_x.components.MyAuth is Python code, which Syncwright does not run): connections choose "pat"',
        ],
      ],
    );
  });

  it('no option that translates: the stream is left out with every reason', () => {
    const { r } = imported(
      manifest(`            a:
              type: CustomAuthenticator
            b:
              type: ApiKeyAuthenticator
              header: "{{ config['h'] }}"
              api_token: "{{ config['k'] }}"`),
    );
    assert.deepEqual(
      r.issues.filter((i) => i.effect === 'data').map((i) => i.message),
      [
        'no option translates (a: an authenticator without a type is Python code, which Syncwright does not run; b: the header or parameter name is not a literal): the stream is left out',
      ],
    );
  });

  it('a choice within a choice is left out as an option', () => {
    const { r, spec } = imported(
      manifest(`${BEARER}
            nested:
              type: SelectiveAuthenticator
              authenticator_selection_path: [credentials, inner]
              authenticators:
                a:
                  type: BearerAuthenticator
                  api_token: "{{ config['credentials']['other'] }}"`),
    );
    assert.deepEqual(Object.keys((spec!.auth as { options: object }).options), ['pat']);
    // What the left-out option would have asked of connections is not declared.
    assert.deepEqual(Object.keys(spec!.connectionConfig), ['credentials_auth_type']);
    assert.deepEqual(Object.keys(spec!.secrets), ['credentials_token']);
    assert.deepEqual(
      r.issues.map((i) => i.message),
      [
        'the "nested" option is left out (nested: a SelectiveAuthenticator inside another): connections choose "pat"',
      ],
    );
  });

  it('a selection path that is not a list of config keys is refused', () => {
    const { r } = imported(manifest(BEARER, '', "'credentials.auth_type'"));
    assert.deepEqual(
      r.issues.filter((i) => i.effect === 'data').map((i) => i.message),
      ['authenticator_selection_path is not a list of config keys: the stream is left out'],
    );
  });

  it('a secret the stream sends in a header goes with each option; an API key option keeps its own', () => {
    const { r, spec } = imported(
      manifest(
        `            key:
              type: ApiKeyAuthenticator
              header: apikey
              api_token: "{{ config['api_key'] }}"
            oauth:
              type: OAuthAuthenticator
              client_id: "{{ config['credentials']['client_id'] }}"
              client_secret: "{{ config['credentials']['client_secret'] }}"
              refresh_token: "{{ config['credentials']['refresh_token'] }}"
              token_refresh_endpoint: https://api.x.test/oauth/refresh`,
        `        request_headers:
          apikey: "{{ config['api_key'] }}"`,
      ),
    );
    assert.deepEqual(r.issues, []);
    const auth = spec!.auth as { options: Record<string, Record<string, unknown>> };
    assert.deepEqual(auth.options.key, { type: 'api-key', in: 'header', name: 'apikey', value: 'api_key' });
    assert.deepEqual(auth.options.oauth!.extra, { headers: { apikey: '{secrets.api_key}' }, query: {} });
  });

  it('streams whose options differ from one another keep their first option, as before options', () => {
    const requester = (name: string, headers: string) => `
  - type: DeclarativeStream
    name: ${name}
    primary_key: id
    retriever:
      requester:
        url_base: https://api.x.test
        path: /${name}
${headers}
        authenticator:
          type: SelectiveAuthenticator
          authenticator_selection_path: [credentials, auth_type]
          authenticators:
            key: { type: ApiKeyAuthenticator, header: apikey, api_token: "{{ config['api_key'] }}" }
            pat: { type: BearerAuthenticator, api_token: "{{ config['credentials']['token'] }}" }`;
    const { r, spec } = imported(
      `streams:${requester('a', `        request_headers:\n          apikey: "{{ config['api_key'] }}"`)}${requester('b', '')}`,
    );
    // With the token, stream a sends the key too and stream b does not: one spec's choice cannot say so.
    assert.deepEqual(spec!.auth, { type: 'api-key', in: 'header', name: 'apikey', value: 'api_key' });
    assert.deepEqual(Object.keys(spec!.resources).sort(), ['a', 'b']);
    // The choosing field is no longer required of connections.
    assert.equal(spec!.connectionConfig.credentials_auth_type?.required ?? false, false);
    assert.deepEqual(
      r.issues.map((i) => [i.effect, i.message]),
      [
        [
          'differs',
          'only the "key" option of 2 is imported (the streams send different credentials with the others): connections must use it',
        ],
      ],
    );
  });

  it('a session login on a host of its own is written out for its option', () => {
    const { r, spec } = imported(
      manifest(`${BEARER}
            session:
              type: SessionTokenAuthenticator
              login_requester:
                type: HttpRequester
                url_base: https://login.x.test
                path: /login
                http_method: POST
                request_body_json:
                  user: "{{ config['credentials']['user'] }}"
                  password: "{{ config['credentials']['password'] }}"
              session_token_path: [token]
              request_authentication: { type: Bearer }`),
    );
    assert.deepEqual(r.issues, []);
    const session = (spec!.auth as { options: Record<string, { login?: Record<string, unknown> }> }).options
      .session!;
    assert.equal(session.login!.url, 'https://login.x.test/login');
    assert.equal(session.login!.path, undefined);
  });

  it('the grammar before auth options imports the first option only, and says so', () => {
    const { r, spec } = imported(fixture('selective-auth'), 'timesheet', TODAY);
    assert.equal(spec!.auth.type, 'bearer');
    assert.deepEqual(
      r.issues.filter((i) => i.effect === 'differs').map((i) => i.message),
      ['only the "Token" option of 2 is imported: connections must use it'],
    );
  });
});
