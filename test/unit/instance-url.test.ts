/** Instance URLs from a token response (Salesforce's instance_url): which origins are accepted, and the spec rules. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseUrlProblem, fillBaseUrl } from '../../src/http/base-url.js';
import { InstanceUrlError, instanceOrigin } from '../../src/http/instance-url.js';
import { formatIssues } from '../../src/spec/errors.js';
import { integrationSpecSchema } from '../../src/spec/schema.js';

describe('instance URLs (Salesforce instance_url)', () => {
  const cfg = { field: 'instance_url', hosts: ['*.my.salesforce.com', '127.0.0.1:*'] };
  it('accept an https origin on an allowed host; * is one label, :* any port; http only on loopback', () => {
    assert.equal(instanceOrigin('https://acme.my.salesforce.com', cfg), 'https://acme.my.salesforce.com');
    assert.equal(instanceOrigin('https://ACME.my.salesforce.com/', cfg), 'https://acme.my.salesforce.com');
    assert.equal(instanceOrigin('http://127.0.0.1:4010', cfg), 'http://127.0.0.1:4010');
    for (const bad of [
      'https://evil.example.com',
      'https://a.b.my.salesforce.com',
      'https://my.salesforce.com',
      'https://acme.my.salesforce.com.evil.com',
      'http://acme.my.salesforce.com',
      'https://acme.my.salesforce.com:8443',
      'https://user:pw@acme.my.salesforce.com',
      'https://acme.my.salesforce.com/services/data',
      'javascript:alert(1)',
      'not a url',
      '',
      42,
    ])
      assert.throws(() => instanceOrigin(bad, cfg), InstanceUrlError, String(bad));
  });

  it('baseUrl starts with {instanceUrl} and an OAuth2 auth names its hosts; validate says so by path', () => {
    assert.equal(baseUrlProblem('{instanceUrl}/services/data/v63.0'), undefined);
    assert.match(baseUrlProblem('{instanceUrl}.evil.com') ?? '', /comes a path/);
    assert.match(baseUrlProblem('https://x.com/{instanceUrl}') ?? '', /may only start baseUrl/);
    assert.equal(
      fillBaseUrl('{instanceUrl}/v1', {}, 'c', 'https://a.my.salesforce.com'),
      'https://a.my.salesforce.com/v1',
    );
    const parse = (extra: Record<string, unknown>) => {
      const r = integrationSpecSchema.safeParse({
        id: 't',
        secrets: { id: 'i', secret: 's', refresh: 'r' },
        resources: { r: { request: { path: '/r' }, primaryKey: 'id' } },
        ...extra,
      });
      return r.success ? [] : formatIssues(r.error.issues);
    };
    const oauth = {
      type: 'oauth2-refresh-token',
      tokenUrl: 'https://login.example.com/token',
      clientId: 'id',
      clientSecret: 'secret',
      refreshToken: 'refresh',
    };
    assert.deepEqual(
      parse({ baseUrl: '{instanceUrl}/v1', auth: { ...oauth, instanceUrl: { hosts: ['*.example.com'] } } }),
      [],
    );
    assert.ok(
      parse({ baseUrl: '{instanceUrl}/v1', auth: oauth }).some((l) =>
        /^baseUrl: \{instanceUrl\} comes from the OAuth token response/.test(l),
      ),
    );
    assert.ok(
      parse({
        baseUrl: 'https://x.example.com',
        auth: { ...oauth, instanceUrl: { hosts: ['*.example.com'] } },
      }).some((l) => /^auth\.instanceUrl: baseUrl must start with \{instanceUrl\}/.test(l)),
    );
    assert.ok(
      parse({ baseUrl: '{instanceUrl}/v1', auth: { ...oauth, instanceUrl: { hosts: ['*.*'] } } }).some((l) =>
        /^auth\.instanceUrl\.hosts\[0\]: a host pattern must name at least one label/.test(l),
      ),
    );
  });
});
