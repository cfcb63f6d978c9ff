/**
 * A resource's own auth (issue 20: Rollbar's project token next to its account token): only static
 * types, secrets declared in the spec, problems named by their path under the resource.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyAuth, querySecretNames } from '../../src/http/auth/apply.js';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';

const base = {
  id: 'tracker',
  baseUrl: 'https://api.tracker.example/1',
  secrets: { account_token: 'Account token', project_token: 'Project token' },
  connectionConfig: { team: { type: 'string' } },
  auth: { type: 'api-key', in: 'header', name: 'X-Access-Token', value: 'account_token' },
};

function specWith(items: Record<string, unknown>) {
  return {
    ...base,
    resources: {
      projects: { request: { path: '/projects' }, primaryKey: 'id' },
      items: { request: { path: '/items' }, primaryKey: 'id', ...items },
    },
  };
}

function problems(items: Record<string, unknown>): string[] {
  try {
    parseSpec(specWith(items), 'spec.json');
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.problems;
  }
  assert.fail('expected the spec to be rejected');
}

describe('resource auth: schema', () => {
  it('a static auth with a declared secret is accepted and kept on the resource only', () => {
    const auth = { type: 'api-key', in: 'header', name: 'X-Access-Token', value: 'project_token' };
    const spec = parseSpec(specWith({ auth }), 'spec.json');
    assert.deepEqual(spec.resources.items!.auth, auth);
    assert.equal(spec.resources.projects!.auth, undefined);
    assert.equal(spec.auth.type, 'api-key');
  });

  it('an undeclared secret is named at its path under the resource', () => {
    assert.deepEqual(problems({ auth: { type: 'bearer', token: 'other' } }), [
      'resources.items.auth.token: secret "other" is not declared in secrets (declared: account_token, project_token)',
    ]);
    const p = problems({ auth: { type: 'basic', username: 'project_token', password: 'nope' } });
    assert.deepEqual(p, [
      'resources.items.auth.password: secret "nope" is not declared in secrets (declared: account_token, project_token)',
    ]);
  });

  it('custom-headers and extra templates are checked at their paths', () => {
    const p = problems({
      auth: {
        type: 'custom-headers',
        headers: { 'X-Token': '{secrets.missing}' },
        extra: { query: { team: '{config.nope}' } },
      },
    });
    assert.equal(p.length, 2, p.join('\n'));
    assert.match(
      p.find((m) => m.startsWith('resources.items.auth.extra.query.team: '))!,
      /nope/,
    );
    assert.match(
      p.find((m) => m.startsWith('resources.items.auth.headers.X-Token: '))!,
      /missing/,
    );
  });

  it('token and session auth types are refused for a resource (no second token cache)', () => {
    for (const type of ['oauth2-refresh-token', 'session-token', 'none']) {
      const p = problems({ auth: { type } });
      assert.equal(p.length, 1, p.join('\n'));
      assert.match(p[0]!, /^resources\.items\.auth\.type: /);
    }
  });

  it('a form api-key of the resource requires a form body of that resource', () => {
    const p = problems({
      auth: { type: 'api-key', in: 'form', name: 'key', value: 'project_token' },
      request: { path: '/items', method: 'POST', body: { a: 1 } },
    });
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0]!, /^resources\.items\.request\.bodyFormat: /);
  });
});

describe('resource auth: apply', () => {
  const inputs = {
    secrets: { account_token: 'acc-1', project_token: 'prj-2' },
    config: { team: 't9' },
    env: {},
    where: 'connection tracker/c1',
  };

  it('the resource auth sends its own credential only', () => {
    const spec = parseSpec(
      specWith({ auth: { type: 'api-key', in: 'header', name: 'X-Access-Token', value: 'project_token' } }),
      'spec.json',
    );
    assert.deepEqual(applyAuth(spec.resources.items!.auth!, inputs), {
      headers: { 'x-access-token': 'prj-2' },
      query: {},
      secretParams: [],
    });
    assert.deepEqual(applyAuth(spec.auth, inputs).headers, { 'x-access-token': 'acc-1' });
  });

  it('query secret names are known without the secrets', () => {
    assert.deepEqual(
      querySecretNames({
        type: 'api-key',
        in: 'query',
        name: 'key',
        value: 'project_token',
        extra: { headers: {}, query: { sig: '{secrets.account_token}' } },
      }),
      ['key', 'sig'],
    );
    assert.deepEqual(querySecretNames({ type: 'bearer', token: 'x' }), []);
  });
});
