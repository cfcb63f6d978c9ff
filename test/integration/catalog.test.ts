/**
 * The catalog (integrations/*.yaml, one spec per real provider), each proved against the testing kit's
 * simulator of that provider (src/testing/providers): the YAML file itself is loaded, only its baseUrl
 * aimed at the simulator. For every provider: a full sync lands every record once with the right key,
 * an incremental sync after changes sends the provider's filter and reads only the changes, a documented
 * rate-limited answer is retried, and a documented fatal error fails the run with the provider's words.
 * The other resources of each spec sync fully too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import {
  createTestStack,
  JIRA_PROJECT,
  NOTION_DATA_SOURCE,
  SALESFORCE_CLIENT,
  SALESFORCE_VERSION,
  SLACK_CHANNEL,
  slackTs,
  loadSpec,
  startGitHubGraphqlSimulator,
  startGitHubRestSimulator,
  startHubSpotSimulator,
  startJiraSimulator,
  startNotionSimulator,
  startSalesforceSimulator,
  startSlackSimulator,
  startStripeSimulator,
  startZendeskSimulator,
  type CatalogItem,
  type CatalogSimulator,
  type CatalogSimulatorOptions,
  type TestStack,
} from 'syncwright/testing';
import type { IntegrationSpec } from '../../src/spec/schema.js';

type Sent = CatalogSimulator['requests'][number];
const query = (r: Sent) => new URL(r.url, 'http://x').searchParams;

const COUNT = 150;

interface Case {
  file: string;
  start: (o: CatalogSimulatorOptions) => Promise<CatalogSimulator>;
  /** The spec's baseUrl path below the host (kept when aiming it at the simulator). */
  basePath?: string;
  /** Changes made to the spec besides its baseUrl (a token URL aimed at the simulator). */
  override?: (spec: IntegrationSpec, sim: CatalogSimulator) => IntegrationSpec;
  secrets: Record<string, string>;
  config?: Record<string, unknown>;
  resource: string;
  /** The stored key of an item, or undefined when the spec skips it (a filter). */
  key: (i: CatalogItem) => string | undefined;
  /** Whether the incremental filter sees changed items or only new ones (created-only filters). */
  changes: 'updated' | 'created';
  /** Every request of an incremental run carries the filter. */
  filterSent: (r: Sent) => boolean;
  /** The other resources: each syncs fully, at least this many records. */
  others: Record<string, number>;
  fatal: RegExp;
  /** Fields of the first item's stored record, as the spec maps them. */
  sample: Record<string, unknown>;
  /** How long the provider's rate-limited answer says to wait (Retry-After), at least. */
  waitsMs: number;
}

