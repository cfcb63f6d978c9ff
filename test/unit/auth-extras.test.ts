/**
 * The auth parts of issue 20's Airbyte blockers: fixed basic-auth text, extra credentials next to an
 * auth, OAuth2 token request fields and a session login on a host of its own. Schema checks name the
 * path of bad input; applyAuth sends exactly what the spec says.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyAuth } from '../../src/http/auth/apply.js';
import { loginUrlProblem } from '../../src/http/auth/extra-checks.js';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';

const base = {
  id: 'ledger',
  baseUrl: 'https://api.ledger.example/v1',
  secrets: { key: 'API key', account: 'Account id', site: 'Site key' },
  connectionConfig: { region: { type: 'string' } },
  resources: { entries: { request: { path: '/entries' }, recordsPath: 'data', primaryKey: 'id' } },
};

function problems(auth: unknown, more: Record<string, unknown> = {}): string[] {
  try {
    parseSpec({ ...base, ...more, auth }, 'spec.json');
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.problems;
  }
  assert.fail('expected the spec to be rejected');
}

const inputs = {
  secrets: { key: 'k-123', account: 'acct-9', site: 's&x', cid: 'c', csec: 'cs', rt: 'r' },
  config: { region: 'eu' },
  env: {},
  where: 'connection ledger/c1',
};

describe('auth: fixed basic-auth text', () => {
  it('a { value } part is sent as written; connections supply only the secret part', () => {
    const spec = parseSpec(
      { ...base, auth: { type: 'basic', username: { value: 'api' }, password: 'key' } },
      'x',
    );
    const applied = applyAuth(spec.auth, inputs);
    assert.equal(applied.headers.authorization, `Basic ${Buffer.from('api:k-123').toString('base64')}`);
    const bamboo = parseSpec(
      { ...base, auth: { type: 'basic', username: 'key', password: { value: 'x' } } },
      'x',
    );
    assert.equal(
      applyAuth(bamboo.auth, inputs).headers.authorization,
      `Basic ${Buffer.from('k-123:x').toString('base64')}`,
    );
  });

  it('a fixed part is text, nothing else; a secret name must be declared', () => {
    const notText = problems({ type: 'basic', username: { value: 1 }, password: 'key' });
    assert.equal(notText.length, 1, notText.join('\n'));
    assert.match(notText[0]!, /^auth\.username: /);
    assert.ok(
      problems({ type: 'basic', username: { value: 'api' }, password: 'nope' }).some((p) =>
        p.startsWith('auth.password: secret "nope" is not declared'),
      ),
    );
    assert.ok(
      problems({ type: 'basic', username: { value: 'api', env: 'X' } }).some((p) =>
        p.startsWith('auth.username'),
      ),
    );
  });
});

describe('auth: extra credentials', () => {
  it('are sent next to the auth, query values redacted like the key', () => {
    const spec = parseSpec(
      {
        ...base,
        auth: {
          type: 'bearer',
          token: 'key',
          extra: {
            headers: { 'Harvest-Account-Id': '{secrets.account}' },
            query: { site: '{secrets.site}' },
          },
        },
      },
      'x',
    );
    assert.deepEqual(applyAuth(spec.auth, inputs), {
      headers: { authorization: 'Bearer k-123', 'harvest-account-id': 'acct-9' },
      query: { site: 's&x' },
      secretParams: ['site'],
    });
  });

  it('next to an api-key in the query both parameters are secret', () => {
    const spec = parseSpec(
      {
        ...base,
        auth: {
          type: 'api-key',
          in: 'query',
          name: 'apiKey',
          value: 'key',
          extra: { query: { accessKey: '{secrets.site}' } },
        },
      },
      'x',
    );
    const applied = applyAuth(spec.auth, inputs);
    assert.deepEqual(applied.query, { apiKey: 'k-123', accessKey: 's&x' });
    assert.deepEqual(applied.secretParams, ['apiKey', 'accessKey']);
  });

  it('token auths carry them too (their token header comes from the token cache)', () => {
    const spec = parseSpec(
      {
        ...base,
        secrets: { ...base.secrets, cid: 'c', csec: 'cs', rt: 'r' },
        auth: {
          type: 'oauth2-refresh-token',
          tokenUrl: 'https://auth.ledger.example/token',
          clientId: 'cid',
          clientSecret: 'csec',
          refreshToken: 'rt',
          extra: { headers: { 'X-Account-Token': '{secrets.account}' } },
        },
      },
      'x',
    );
    assert.deepEqual(applyAuth(spec.auth, inputs), {
      headers: { 'x-account-token': 'acct-9' },
      query: {},
      secretParams: [],
    });
  });

  it('may not replace what the auth sends, and name only declared secrets and config', () => {
    assert.deepEqual(problems({ type: 'bearer', token: 'key', extra: { headers: { Authorization: 'x' } } }), [
      'auth.extra.headers.Authorization: "Authorization" is what the bearer auth itself sends',
    ]);
    assert.deepEqual(
      problems({
        type: 'api-key',
        in: 'query',
        name: 'k',
        value: 'key',
        extra: { query: { k: '{secrets.site}' } },
      }),
      ['auth.extra.query.k: "k" is what the api-key auth itself sends'],
    );
    const unknown = problems({
      type: 'bearer',
      token: 'key',
      extra: { headers: { 'X-A': '{secrets.missing}' }, query: { b: '{config.nope}', c: '{parent.id}' } },
    });
    assert.equal(unknown.length, 3, unknown.join('\n'));
    assert.match(
      unknown[0]!,
      /^auth\.extra\.headers\.X-A: \{secrets\.missing\}: secret "missing" is not declared/,
    );
    assert.match(
      unknown[1]!,
      /^auth\.extra\.query\.b: \{config\.nope\}: "nope" is not a connectionConfig field/,
    );
    assert.match(unknown[2]!, /^auth\.extra\.query\.c: \{parent\.id\}/);
    assert.deepEqual(
      problems({ type: 'none', extra: { headers: {} } }).some((p) => p.startsWith('auth')),
      true,
      'the none auth sends nothing, extra included',
    );
  });
});

describe('auth: OAuth2 tokenParams', () => {
  const oauth = {
    type: 'oauth2-refresh-token',
    tokenUrl: 'https://auth.ledger.example/token',
    clientId: 'key',
    clientSecret: 'site',
    refreshToken: 'account',
  };
  it('accepts fields over config and secrets, refuses the grant’s own', () => {
    const spec = parseSpec(
      { ...base, auth: { ...oauth, tokenParams: { redirect_uri: '{config.region}', type: 'refresh' } } },
      'x',
    );
    assert.deepEqual((spec.auth as { tokenParams: unknown }).tokenParams, {
      redirect_uri: '{config.region}',
      type: 'refresh',
    });
    assert.deepEqual(
      problems({ ...oauth, tokenParams: { grant_type: 'password', refresh_token: '{secrets.key}' } }),
      [
        'auth.tokenParams.grant_type: "grant_type" is set by the token request itself',
        'auth.tokenParams.refresh_token: "refresh_token" is set by the token request itself',
      ],
    );
    assert.deepEqual(
      problems({
        type: 'oauth2-client-credentials',
        tokenUrl: 'https://auth.ledger.example/token',
        clientId: 'key',
        clientSecret: 'site',
        scopes: ['a'],
        tokenParams: { scope: 'b', x: '{secrets.nope}' },
      }),
      [
        'auth.tokenParams.scope: give the scope either in scopes or in tokenParams, not both',
        'auth.tokenParams.x: {secrets.nope}: secret "nope" is not declared in secrets (declared: key, account, site)',
      ],
    );
  });
});

describe('auth: session login url', () => {
  const session = (login: Record<string, unknown>) => ({
    type: 'session-token',
    login: { method: 'POST', body: { password: '{secrets.key}' }, ...login },
    tokenPath: 'token',
  });
  it('a literal https URL (http only on loopback) of the login host', () => {
    const spec = parseSpec(
      { ...base, auth: session({ url: 'https://login.ledger.example/connect/token' }) },
      'x',
    );
    assert.equal(
      (spec.auth as { login: { url?: string } }).login.url,
      'https://login.ledger.example/connect/token',
    );
    assert.equal(loginUrlProblem('http://127.0.0.1:8080/login'), undefined);
    assert.equal(loginUrlProblem('https://auth.docker.io/token?service=registry.docker.io'), undefined);
  });
  it('refuses placeholders, user info, plain http elsewhere, and both or neither of path and url', () => {
    // A login host from config follows baseUrl's rules (test/unit/login-url-config.test.ts): this
    // field has no pattern, so any host could be named.
    assert.deepEqual(problems(session({ url: 'https://{config.region}.login.example/token' })), [
      "connectionConfig.region.pattern: required: {config.region} is in auth.login.url's host, so its values must be constrained by a pattern (e.g. '^[a-z0-9-]+$')",
    ]);
    assert.deepEqual(problems(session({ url: 'https://login.example/{secrets.key}/token' })), [
      'auth.login.url: a login URL is written out in full: no placeholders (a connection must not choose where its login secrets go)',
    ]);
    assert.deepEqual(problems(session({ url: 'https://login.example/%7Bconfig.region%7D' })).length, 1);
    assert.deepEqual(problems(session({ url: 'https://u:p@login.example/token' })), [
      'auth.login.url: must not carry user info',
    ]);
    assert.deepEqual(problems(session({ url: 'http://login.example/token' })), [
      'auth.login.url: must be an https URL (http only on this machine: 127.0.0.1, localhost, [::1])',
    ]);
    assert.deepEqual(problems(session({ url: 'ftp://login.example/token' })).length, 1);
    assert.deepEqual(problems(session({ url: 'https://login.example/token', path: '/login' })), [
      'auth.login.path: give one of path (under baseUrl) or url (a login host of its own)',
    ]);
    assert.deepEqual(problems(session({})), [
      'auth.login.path: give one of path (under baseUrl) or url (a login host of its own)',
    ]);
  });
});

describe('auth: an authenticated login', () => {
  it('login.basic names declared secrets or fixed text, and is not given beside an authorization header', () => {
    const login = (more: Record<string, unknown>) => ({
      type: 'session-token',
      login: { path: '/token', ...more },
      tokenPath: 'access_token',
    });
    parseSpec({ ...base, auth: login({ basic: { username: 'key', password: { value: 'x' } } }) }, 'x');
    assert.deepEqual(problems(login({ basic: { username: 'nope' } })), [
      'auth.login.basic.username: secret "nope" is not declared in secrets (declared: key, account, site)',
    ]);
    assert.deepEqual(
      problems(login({ basic: { username: 'key' }, headers: { Authorization: 'Bearer {secrets.site}' } })),
      ['auth.login.headers: give the login an authorization header or basic, not both'],
    );
  });
});
