/**
 * Auth options (`auth.type: select`): a spec offers several auths and each connection uses the one its
 * config field `auth.by` names. The schema checks every option at its own path; a connection's config
 * must name an option (the error names the field and the choices); only the chosen option's secrets
 * are required; applyAuth sends exactly the chosen option's credentials; redaction knows every option's
 * query keys; `connection authorize` picks the authorization-code option.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyAuth, querySecretNames } from '../../src/http/auth/apply.js';
import {
  AuthOptionError,
  authChoices,
  authSecretNames,
  chosenAuth,
  selectedOption,
} from '../../src/http/auth/select.js';
import type { SelectAuthConfig } from '../../src/http/auth/schema.js';
import { authorizationCodeAuth } from '../../src/cli/authorize.js';
import { UsageError } from '../../src/cli/context.js';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';
import { connectionProblems, secretsOfOtherOptions } from '../../src/sync/connections.js';

const options = {
  token: { type: 'bearer', token: 'api_token', extra: { headers: { 'Account-Id': '{secrets.account}' } } },
  oauth: {
    type: 'oauth2-refresh-token',
    tokenUrl: 'https://id.tracker.example/oauth/token',
    clientId: 'client_id',
    clientSecret: 'client_secret',
    refreshToken: 'refresh_token',
    extra: { headers: { 'Account-Id': '{secrets.account}' } },
  },
  key: { type: 'api-key', in: 'query', name: 'api_key', value: 'api_key' },
};

const base = {
  id: 'tracker',
  baseUrl: 'https://api.tracker.example/v2',
  connectionConfig: { auth_type: { type: 'string' }, team: { type: 'string', required: false } },
  secrets: {
    account: 'account id',
    api_token: 'personal access token',
    client_id: 'OAuth client id',
    client_secret: 'OAuth client secret',
    refresh_token: 'OAuth refresh token',
    api_key: 'API key',
  },
  auth: { type: 'select', by: 'auth_type', options },
  resources: { issues: { request: { path: '/issues' }, recordsPath: 'data', primaryKey: 'id' } },
};

function problems(over: Record<string, unknown>): string[] {
  try {
    parseSpec({ ...base, ...over }, 'spec.json');
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.problems;
  }
  assert.fail('expected the spec to be rejected');
}

const spec = parseSpec(base, 'spec.json');
const select = spec.auth as SelectAuthConfig;
const allSecrets = {
  account: 'acct-1',
  api_token: 'pat-1',
  client_id: 'cid',
  client_secret: 'csec',
  refresh_token: 'rt',
  api_key: 'key-1',
};

describe('auth options: the spec schema', () => {
  it('parses every option as an auth of its own', () => {
    assert.equal(spec.auth.type, 'select');
    assert.deepEqual(
      authChoices(spec.auth).map((c) => [c.option, c.auth.type, c.at.join('.')]),
      [
        ['token', 'bearer', 'auth.options.token'],
        ['oauth', 'oauth2-refresh-token', 'auth.options.oauth'],
        ['key', 'api-key', 'auth.options.key'],
      ],
    );
  });

  it('checks each option at its own path', () => {
    const got = problems({
      auth: {
        type: 'select',
        by: 'auth_type',
        options: {
          a: { type: 'bearer', token: 'nope' },
          b: { ...options.oauth, tokenUrl: 'https://{config.sub}.tracker.example/t' },
          c: { type: 'session-token', login: { path: '/login' }, tokenPath: 'x', value: 'Bearer' },
          d: { type: 'select', by: 'auth_type', options: {} },
        },
      },
    });
    assert.ok(
      got.some((p) => p.startsWith('auth.options.a.token: secret "nope" is not declared')),
      String(got),
    );
    assert.ok(
      got.some((p) =>
        p.startsWith('auth.options.b.tokenUrl: {config.sub}: "sub" is not a connectionConfig field'),
      ),
      String(got),
    );
    assert.ok(got.includes('auth.options.c.value: must place the token: {token}'), String(got));
    assert.ok(
      got.some((p) => p.startsWith('auth.options.d.type: expected one of')),
      String(got),
    );
  });

  it('auth.by is a declared string field; default is an option; at least one option', () => {
    assert.deepEqual(problems({ auth: { ...base.auth, by: 'mode' } }), [
      'auth.by: "mode" is not a connectionConfig field (declared: auth_type, team): declare it, type string, to hold the option each connection uses',
    ]);
    assert.deepEqual(problems({ connectionConfig: { auth_type: { type: 'number' } } }), [
      "connectionConfig.auth_type.type: auth.by chooses the auth option by this field's value: it must be a string field, not number",
    ]);
    assert.deepEqual(problems({ auth: { ...base.auth, default: 'basic' } }), [
      'auth.default: "basic" is not an option (options: token, oauth, key)',
    ]);
    assert.deepEqual(problems({ auth: { ...base.auth, options: {} } }), [
      'auth.options: at least one option',
    ]);
  });

  it('an {instanceUrl} base URL needs every option to name an instance', () => {
    const got = problems({
      baseUrl: '{instanceUrl}/api',
      auth: { type: 'select', by: 'auth_type', options: { token: options.token } },
    });
    assert.deepEqual(got, [
      'auth.options.token: baseUrl starts with {instanceUrl}, which comes from the OAuth token response: every option must be an OAuth2 auth with instanceUrl: { field, hosts }',
    ]);
  });

  it('a form API key in any option needs form bodies', () => {
    const got = problems({
      auth: { type: 'select', by: 'auth_type', options: { key: { ...options.key, in: 'form' } } },
      resources: {
        issues: {
          request: { path: '/issues', method: 'POST', body: { a: 1 } },
          recordsPath: 'data',
          primaryKey: 'id',
        },
      },
    });
    assert.deepEqual(got, [
      'resources.issues.request.bodyFormat: the API key is a form field (auth.in: form): this body must be a form too (bodyFormat: form)',
    ]);
  });
});

describe('auth options: the connection chooses one', () => {
  it('its config names the option', () => {
    assert.deepEqual(selectedOption(select, { auth_type: 'oauth' }), { option: 'oauth' });
    const chosen = chosenAuth(spec.auth, { auth_type: 'key' }, 'connection tracker/acme');
    assert.equal(chosen.option, 'key');
    assert.equal(chosen.auth.type, 'api-key');
  });

  it('an unknown option is refused naming the field and the valid choices', () => {
    assert.throws(
      () => chosenAuth(spec.auth, { auth_type: 'Token' }, 'connection tracker/acme'),
      (e: unknown) =>
        e instanceof AuthOptionError &&
        e.message ===
          'connection tracker/acme: config.auth_type: "Token" is not an auth option of this integration (options: "token", "oauth", "key")',
    );
    assert.deepEqual(selectedOption(select, {}), {
      problem:
        'config.auth_type: required: the auth option this connection uses (one of "token", "oauth", "key")',
    });
    // A value of another kind is not quoted: it may be a secret pasted into the wrong field.
    assert.deepEqual(selectedOption(select, { auth_type: 42 }), {
      problem:
        'config.auth_type: expected the name of an auth option (one of "token", "oauth", "key"), got a number',
    });
    // Names of Object.prototype are no options.
    assert.ok('problem' in selectedOption(select, { auth_type: 'toString' }));
  });

  it('a default option serves connections that name none', () => {
    const withDefault = parseSpec({ ...base, auth: { ...base.auth, default: 'token' } }, 'spec.json');
    assert.equal(chosenAuth(withDefault.auth, {}, 'c').option, 'token');
    assert.equal(chosenAuth(withDefault.auth, { auth_type: 'oauth' }, 'c').option, 'oauth');
  });

  it('a spec without options has one auth, whatever the config', () => {
    const single = parseSpec({ ...base, auth: options.token }, 'spec.json');
    assert.deepEqual(chosenAuth(single.auth, { auth_type: 'oauth' }, 'c'), { auth: single.auth });
  });
});

describe('auth options: what a connection must supply', () => {
  const conn = (config: Record<string, unknown>, secrets: Record<string, string>) =>
    connectionProblems(spec, { integration: 'tracker', id: 'acme', config, secrets });

  it('only the chosen option’s secrets are required', () => {
    assert.deepEqual(conn({ auth_type: 'token' }, { account: 'a', api_token: 'p' }), []);
    assert.deepEqual(conn({ auth_type: 'key' }, { account: 'a', api_key: 'k' }), []);
    assert.deepEqual(conn({ auth_type: 'oauth' }, { account: 'a', api_token: 'p' }), [
      'secrets.client_id: required (OAuth client id)',
      'secrets.client_secret: required (OAuth client secret)',
      'secrets.refresh_token: required (OAuth refresh token)',
    ]);
    // The account id, an extra of two options, is required by either; another option's secrets may be kept.
    assert.deepEqual(conn({ auth_type: 'token' }, { api_token: 'p', api_key: 'k' }), [
      'secrets.account: required (account id)',
    ]);
  });

  it('an unknown or missing option is a problem naming the field and the choices', () => {
    assert.deepEqual(conn({ auth_type: 'pat' }, allSecrets), [
      'config.auth_type: "pat" is not an auth option of this integration (options: "token", "oauth", "key")',
    ]);
    assert.deepEqual(conn({}, allSecrets), [
      'config.auth_type: required',
      'config.auth_type: required: the auth option this connection uses (one of "token", "oauth", "key")',
    ]);
  });

  it('a secret used outside the auth stays required whatever the option', () => {
    const webhooks = parseSpec(
      {
        ...base,
        webhooks: {
          signature: { scheme: 'github', secrets: ['api_key'] },
          eventId: { header: 'X-GitHub-Delivery' },
          eventType: { header: 'X-GitHub-Event' },
          events: { push: { action: 'upsert', resource: 'issues', record: 'issue' } },
        },
      },
      'spec.json',
    );
    assert.deepEqual([...secretsOfOtherOptions(spec, 'token')].sort(), [
      'api_key',
      'client_id',
      'client_secret',
      'refresh_token',
    ]);
    assert.deepEqual([...secretsOfOtherOptions(webhooks, 'token')].sort(), [
      'client_id',
      'client_secret',
      'refresh_token',
    ]);
  });

  it('authSecretNames lists references and template placeholders', () => {
    assert.deepEqual(authSecretNames(select.options.oauth!), [
      'client_id',
      'client_secret',
      'refresh_token',
      'account',
    ]);
  });
});

describe('auth options: requests and redaction', () => {
  const inputs = (config: Record<string, unknown>) => ({
    secrets: allSecrets,
    config,
    env: {},
    where: 'connection tracker/acme',
  });

  it('applyAuth sends exactly the chosen option’s credentials', () => {
    assert.deepEqual(applyAuth(spec.auth, inputs({ auth_type: 'token' })), {
      headers: { authorization: 'Bearer pat-1', 'account-id': 'acct-1' },
      query: {},
      secretParams: [],
    });
    assert.deepEqual(applyAuth(spec.auth, inputs({ auth_type: 'key' })), {
      headers: {},
      query: { api_key: 'key-1' },
      secretParams: ['api_key'],
    });
    // The OAuth2 option's token comes from the token cache: only its extra is static.
    assert.deepEqual(applyAuth(spec.auth, inputs({ auth_type: 'oauth' })).headers, {
      'account-id': 'acct-1',
    });
    assert.throws(() => applyAuth(spec.auth, inputs({ auth_type: 'nope' })), AuthOptionError);
  });

  it('every option’s query keys are known for redaction', () => {
    assert.deepEqual(querySecretNames(spec.auth), ['api_key']);
  });
});

describe('auth options: connection authorize', () => {
  const flows = parseSpec(
    {
      ...base,
      auth: {
        type: 'select',
        by: 'auth_type',
        options: {
          token: options.token,
          browser: {
            type: 'oauth2-authorization-code',
            authorizeUrl: 'https://id.tracker.example/authorize',
            tokenUrl: 'https://id.tracker.example/oauth/token',
            clientId: 'client_id',
            clientSecret: 'client_secret',
          },
        },
      },
    },
    'spec.json',
  );

  it('takes the only authorization-code option and writes it into the config', () => {
    const config: Record<string, unknown> = {};
    assert.equal(authorizationCodeAuth(flows, 'tracker', config).type, 'oauth2-authorization-code');
    assert.deepEqual(config, { auth_type: 'browser' });
  });

  it('refuses an option of another type, or an unknown one, saying which to use', () => {
    assert.throws(
      () => authorizationCodeAuth(flows, 'tracker', { auth_type: 'token' }),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message.startsWith(
          'config.auth_type: the "token" auth option of tracker is bearer, not oauth2-authorization-code',
        ) &&
        e.message.endsWith('(or authorize with --config auth_type=<browser>)'),
    );
    assert.throws(
      () => authorizationCodeAuth(flows, 'tracker', { auth_type: 'web' }),
      (e: unknown) => e instanceof UsageError && e.message.includes('(options: "token", "browser")'),
    );
    assert.throws(
      () => authorizationCodeAuth(spec, 'tracker', {}),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message.startsWith(
          'tracker has no oauth2-authorization-code auth option (options: token, oauth, key)',
        ),
    );
  });
});