const cases: Record<string, Case> = {
  stripe: {
    file: 'integrations/stripe.yaml',
    start: startStripeSimulator,
    basePath: '/v1',
    secrets: { secret_key: 'sk_test_x' },
    resource: 'customers',
    key: ({ n }) => `cus_${String(n).padStart(4, '0')}`,
    changes: 'created',
    filterSent: (r) => /^\d+$/.test(query(r).get('created[gte]') ?? ''),
    others: { invoices: 150, events: 150 },
    fatal: /Stripe invalid_request_error: Invalid API Key provided/,
    sample: { id: 'cus_0001', name: 'Item 1', email: 'customer1@example.com', created: 1767225600 },
    waitsMs: 0,
  },
  'github-rest': {
    file: 'integrations/github-rest.yaml',
    start: startGitHubRestSimulator,
    secrets: { token: 'ghp_x' },
    config: { owner: 'octo-org', repo: 'hello-world' },
    resource: 'issues',
    // Pull requests show in /issues too; the spec's filter skips them.
    key: ({ n }) => (n % 7 === 0 ? undefined : String(1000 + n)),
    changes: 'updated',
    filterSent: (r) => query(r).has('since') && query(r).get('state') === 'all',
    others: { pulls: 21, 'issue-comments': 150 },
    fatal: /GitHub: Bad credentials/,
    sample: {
      id: 1001,
      number: 1,
      title: 'Item 1',
      author: 'user1',
      state: 'open',
      updated_at: '2026-01-01T00:00:00.000Z',
    },
    waitsMs: 1000,
  },
  'github-graphql': {
    file: 'integrations/github-graphql.yaml',
    start: startGitHubGraphqlSimulator,
    secrets: { token: 'ghp_x' },
    config: { owner: 'octo-org', repo: 'hello-world' },
    resource: 'issues',
    key: ({ n }) => `I_kwDO${n}`,
    changes: 'updated',
    filterSent: (r) => typeof (r.body as { variables?: { since?: unknown } }).variables?.since === 'string',
    others: { 'pull-requests': 150 },
    fatal: /GitHub GraphQL: Could not resolve to a Repository with the name 'octo-org\/hello-world'/,
    sample: {
      id: 'I_kwDO1',
      number: 1,
      author: 'user1',
      state: 'OPEN',
      updatedAt: '2026-01-01T00:00:00.000Z',
    },
    waitsMs: 0,
  },
  notion: {
    file: 'integrations/notion.yaml',
    start: startNotionSimulator,
    secrets: { token: 'ntn_x' },
    config: { data_source: NOTION_DATA_SOURCE },
    resource: 'pages',
    key: ({ n }) => `0f1e2d3c-0000-4000-8000-${String(n).padStart(12, '0')}`,
    changes: 'updated',
    filterSent: (r) =>
      typeof (r.body as { filter?: { last_edited_time?: { on_or_after?: unknown } } }).filter
        ?.last_edited_time?.on_or_after === 'string',
    others: { users: 150 },
    fatal: /Notion unauthorized: API token is invalid/,
    sample: { title: 'Item 1', archived: false, last_edited_time: '2026-01-01T00:00:00.000Z' },
    waitsMs: 1000,
  },
  hubspot: {
    file: 'integrations/hubspot.yaml',
    start: startHubSpotSimulator,
    secrets: { token: 'pat-na1-x' },
    resource: 'contacts',
    // Archived contacts are skipped by the spec's filter.
    key: ({ n }) => (n % 10 === 0 ? undefined : String(100 + n)),
    changes: 'updated',
    filterSent: (r) =>
      /^\d+$/.test(
        (r.body as { filterGroups?: { filters: { value: string }[] }[] }).filterGroups?.[0]?.filters[0]
          ?.value ?? '',
      ),
    others: { companies: 150, deals: 150 },
    fatal: /HubSpot INVALID_AUTHENTICATION: Authentication credentials not found/,
    sample: {
      id: '101',
      firstname: 'Item',
      lastname: '1',
      email: 'contact1@example.com',
      lastmodifieddate: '2026-01-01T00:00:00.000Z',
    },
    waitsMs: 1000,
  },
  zendesk: {
    file: 'integrations/zendesk.yaml',
    start: startZendeskSimulator,
    secrets: { username: 'agent@example.com/token', api_token: 'zd-x' },
    config: { subdomain: 'acme' },
    resource: 'tickets',
    key: ({ n }) => String(n),
    changes: 'updated',
    // The first request carries start_time; the next ones Zendesk's after_url, which carries the cursor.
    filterSent: (r) => /^\d+$/.test(query(r).get('start_time') ?? '') || query(r).has('cursor'),
    others: { users: 150, organizations: 150 },
    fatal: /Zendesk Forbidden: You do not have access to this page/,
    sample: {
      id: 1,
      subject: 'Item 1',
      status: 'open',
      tags: ['t1'],
      updated_at: '2026-01-01T00:00:00.000Z',
    },
    waitsMs: 1000,
  },
  jira: {
    file: 'integrations/jira.yaml',
    start: startJiraSimulator,
    basePath: '/rest/api/3',
    secrets: { email: 'a@example.com', api_token: 'atl-x' },
    config: { site: 'acme', project: JIRA_PROJECT },
    resource: 'issues',
    key: ({ n }) => String(10000 + n),
    changes: 'updated',
    filterSent: (r) => /updated >= "\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}"/.test(query(r).get('jql') ?? ''),
    others: { projects: 150 },
    fatal: /Jira: The value 'SW' does not exist for the field 'project'/,
    sample: { key: 'SW-1', summary: 'Item 1', status: 'To Do', updated: '2026-01-01T00:00:00.000Z' },
    waitsMs: 1000,
  },
  slack: {
    file: 'integrations/slack.yaml',
    start: startSlackSimulator,
    basePath: '/api',
    secrets: { token: 'xoxb-test' },
    config: { channel: SLACK_CHANNEL },
    resource: 'messages',
    key: slackTs,
    // `oldest` reads new messages; edits keep their ts.
    changes: 'created',
    filterSent: (r) => /^\d+$/.test(query(r).get('oldest') ?? ''),
    others: { channels: 150, users: 150 },
    fatal: /Slack said not_in_channel/,
    sample: { ts: '1767225600.000001', user: 'U0000000001', text: 'Message 1', edited_at: null },
    waitsMs: 1000,
  },
  salesforce: {
    file: 'integrations/salesforce.yaml',
    start: startSalesforceSimulator,
    basePath: `/services/data/${SALESFORCE_VERSION}`,
    // The base URL is the token response's instance_url (the simulator's own address): its loopback
    // host stands in for *.my.salesforce.com.
    override: (spec, sim) =>
      ({
        ...spec,
        baseUrl: `{instanceUrl}/services/data/${SALESFORCE_VERSION}`,
        auth: {
          ...(spec.auth as { type: 'oauth2-refresh-token' }),
          tokenUrl: `${sim.url}/services/oauth2/token`,
          instanceUrl: { field: 'instance_url', hosts: ['127.0.0.1:*'] },
        },
      }) as IntegrationSpec,
    secrets: {
      client_id: SALESFORCE_CLIENT.clientId,
      client_secret: SALESFORCE_CLIENT.clientSecret,
      refresh_token: SALESFORCE_CLIENT.refreshToken,
    },
    resource: 'accounts',
    key: ({ n }) => `0015g00000${String(n).padStart(5, '0')}AAA`,
    changes: 'updated',
    filterSent: (r) =>
      r.url.includes('/query/') ||
      /WHERE SystemModstamp >= \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /.test(query(r).get('q') ?? ''),
    others: { contacts: 150, opportunities: 150 },
    fatal: /Salesforce INVALID_TYPE: sObject type 'Acount' is not supported/,
    sample: {
      Id: '0015g0000000001AAA',
      Name: 'Item 1',
      Industry: 'Technology',
      SystemModstamp: '2026-01-01T00:00:00.000Z',
    },
    waitsMs: 2000,
  },
};

