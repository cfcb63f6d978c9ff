import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { defineIntegration, parseSpec, withBaseUrl } from '../../src/spec/define.js';
import { pointSpecsAt } from '../../src/testing/test-stack.js';
import { SpecError } from '../../src/spec/errors.js';
import { combine, parentLabel, valueCombinations } from '../../src/spec/parent.js';
import type { IntegrationSpecInput } from '../../src/spec/schema.js';
import { loadSpec, loadSpecs } from '../../src/spec/load.js';

const minimal = {
  id: 'tracker',
  baseUrl: 'https://api.tracker.example/v2',
  secrets: { token: 'API token' },
  auth: { type: 'bearer', token: 'token' },
  resources: { issues: { request: { path: '/issues' }, recordsPath: 'data', primaryKey: 'id' } },
};

function problems(input: unknown): string[] {
  try {
    parseSpec(input, 'spec.json');
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace in the message');
    return error.problems;
  }
  assert.fail('expected the spec to be rejected');
}

describe('spec schema', () => {
  it('fills defaults for a minimal spec', () => {
    const spec = parseSpec(minimal, 'x');
    assert.equal(spec.resources.issues?.request.method, 'GET');
    assert.deepEqual(spec.resources.issues?.pagination, { type: 'none', stopOnEmptyPage: true });
    assert.equal(spec.retry.timeoutMs, 30_000);
    assert.equal(spec.retry.maxAttempts, 8);
    assert.ok(Object.isFrozen(spec));
  });

  it('accepts every auth kind and pagination kind', () => {
    const auths = [
      { type: 'none' },
      { type: 'bearer', token: 'token' },
      { type: 'bearer', token: { env: 'TRACKER_TOKEN' } },
      { type: 'api-key', in: 'header', name: 'X-Api-Key', value: 'token' },
      { type: 'api-key', in: 'query', name: 'api_key', value: 'token' },
      { type: 'basic', username: 'token', password: 'token' },
      { type: 'custom-headers', headers: { 'X-Auth': 'Token {secrets.token}' } },
    ];
    for (const auth of auths) parseSpec({ ...minimal, auth }, 'x');
    const paginations = [
      { type: 'none' },
      { type: 'page', pageSize: 50, sizeParam: 'per_page', totalPagesPath: 'meta.pages' },
      { type: 'offset', pageSize: 100, totalPath: 'total' },
      { type: 'cursor', cursorPath: 'meta.next', param: 'after' },
      { type: 'cursor', cursorHeader: 'X-Next-Cursor' },
      { type: 'link-header', sizeParam: 'per_page', pageSize: 100 },
      { type: 'next-url', nextUrlPath: 'links.next' },
    ];
    for (const pagination of paginations) {
      parseSpec({ ...minimal, resources: { issues: { ...minimal.resources.issues, pagination } } }, 'x');
    }
  });

  it('lists every mistake with its path', () => {
    const list = problems({
      id: 'Bad Id',
      baseUrl: 'ftp://x',
      secrets: { token: 'API token' },
      auth: { type: 'bearer', token: 'missing_secret' },
      resources: {
        issues: {
          request: { path: 'issues/{owner}' },
          primaryKey: 'id',
          pagination: { type: 'cursor', param: 'after' },
          parent: { resource: 'repos', params: {} },
        },
        comments: {
          request: { path: '/c' },
          primaryKey: 'id',
          pagination: { type: 'pages' },
          surprise: true,
        },
      },
    });
    const expected = [
      /^id: lower-case letters/,
      /^baseUrl: must be an http\(s\) URL$/,
      /^resources\.issues\.request\.path: must start with "\/"$/,
      /^resources\.comments\.pagination\.type: expected one of "none", "page", "offset", "cursor", "link-header", "next-url"$/,
      /^resources\.comments\.surprise: unknown field$/,
    ];
    for (const re of expected)
      assert.ok(
        list.some((p) => re.test(p)),
        `missing ${re}: got\n${list.join('\n')}`,
      );
  });

  it('checks cross-field rules: secrets, cursor source, parents, placeholders, incremental fields', () => {
    const list = problems({
      ...minimal,
      auth: { type: 'bearer', token: 'nope' },
      resources: {
        issues: {
          request: { path: '/repos/{owner}/{parent.repo}/issues' },
          primaryKey: 'id',
          fields: { id: 'id' },
          pagination: { type: 'cursor', param: 'after' },
          parent: { resource: 'repos', params: {} },
          incremental: { cursorField: 'updated_at', param: 'since' },
        },
      },
    });
    assert.deepEqual(list.sort(), [
      'auth.token: secret "nope" is not declared in secrets (declared: token)',
      'resources.issues.incremental.cursorField: "updated_at" is not a mapped field',
      'resources.issues.pagination.cursorPath: required when type is "cursor" (or give cursorHeader or lastRecordPath)',
      'resources.issues.parent.resource: no resource "repos" (resources: issues)',
      'resources.issues.request.path: {owner} is not a connectionConfig field (declared: none)',
      'resources.issues.request.path: {parent.repo} needs parent.params.repo',
    ]);
  });

  it('defineIntegration accepts a map function; JSON cannot carry one', () => {
    const spec = defineIntegration({
      ...minimal,
      auth: { type: 'bearer', token: 'token' },
      resources: { issues: { ...minimal.resources.issues, map: (r) => ({ ...r, extra: 1 }) } },
    });
    assert.equal(typeof spec.resources.issues?.map, 'function');
    assert.ok(
      problems({ ...minimal, resources: { issues: { ...minimal.resources.issues, map: 'x => x' } } }).some(
        (p) => /map: must be a function/.test(p),
      ),
    );
  });
});

