/**
 * The spec language on real shapes, each spec written in YAML only (as a user would), synced by the real
 * engine against real HTTP servers answering as the providers document:
 *   Notion — cursor and filter in a POST body; GitHub GraphQL — variables and pageInfo, GraphQL errors;
 *   Stripe — starting_after is the last record's id, has_more, limit as a maximum;
 *   Jira — startAt/total with maxResults capped below the asked size, incremental inside JQL, windows.
 * Every record lands once with the right key; an incremental run sends the filter and picks up only the
 * changed records.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { loadSpec } from '../../src/spec/load.js';
import { listRecords } from '../../src/store/records.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { makeItems, startShapeServer, type ShapeServer } from '../helpers/shape-providers.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const specs = (base: string) => ({
  notion: `
id: notion
baseUrl: ${base}
secrets: { token: integration token }
auth: { type: bearer, token: token }
headers: { notion-version: '2022-06-28' }
connectionConfig:
  database: { type: string, pattern: '^[0-9a-f-]+$' }
resources:
  pages:
    request:
      method: POST
      path: /v1/databases/{database}/query
      body:
        start_cursor: '{cursor}'
        page_size: '{limit}'
        'filter?': { timestamp: last_edited_time, last_edited_time: { on_or_after: '{since}' } }
    recordsPath: results
    primaryKey: id
    fields:
      id: id
      title: properties.Name.title.0.plain_text
      last_edited_time: { type: timestamp }
    pagination: { type: cursor, cursorPath: next_cursor, hasMorePath: has_more, pageSize: 40 }
    incremental: { cursorField: last_edited_time }
`,
  github: `
id: github-graphql
baseUrl: ${base}
secrets: { token: token }
auth: { type: bearer, token: token }
connectionConfig:
  owner: { type: string, pattern: '^[A-Za-z0-9-]+$' }
  repo: { type: string, pattern: '^[A-Za-z0-9._-]+$' }
responseRules:
  - { when: { path: errors, exists: true }, action: fail, message: 'GraphQL: {body.errors.0.message}' }
resources:
  issues:
    request:
      path: /graphql
      graphql:
        query: |
          query($owner: String!, $name: String!, $first: Int!, $after: String, $since: DateTime) {
            repository(owner: $owner, name: $name) {
              issues(first: $first, after: $after, filterBy: { since: $since }) {
                nodes { id title updatedAt }
                pageInfo { hasNextPage endCursor }
              }
            }
          }
        variables: { owner: '{config.owner}', name: '{config.repo}', first: '{limit}', after: '{cursor}', since: '{since}' }
    recordsPath: data.repository.issues.nodes
    primaryKey: id
    pagination:
      type: cursor
      cursorPath: data.repository.issues.pageInfo.endCursor
      hasMorePath: data.repository.issues.pageInfo.hasNextPage
      pageSize: 50
    incremental: { cursorField: updatedAt }
  too-big:
    request:
      path: /graphql
      graphql: { query: 'query($first: Int!) { x }', variables: { first: '{limit}' } }
    recordsPath: data.repository.issues.nodes
    primaryKey: id
    pagination: { type: cursor, cursorPath: data.x, pageSize: 500 }
`,
  stripe: `
id: stripe
baseUrl: ${base}/v1
secrets: { key: secret key }
auth: { type: bearer, token: key }
resources:
  customers:
    request: { path: /customers, query: { 'created[gte]': '{since|unix}' } }
    recordsPath: data
    primaryKey: id
    pagination: { type: cursor, lastRecordPath: id, param: starting_after, limitParam: limit, pageSize: 100, hasMorePath: has_more }
    incremental: { cursorField: created, format: unix }
`,
  hubspot: `
id: hubspot
baseUrl: ${base}
secrets: { token: private app token }
auth: { type: bearer, token: token }
resources:
  contacts:
    request:
      method: POST
      path: /crm/v3/objects/contacts/search
      body:
        limit: '{limit}'
        after: '{cursor}'
        'filterGroups?':
          - filters: [{ propertyName: lastmodifieddate, operator: GTE, value: '{since|unix-ms}' }]
    recordsPath: results
    primaryKey: id
    filter: [{ path: archived, equals: false }]
    flatten: properties
    pagination: { type: cursor, cursorPath: paging.next.after, pageSize: 100, totalPath: total }
    incremental: { cursorField: lastmodifieddate }
`,
  exports: `
id: exports
baseUrl: ${base}
resources:
  csv:
    request: { path: /exports/items.csv }
    decoder: { format: csv }
    primaryKey: id
    fields:
      id: id
      title: title
      updated: { type: timestamp }
  jsonl:
    request: { path: /exports/items.jsonl.gz }
    decoder: { format: jsonl }
    primaryKey: id
    fields:
      id: id
      updated: { type: timestamp, format: unix-ms }
`,
  jira: `
id: jira
baseUrl: ${base}/rest/api/3
secrets: { email: account email, token: API token }
auth: { type: basic, username: email, password: token }
connectionConfig:
  project: { type: string }
resources:
  issues:
    request:
      path: /search
      query:
        jql: 'project = "{config.project|dq}" AND updated >= "{window.start|yyyy/MM/dd HH:mm}" AND updated < "{window.end|yyyy/MM/dd HH:mm}"'
    recordsPath: issues
    primaryKey: id
    fields:
      id: id
      key: key
      summary: fields.summary
      updated: { from: fields.updated, type: timestamp }
    pagination: { type: offset, offsetParam: startAt, limitParam: maxResults, pageSize: 100, totalPath: total }
    incremental: { cursorField: updated, startDate: '2025-12-01', step: 30d }
`,
});

describe('the spec language on real providers (YAML only)', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let server: ShapeServer;
  let dir: string;

  before(async () => {
    env = await testEnv();
    server = await startShapeServer(makeItems(250));
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-specs-'));
    const loaded = [];
    for (const [name, text] of Object.entries(specs(server.url))) {
      const file = path.join(dir, `${name}.yaml`);
      await fs.writeFile(file, text);
      loaded.push(await loadSpec(file));
    }
    engine = await startEngine(env, loaded);
  });

  after(async () => {
    await engine?.close();
    await server?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const keys = async (integration: string, connection: string, resource: string) =>
    (await listRecords(env.db, { integration, connection, resource })).map((r) => r.key).sort();
  let touchRound = 0;
  const allIds = () => server.items.map((i) => i.id).sort();

  /** A full run lands every record once; after 5 changes an incremental run fetches just those. */
  const fullThenIncremental = async (
    integration: string,
    resource: string,
    secrets: Record<string, string>,
    config: Record<string, unknown>,
    sentFilter: (req: ShapeServer['requests'][number]) => boolean,
  ) => {
    const conn = uniqueId('c');
    await engine.addConnection(integration, conn, secrets, config);
    const full = await (await engine.run(engine.input(integration, conn, resource))).result();
    assert.equal(full.status, 'completed');
    assert.equal(full.inserted, 250, `${integration}: every record once`);
    assert.deepEqual(await keys(integration, conn, resource), allIds());
    // Each test changes its own records: one changed by an earlier test within the same second would
    // look unchanged to a provider whose times are whole seconds (Stripe's created).
    const changed = [3, 51, 102, 153, 204].map((n) => `i${String(n + touchRound * 7).padStart(4, '0')}`);
    touchRound++;
    server.touch(changed);
    const seen = server.requests.length;
    const inc = await (await engine.run(engine.input(integration, conn, resource, 'incremental'))).result();
    assert.equal(inc.status, 'completed');
    assert.equal(inc.updated, 5, `${integration}: the five changed records`);
    // Only recent changes are read, not the 250: those of this test and, where the provider's filter is
    // coarse (JQL's minutes), those earlier tests made within the same minute, and a few at the
    // inclusive lower bound.
    assert.ok(
      inc.fetched <= 5 * touchRound + 5,
      `${integration}: the incremental run read only recent changes (${inc.fetched})`,
    );
    const sent = server.requests.slice(seen);
    assert.ok(sent.length > 0 && sent.every(sentFilter), `${integration}: every request carried the filter`);
    return { conn, sent };
  };

  it('Notion: cursor and page size in the JSON body, has_more, last_edited_time filter in the body', async () => {
    const { sent } = await fullThenIncremental(
      'notion',
      'pages',
      { token: 'secret_n' },
      { database: '8e2c-4f' },
      (r) => {
        const b = r.body as { filter?: { last_edited_time: { on_or_after: string } } };
        return r.method === 'POST' && typeof b.filter?.last_edited_time.on_or_after === 'string';
      },
    );
    assert.equal((sent[0]!.body as { page_size: number }).page_size, 40, 'page_size keeps its type');
    assert.ok(!('start_cursor' in (sent[0]!.body as object)), 'no start_cursor on the first page');
  });

  it('GitHub GraphQL: variables carry the cursor, records under data, pageInfo ends it; errors fail clearly', async () => {
    await fullThenIncremental(
      'github-graphql',
      'issues',
      { token: 'ghp_x' },
      { owner: 'octo', repo: 'hello' },
      (r) => typeof (r.body as { variables: { since?: string } }).variables.since === 'string',
    );
    const conn = uniqueId('g');
    await engine.addConnection('github-graphql', conn, { token: 'ghp_x' }, { owner: 'o', repo: 'r' });
    await assert.rejects(
      (await engine.run(engine.input('github-graphql', conn, 'too-big'))).result(),
      (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        assert.match(e.cause?.message ?? '', /GraphQL: `first` must be between 1 and 100/);
        return true;
      },
    );
  });

  it("Stripe: starting_after is the last record's id, has_more ends it, a short page is not the end", async () => {
    await fullThenIncremental('stripe', 'customers', { key: 'sk_test' }, {}, (r) =>
      new URL(r.url, 'http://x').searchParams.has('created[gte]'),
    );
  });

  it('HubSpot: search body with an optional filter group, paging.next.after, archived skipped, properties flattened', async () => {
    const conn = uniqueId('h');
    await engine.addConnection('hubspot', conn, { token: 'pat' });
    const full = await (await engine.run(engine.input('hubspot', conn, 'contacts'))).result();
    assert.equal(full.status, 'completed');
    const live = allIds().filter((id) => Number(id.slice(1)) % 10 !== 0);
    assert.equal(full.inserted, live.length, 'archived contacts are skipped, not stored or quarantined');
    assert.equal(full.quarantined, 0);
    assert.deepEqual(await keys('hubspot', conn, 'contacts'), live);
    const one = (
      await listRecords(env.db, { integration: 'hubspot', connection: conn, resource: 'contacts' })
    )[0]!;
    assert.deepEqual(Object.keys(one.data as object).sort(), [
      'archived',
      'createdAt',
      'firstname',
      'hs_object_id',
      'id',
      'lastmodifieddate',
      'updatedAt',
    ]);
    server.touch(['i0031', 'i0057']);
    const seen = server.requests.length;
    const inc = await (await engine.run(engine.input('hubspot', conn, 'contacts', 'incremental'))).result();
    assert.equal(inc.updated, 2);
    const sent = server.requests.slice(seen);
    assert.ok(sent.every((r) => Array.isArray((r.body as { filterGroups?: unknown }).filterGroups)));
  });

  it('exports: a CSV file and a gzip JSON Lines file, typed by fields', async () => {
    const conn = uniqueId('e');
    await engine.addConnection('exports', conn);
    for (const resource of ['csv', 'jsonl']) {
      const r = await (await engine.run(engine.input('exports', conn, resource))).result();
      assert.equal(r.inserted, 250, resource);
      assert.deepEqual(await keys('exports', conn, resource), allIds());
    }
    const [row] = await listRecords(env.db, { integration: 'exports', connection: conn, resource: 'csv' });
    assert.match(String((row!.data as { title: string }).title), /^Item \d+, the "best"$/);
    const [line] = await listRecords(env.db, { integration: 'exports', connection: conn, resource: 'jsonl' });
    assert.match(String((line!.data as { updated: string }).updated), /^2026-\d\d-\d\dT/);
  });

  it('Jira: startAt/total with maxResults capped at 50, JQL windows of 30 days from a start date', async () => {
    const seen = server.requests.length;
    const { sent } = await fullThenIncremental(
      'jira',
      'issues',
      { email: 'a@b.c', token: 't' },
      { project: 'PR"J' },
      (r) =>
        /updated >= "\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}"/.test(
          new URL(r.url, 'http://x').searchParams.get('jql') ?? '',
        ),
    );
    const firstRun = server.requests
      .slice(seen, seen + 20)
      .map((r) => new URL(r.url, 'http://x').searchParams.get('jql')!);
    assert.match(
      firstRun[0]!,
      /^project = "PR\\"J" AND updated >= "2025\/12\/01 00:00" AND updated < "2025\/12\/31 00:00"$/,
    );
    assert.ok(
      firstRun.some((q) => q.includes('updated >= "2025/12/31 00:00"')),
      'the second window follows the first',
    );
    assert.ok(sent.length >= 1);
  });
});