describe('the catalog: integrations/*.yaml against their providers’ simulators', { timeout: 600_000 }, () => {
  let stack: TestStack;
  const sims = new Map<string, CatalogSimulator>();

  before(async () => {
    const specs: IntegrationSpec[] = [];
    for (const c of Object.values(cases)) {
      const sim = await c.start({ count: COUNT, maxPageSize: 40 });
      const spec = await loadSpec(c.file);
      sims.set(spec.id, sim);
      const aimed = { ...spec, baseUrl: sim.url + (c.basePath ?? '') };
      specs.push(c.override ? c.override(aimed, sim) : aimed);
    }
    stack = await createTestStack({ specs });
  });

  after(async () => {
    await stack?.close();
    for (const sim of sims.values()) await sim.close();
  });

  for (const [id, c] of Object.entries(cases)) {
    const keysOf = async (resource: string, connection: string) =>
      (await stack.records(id, resource, { connection })).map((r) => r.key).sort();
    const expected = (sim: CatalogSimulator) =>
      sim.items
        .map((i) => c.key(i))
        .filter((k): k is string => k !== undefined)
        .sort();

    it(`${id}: a full sync stores every ${c.resource} record once; an incremental one only the changes`, async () => {
      const sim = sims.get(id)!;
      const connection = `${id}-main`;
      await stack.addConnection(id, connection, { secrets: c.secrets, config: c.config ?? {} });
      const full = await stack.sync(id, c.resource, { connection });
      assert.equal(full.status, 'completed');
      const want = expected(sim);
      assert.equal(full.inserted, want.length, 'every record once');
      assert.ok(full.pages > 1, `several pages (${full.pages})`);
      assert.deepEqual(await keysOf(c.resource, connection), want);
      const first = (await stack.records(id, c.resource, { connection })).find(
        (r) => r.key === c.key(sim.items[0]!),
      );
      const data = first?.data as Record<string, unknown>;
      assert.deepEqual(Object.fromEntries(Object.keys(c.sample).map((k) => [k, data[k]])), c.sample);

      sim.touch([3, 77]);
      const touched = sim.items.filter((i) => i.n === 3 || i.n === 77);
      const addedNs = sim.add(2);
      const added = sim.items.filter((i) => addedNs.includes(i.n));
      const seen = sim.requests.length;
      const inc = await stack.sync(id, c.resource, { connection, mode: 'incremental' });
      assert.equal(inc.status, 'completed');
      const addedKeys = added.map(c.key).filter((k) => k !== undefined);
      assert.equal(inc.inserted, addedKeys.length, 'the new records');
      assert.equal(inc.updated, c.changes === 'updated' ? touched.filter((i) => c.key(i)).length : 0);
      assert.ok(inc.fetched < 12, `the incremental run read only the changes (${inc.fetched})`);
      const sent = sim.requests.slice(seen);
      assert.ok(sent.length > 0 && sent.every(c.filterSent), 'every incremental request carried the filter');
      assert.deepEqual(await keysOf(c.resource, connection), expected(sim));
    });

    it(`${id}: the other resources sync fully (${Object.keys(c.others).join(', ')})`, async () => {
      const connection = `${id}-others`;
      await stack.addConnection(id, connection, { secrets: c.secrets, config: c.config ?? {} });
      for (const [resource, atLeast] of Object.entries(c.others)) {
        const run = await stack.sync(id, resource, { connection });
        assert.equal(run.status, 'completed', resource);
        assert.ok(run.inserted >= atLeast, `${resource}: ${run.inserted} records`);
        assert.equal(run.quarantined, 0, resource);
        assert.equal((await keysOf(resource, connection)).length, run.inserted, `${resource}: each once`);
      }
    });

    it(`${id}: a rate-limited answer is retried; a fatal error fails with the provider's message`, async () => {
      const sim = sims.get(id)!;
      const connection = `${id}-errors`;
      await stack.addConnection(id, connection, { secrets: c.secrets, config: c.config ?? {} });
      const api = () => sim.requests.filter((r) => !r.url.includes('/oauth2/token'));
      const before = api().length;
      sim.fail('rate-limit');
      const run = await stack.sync(id, c.resource, { connection });
      assert.equal(run.status, 'completed');
      assert.equal(run.inserted, expected(sim).length);
      const sent = api().slice(before);
      assert.equal(sent.length, run.pages + 1, 'the rate-limited request was sent again, once');
      assert.equal(sent[0]!.url, sent[1]!.url, 'the retry asked for the same page');
      assert.ok(
        sent[1]!.at - sent[0]!.at >= c.waitsMs - 100,
        `the retry waited as the provider said (${sent[1]!.at - sent[0]!.at} ms)`,
      );

      sim.fail('fatal');
      const seen = sim.requests.length;
      await assert.rejects(stack.sync(id, c.resource, { connection }), (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError, String(e));
        assert.match(e.cause?.message ?? '', c.fatal);
        return true;
      });
      assert.equal(sim.requests.length - seen, 1, 'a fatal error is not retried');
    });
  }
});