describe('removeFields', () => {
  it('accepts dot paths with * segments; refuses bad paths and removing the key or cursor, by path', () => {
    const issues = (extra: Record<string, unknown>) => ({
      ...minimal,
      resources: { issues: { ...minimal.resources.issues, ...extra } },
    });
    const spec = parseSpec(issues({ removeFields: ['body.html', 'labels.*.url'] }), 'x');
    assert.deepEqual(spec.resources.issues?.removeFields, ['body.html', 'labels.*.url']);
    assert.deepEqual(problems(issues({ removeFields: ['a.*', 'id'] })), [
      'resources.issues.removeFields[0]: the last segment names the field removed ("*" may only stand for a list item or object value before it)',
      'resources.issues.removeFields[1]: removes "id", which is this resource\'s primaryKey',
    ]);
    assert.deepEqual(
      problems(
        issues({ removeFields: ['meta'], incremental: { cursorField: 'meta.updated', param: 'since' } }),
      ),
      [
        'resources.issues.removeFields[0]: removes "meta.updated", which is this resource\'s incremental.cursorField',
      ],
    );
  });
});

describe('parent: { values } (one run per combination of listed values)', () => {
  it('accepts lists of scalars as {parent.x}; refuses empty lists, unknown placeholders and too many runs, by path', () => {
    const withParent = (parent: unknown, path = '/reports/{parent.kind}') => ({
      ...minimal,
      resources: {
        reports: { request: { path, query: { region: '{parent.region}' } }, primaryKey: 'id', parent },
      },
    });
    const spec = parseSpec(
      withParent({ values: { kind: ['daily', 'weekly'], region: ['eu', 7, true] } }),
      'x',
    );
    assert.deepEqual(spec.resources.reports?.parent, {
      values: { kind: ['daily', 'weekly'], region: ['eu', 7, true] },
    });
    assert.deepEqual(valueCombinations({ kind: ['daily', 'weekly'], region: ['eu', 7] }), [
      { key: '["daily","eu"]', params: { kind: 'daily', region: 'eu' } },
      { key: '["daily","7"]', params: { kind: 'daily', region: '7' } },
      { key: '["weekly","eu"]', params: { kind: 'weekly', region: 'eu' } },
      { key: '["weekly","7"]', params: { kind: 'weekly', region: '7' } },
    ]);
    assert.ok(
      problems(withParent({ values: { kind: [], region: ['eu'] } })).some((p) =>
        p.startsWith('resources.reports.parent'),
      ),
    );
    assert.deepEqual(problems(withParent({ values: { region: ['eu'] } })), [
      'resources.reports.request.path: {parent.kind} needs parent.params.kind',
    ]);
    // A list from the connection: a list field, read per connection at run time.
    const fromConfig = {
      ...withParent({ values: { kind: '{config.kinds}', region: ['eu'] } }),
      connectionConfig: { kinds: { type: 'list' } },
    };
    assert.deepEqual(parseSpec(fromConfig, 'x').resources.reports?.parent, {
      values: { kind: '{config.kinds}', region: ['eu'] },
    });
    assert.deepEqual(
      valueCombinations({ kind: '{config.kinds}', region: ['eu'] }, { kinds: ['a', '', 'b', { x: 1 }] }),
      [
        { key: '["a","eu"]', params: { kind: 'a', region: 'eu' } },
        { key: '["b","eu"]', params: { kind: 'b', region: 'eu' } },
      ],
      'empty and non-scalar items give no runs',
    );
    assert.deepEqual(valueCombinations({ kind: '{config.kinds}' }, {}), [], 'no list: no runs');
    assert.deepEqual(problems({ ...fromConfig, connectionConfig: { kinds: { type: 'string' } } }), [
      'resources.reports.parent.values.kind: {config.kinds}: "kinds" must be a connectionConfig field of type list',
    ]);
    const many = Array.from({ length: 101 }, (_, i) => `v${i}`);
    assert.deepEqual(problems(withParent({ values: { kind: many, region: many } })), [
      'resources.reports.parent.values: 10201 combinations: at most 10000 runs per sync',
    ]);
  });
});

