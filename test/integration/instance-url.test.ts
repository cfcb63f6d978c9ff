/**
 * Salesforce-style instance URLs on the real engine: the token response's instance_url is the
 * connection's base URL; when a refresh names another instance (an org migrated), the run moves there;
 * an instance on a host the spec does not allow fails the run before any credential is sent to it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { loadSpec } from '../../src/spec/load.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import {
  SALESFORCE_CLIENT,
  SALESFORCE_VERSION,
  startSalesforceSimulator,
} from '../../src/testing/providers/index.js';
import type { SalesforceInstance } from '../../src/testing/providers/salesforce.js';
import type { CatalogSimulator } from '../../src/testing/providers/kit.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const secrets = {
  client_id: SALESFORCE_CLIENT.clientId,
  client_secret: SALESFORCE_CLIENT.clientSecret,
  refresh_token: SALESFORCE_CLIENT.refreshToken,
};

describe('instance URLs from the token response', { timeout: 300_000 }, () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let a: CatalogSimulator;
  let b: CatalogSimulator;
  const org: SalesforceInstance = {};

  before(async () => {
    env = await testEnv();
    a = await startSalesforceSimulator({ count: 120, maxPageSize: 50, instance: org });
    b = await startSalesforceSimulator({ count: 120, maxPageSize: 50 });
    const spec = await loadSpec('integrations/salesforce.yaml');
    assert.equal(spec.baseUrl, `{instanceUrl}/services/data/${SALESFORCE_VERSION}`);
    const local: IntegrationSpec = {
      ...spec,
      auth: {
        ...(spec.auth as Extract<IntegrationSpec['auth'], { type: 'oauth2-refresh-token' }>),
        tokenUrl: `${a.url}/services/oauth2/token`,
        // Loopback stands in for *.my.salesforce.com.
        instanceUrl: { field: 'instance_url', hosts: ['127.0.0.1:*'] },
      },
    };
    engine = await startEngine(env, [local]);
  });
  after(async () => {
    await engine?.close();
    await a?.close();
    await b?.close();
    await env?.close();
  });

  const queries = (sim: CatalogSimulator) => sim.requests.filter((r) => r.url.includes('/query'));

  it('syncs from the instance the token names, and follows it when a refresh names another', async () => {
    const conn = uniqueId('sf');
    await engine.addConnection('salesforce', conn, secrets);
    const first = await (await engine.run(engine.input('salesforce', conn, 'accounts'))).result();
    assert.equal(first.inserted, 120);
    assert.ok(queries(a).length >= 3, 'paged on instance A');
    assert.equal(queries(b).length, 0);

    // The org moves to B: A refuses the session, the refresh names B, the retry goes there.
    org.url = b.url;
    org.moved = true;
    const seenA = queries(a).length;
    const second = await (await engine.run(engine.input('salesforce', conn, 'accounts'))).result();
    assert.equal(second.status, 'completed');
    assert.equal(second.fetched, 120);
    assert.equal(queries(a).length - seenA, 1, 'one refused request on the old instance');
    assert.ok(queries(b).length >= 3, 'paged on instance B');
    assert.ok(queries(b).every((r) => r.headers.authorization === 'Bearer 00Dsim!AQ0AQsimaccesstoken'));
    org.url = undefined;
    org.moved = false;
  });

  it('refuses an instance on a host the spec does not allow, before sending it anything', async () => {
    const conn = uniqueId('sf');
    await engine.addConnection('salesforce', conn, secrets);
    // localhost is B too, but "localhost" is not an allowed host (only 127.0.0.1:*).
    org.url = b.url.replace('127.0.0.1', 'localhost');
    const seenB = b.requests.length;
    try {
      const handle = await engine.run(engine.input('salesforce', conn, 'accounts'));
      await assert.rejects(handle.result(), (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        const messages: string[] = [];
        for (let c: unknown = e; c instanceof Error; c = c.cause) messages.push(c.message);
        assert.match(
          messages.join(' | '),
          /refused the token response's instance_url http:\/\/localhost:\d+: its host is not one the spec allows \(127\.0\.0\.1:\*\)/,
        );
        return true;
      });
      assert.equal(b.requests.length, seenB, 'nothing sent to the refused instance');
    } finally {
      org.url = undefined;
    }
  });
});