describe('a whole base URL from connection config (format: url)', () => {
  it('needs the field declared format: url (string), hosts only with it, and no authorization-code URL', () => {
    const base = {
      ...minimal,
      baseUrl: '{config.endpoint}/api/v1',
      connectionConfig: { endpoint: { format: 'url', hosts: ['*.rocket.chat', '127.0.0.1:*'] } },
    };
    const spec = parseSpec(base, 'x');
    assert.equal(spec.connectionConfig.endpoint?.format, 'url');
    parseSpec({ ...base, connectionConfig: { endpoint: { format: 'url' } } }, 'x');
    assert.deepEqual(problems({ ...base, connectionConfig: { endpoint: {} } }), [
      'connectionConfig.endpoint.format: required: {config.endpoint} starts baseUrl, so it must be a string field with format: url',
    ]);
    assert.deepEqual(
      problems({ ...base, connectionConfig: { endpoint: { format: 'url' }, other: { hosts: ['a.com'] } } }),
      ['connectionConfig.other.hosts: hosts constrain a format: url field: add format: url or remove hosts'],
    );
    assert.deepEqual(problems({ ...base, connectionConfig: { endpoint: { format: 'url', hosts: ['*'] } } }), [
      'connectionConfig.endpoint.hosts[0]: a host pattern must name at least one label of its own, e.g. "*.my.salesforce.com"',
    ]);
    assert.match(problems({ ...base, baseUrl: '{config.endpoint}.evil.com' })[0]!, /comes a path/);
    assert.match(
      problems({
        ...base,
        baseUrl: 'https://api.example.com',
        secrets: { id: 'client id' },
        auth: {
          type: 'oauth2-authorization-code',
          authorizeUrl: '{config.endpoint}/authorize',
          tokenUrl: 'https://api.example.com/token',
          clientId: 'id',
        },
      })[0]!,
      /cannot start the URLs of an authorization-code flow/,
    );
  });
});

describe('spec loading', () => {
  async function dir(files: Record<string, string>): Promise<string> {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-specs-'));
    for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(d, name), text);
    return d;
  }

  it('loads JSON, YAML and TypeScript specs from a directory', async () => {
    const d = await dir({
      'a.json': JSON.stringify(minimal),
      'b.yaml':
        'id: other\nbaseUrl: http://localhost:1\nresources:\n  things:\n    request: { path: /things }\n    primaryKey: id\n',
      'c.ts': `import { defineIntegration } from '${path.resolve('src/spec/define.ts')}';\nexport default defineIntegration({ id: 'third', baseUrl: 'http://x', resources: { r: { request: { path: '/r' }, primaryKey: 'id' } } });\n`,
      'notes.txt': 'ignored',
    });
    const specs = await loadSpecs(d);
    assert.deepEqual([...specs.keys()].sort(), ['other', 'third', 'tracker']);
  });

  it("reports YAML syntax errors with line and column, and every file's problems at once", async () => {
    const d = await dir({
      'bad.yaml': 'id: x\nresources:\n  - [unclosed\n',
      'worse.json': JSON.stringify({ ...minimal, baseUrl: 'nope' }),
      'dup1.json': JSON.stringify(minimal),
      'dup2.json': JSON.stringify(minimal),
    });
    await assert.rejects(loadSpecs(d), (error: unknown) => {
      assert.ok(error instanceof SpecError);
      const text = error.problems.join('\n');
      assert.match(text, /bad\.yaml: line \d+, column \d+/);
      assert.match(text, /worse\.json: baseUrl: must be an http\(s\) URL/);
      assert.match(text, /dup2\.json: id "tracker" is also used by .*dup1\.json/);
      return true;
    });
  });

  it('names a missing file and an unsupported type', async () => {
    await assert.rejects(loadSpec('/nonexistent/spec.json'), /file not found/);
    await assert.rejects(loadSpec('spec.toml'), /unsupported spec file type "\.toml"/);
  });

  it('ships example specs that validate', async () => {
    const specs = await loadSpecs('integrations');
    assert.ok(specs.size >= 1);
  });

  it('ships the catalog of real providers, each valid', async () => {
    const specs = await loadSpecs('integrations');
    for (const id of [
      'stripe',
      'github-rest',
      'github-graphql',
      'notion',
      'hubspot',
      'zendesk',
      'jira',
      'slack',
      'salesforce',
    ]) {
      const spec = specs.get(id);
      assert.ok(spec, `integrations/${id}.yaml is missing`);
      assert.ok(Object.keys(spec.resources).length >= 2, `${id}: at least two resources`);
      assert.ok(spec.rateLimits.length >= 1, `${id}: the provider's rate limits`);
      assert.ok(spec.responseRules.length >= 1, `${id}: rules for the provider's error shapes`);
    }
  });
});

describe('parsed specs are not parsed again', () => {
  const limited = { ...minimal, rateLimits: [{ limit: 10, per: 'second' }] } as IntegrationSpecInput;

  it('a rate-limited spec pointed at another base URL keeps its limits (createTestStack baseUrls)', () => {
    const spec = defineIntegration(limited);
    const moved = pointSpecsAt([spec], { tracker: 'http://127.0.0.1:4010' }).get('tracker');
    assert.equal(moved?.baseUrl, 'http://127.0.0.1:4010');
    assert.deepEqual(moved?.rateLimits, [{ name: '10/second', limit: 10, intervalMs: 1000 }]);
    assert.throws(
      () => withBaseUrl(spec, 'ftp://x'),
      (e: unknown) => e instanceof SpecError && e.problems[0] === 'baseUrl: must be an http(s) URL',
    );
  });

  it('parseSpec returns a spec from defineIntegration as it is (a TypeScript spec with rateLimits loads)', async () => {
    const spec = defineIntegration(limited);
    assert.equal(parseSpec(spec, 'again'), spec);
    const d = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-specs-'));
    const file = path.join(d, 'limited.ts');
    await fs.writeFile(
      file,
      `import { defineIntegration } from '${path.resolve('src/spec/define.ts')}';\n` +
        `export default defineIntegration(${JSON.stringify(limited)});\n`,
    );
    assert.equal((await loadSpec(file)).rateLimits[0]?.intervalMs, 1000);
  });
});

describe('spec messages', () => {
  it('baseUrl takes {config.name} placeholders in its host (with a pattern) or path, nothing else', () => {
    const bad = (baseUrl: string, config: Record<string, unknown> = {}) => {
      try {
        parseSpec({ ...minimal, baseUrl, connectionConfig: config }, 'spec');
        return [];
      } catch (e) {
        assert.ok(e instanceof SpecError);
        return e.problems;
      }
    };
    for (const baseUrl of ['https://{tenant}.api.example', 'https://api.example/%7Btenant%7D'])
      assert.ok(
        bad(baseUrl).some((p) => p.includes('only {config.name} placeholders')),
        baseUrl,
      );
    assert.ok(
      bad('https://{config.site}.atlassian.net', { site: { type: 'string' } }).includes(
        "connectionConfig.site.pattern: required: {config.site} is in baseUrl's host, so its values must be constrained by a pattern (e.g. '^[a-z0-9-]+$')",
      ),
    );
    assert.deepEqual(bad('https://{config.site}.atlassian.net', { site: { pattern: '^[a-z0-9-]+$' } }), []);
    assert.deepEqual(
      bad('https://api.example/{config.tenant}/v1', { tenant: {} }),
      [],
      'a path value needs no pattern',
    );
    assert.ok(
      bad('https://{config.nope}.example', {}).some((p) => /"nope" is not a connectionConfig field/.test(p)),
    );
    assert.ok(bad('https://api.example:{config.port}', { port: { pattern: '^[0-9]+$' } }).length > 0);
    assert.ok(
      bad('https://u:{config.p}@api.example', { p: { pattern: '^x$' } }).some((p) => /user info/.test(p)),
    );
  });

  it('reports every mistake in one pass, cross-field rules included, and none as a bare "Invalid input"', () => {
    let problems: string[] = [];
    try {
      parseSpec(
        {
          id: 'x',
          baseUrl: 'http://x',
          secrets: { token: 'API token' },
          auth: { type: 'bearer', token: 'nope' },
          resources: {
            a: { request: { path: '/a/{missing}' }, primaryKey: 5, pagination: { type: 'cursr' } },
            b: { request: { path: '/b' }, primaryKey: 'id', fields: { t: 5 } },
          },
          webhooks: {
            signature: { scheme: 'standard-webhooks', secrets: [7] },
            eventId: { path: 'id' },
            eventType: { x: 1 },
            events: {},
          },
        },
        'spec',
      );
    } catch (error) {
      problems = (error as SpecError).problems;
    }
    assert.deepEqual(problems.sort(), [
      'auth.token: secret "nope" is not declared in secrets (declared: token)',
      'resources.a.pagination.type: expected one of "none", "page", "offset", "cursor", "link-header", "next-url"',
      'resources.a.primaryKey: expected a field name or a list of field names',
      'resources.a.request.path: {missing} is not a connectionConfig field (declared: none)',
      'resources.b.fields.t: expected a source path, or a rule { from, type, const, default, format }',
      'webhooks.eventType: expected { header: name }, { path: "dot.path" } or a template like "{header.x-github-event}.{body.action?}"',
      'webhooks.signature.secrets[0]: expected the name of a declared secret, or { env: NAME } for an environment variable',
    ]);
  });

  it('says what a missing secret reference must be', () => {
    assert.throws(
      () => parseSpec({ ...minimal, auth: { type: 'bearer' } }, 'spec'),
      (e: unknown) =>
        e instanceof SpecError &&
        e.problems.includes(
          'auth.token: required: the name of a declared secret, or { env: NAME } for an environment variable',
        ),
    );
  });
});

describe('parents of parents', () => {
  const res = (path: string, parent?: unknown) => ({
    request: { path },
    primaryKey: 'id',
    ...(parent ? { parent } : {}),
  });
  it('accepts a child of a child; refuses a cycle of parents, by path', () => {
    const spec = parseSpec(
      {
        ...minimal,
        resources: {
          groups: res('/groups'),
          links: res('/groups/{parent.g}/links', { resource: 'groups', params: { g: 'guid' } }),
          clicks: res('/links/{parent.link}/clicks', { resource: 'links', params: { link: 'id' } }),
        },
      },
      'x',
    );
    assert.deepEqual(spec.resources.clicks?.parent, { resource: 'links', params: { link: 'id' } });
    assert.deepEqual(
      problems({
        ...minimal,
        resources: {
          a: res('/a/{parent.x}', { resource: 'c', params: { x: 'id' } }),
          b: res('/b/{parent.x}', { resource: 'a', params: { x: 'id' } }),
          c: res('/c/{parent.x}', { resource: 'b', params: { x: 'id' } }),
          d: res('/d/{parent.x}', { resource: 'c', params: { x: 'id' } }),
        },
      }).sort(),
      [
        'resources.a.parent.resource: parents form a cycle (a → c → b → a)',
        'resources.b.parent.resource: parents form a cycle (b → a → c → b)',
        'resources.c.parent.resource: parents form a cycle (c → b → a → c)',
      ],
    );
  });
});

describe('parent: { product } (one run per combination of parents)', () => {
  const res = (path: string, parent?: unknown) => ({
    request: { path },
    primaryKey: 'id',
    ...(parent ? { parent } : {}),
  });
  const withProduct = (product: unknown) => ({
    ...minimal,
    connectionConfig: { regions: { type: 'list' }, name: {} },
    resources: {
      accounts: res('/accounts'),
      inboxes: res('/accounts/{parent.a}/inboxes', { resource: 'accounts', params: { a: 'id' } }),
      messages: res('/accounts/{parent.account}/inboxes/{parent.inbox}/messages', { product }),
    },
  });
  it('accepts records of several resources and lists; refuses clashing names, unknown parents, cycles, by path', () => {
    const product = [
      { resource: 'accounts', params: { account: 'id' } },
      { resource: 'inboxes', params: { inbox: 'id' } },
      { values: { region: '{config.regions}' } },
    ];
    const spec = parseSpec(withProduct(product), 'x');
    assert.deepEqual(spec.resources.messages?.parent, { product });
    assert.equal(parentLabel(spec.resources.messages.parent), 'accounts × inboxes × values');
    assert.deepEqual(
      problems(
        withProduct([
          { resource: 'accounts', params: { account: 'id' } },
          { resource: 'nope', params: { inbox: 'id' } },
          { resource: 'messages', params: { x: 'id' } },
          { values: { account: [1, 2], more: '{config.name}' } },
        ]),
      ).sort(),
      [
        'resources.messages.parent.product.1.resource: no resource "nope" (resources: accounts, inboxes, messages)',
        'resources.messages.parent.product.2.resource: a resource cannot be its own parent',
        'resources.messages.parent.product.3.values.account: {parent.account} is given by parent 0 too',
        'resources.messages.parent.product.3.values.more: {config.name}: "name" must be a connectionConfig field of type list',
      ],
    );
    assert.deepEqual(problems(withProduct([{ resource: 'accounts', params: { account: 'id' } }])), [
      'resources.messages.parent.product: at least two parents to combine',
      'resources.messages.request.path: {parent.inbox} needs parent.params.inbox',
    ]);
    const cyclic = withProduct(product);
    cyclic.resources.accounts = res('/accounts/{parent.m}', { resource: 'messages', params: { m: 'id' } });
    assert.ok(
      problems(cyclic).includes(
        'resources.messages.parent.product.0.resource: parents form a cycle (messages → accounts → messages)',
      ),
    );
  });

  it('combine: every combination in order, params merged, keyed by the keys of each', () => {
    const accounts = [
      { key: '1', params: { account: '1' } },
      { key: '2', params: { account: '2' } },
    ];
    const inboxes = [
      { key: '["1","7"]', params: { inbox: '7' } },
      { key: '["2","8"]', params: { inbox: '8' } },
    ];
    assert.deepEqual(combine([accounts, inboxes]), [
      { key: '["1","[\\"1\\",\\"7\\"]"]', params: { account: '1', inbox: '7' } },
      { key: '["1","[\\"2\\",\\"8\\"]"]', params: { account: '1', inbox: '8' } },
      { key: '["2","[\\"1\\",\\"7\\"]"]', params: { account: '2', inbox: '7' } },
      { key: '["2","[\\"2\\",\\"8\\"]"]', params: { account: '2', inbox: '8' } },
    ]);
    assert.deepEqual(combine([accounts, []]), [], 'a parent without records: no runs');
  });
});
