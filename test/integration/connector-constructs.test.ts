/**
 * The connector constructs of issue 20, each written in YAML as a user would and synced by the real
 * engine (real Temporal, real Postgres) against a real HTTP server answering in the shape the construct
 * exists for (test/helpers/construct-providers.ts).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { loadSpec } from '../../src/spec/load.js';
import { listRecords } from '../../src/store/records.js';
import { projectOf, startConstructServer, type ConstructServer } from '../helpers/construct-providers.js';
import { constructSpecs } from '../helpers/construct-specs.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { makeItems } from '../helpers/shape-providers.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('connector constructs (issue 20), YAML specs against real HTTP shapes', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let server: ConstructServer;
  let dir: string;

  before(async () => {
    env = await testEnv();
    server = await startConstructServer(makeItems(250));
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-constructs-'));
    const loaded = [];
    for (const [name, text] of Object.entries(constructSpecs(server))) {
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

  const records = (integration: string, connection: string, resource: string) =>
    listRecords(env.db, { integration, connection, resource });
  const allIds = () => server.items.map((i) => i.id).sort();
  const sync = async (
    integration: string,
    conn: string,
    resource: string,
    kind: 'full' | 'incremental' = 'full',
  ) => {
    const r = await (await engine.run(engine.input(integration, conn, resource, kind))).result();
    assert.equal(r.status, 'completed', `${integration}/${resource}: ${r.error ?? ''}`);
    return r;
  };

  it('interpolation: host, base path, token URL, path day, unix window and {now} header', async () => {
    const conn = uniqueId('t');
    await engine.addConnection(
      'tenant-events',
      conn,
      { client_id: 'cid', client_secret: 'csecret' },
      { host: '127.0.0.1', account: 'acme' },
    );
    const seen = server.requests.length;
    const tokens = server.stats.tokenRequests;
    const full = await sync('tenant-events', conn, 'events');
    assert.equal(full.inserted, 250);
    assert.deepEqual((await records('tenant-events', conn, 'events')).map((r) => r.key).sort(), allIds());
    const sent = server.requests.slice(seen);
    assert.equal(server.stats.tokenRequests - tokens, 1, 'one token from the tenant token URL');
    const events = sent.filter((r) => r.path.startsWith('/api/acme/events/'));
    assert.equal(events[0]!.path, '/api/acme/events/2026-01-01');
    assert.equal(events[0]!.query.get('start'), String(Date.parse('2026-01-01T00:00:00Z') / 1000));
    assert.equal(events[0]!.query.get('end'), String(Date.parse('2026-01-08T00:00:00Z') / 1000));
    assert.equal(events[1]!.path, '/api/acme/events/2026-01-08', 'the next window, the next day in the path');
    assert.equal(events[0]!.headers['x-requested-on'], new Date().toISOString().slice(0, 10));

    server.touch(['i0007', 'i0100']);
    const inc = await sync('tenant-events', conn, 'events', 'incremental');
    assert.equal(inc.updated, 2);
    assert.ok(inc.fetched <= 4, `only the changed range is read (${inc.fetched})`);
  });

  it("start and end dates from the connection's config, with fallbacks: windows between them", async () => {
    const unix = (d: string) => Date.parse(d) / 1000;
    const between = (from: string, to: string) =>
      server.items
        .filter((i) => i.updated >= Date.parse(from) && i.updated < Date.parse(to))
        .map((i) => i.id)
        .sort();
    // No since: the fixed start; until as unix seconds.
    const a = uniqueId('t');
    await engine.addConnection(
      'tenant-events',
      a,
      { client_id: 'cid', client_secret: 'csecret' },
      { host: '127.0.0.1', account: 'acme', until: unix('2026-02-01T00:00:00Z') },
    );
    let seen = server.requests.length;
    await sync('tenant-events', a, 'range');
    const expected = between('2026-01-15T00:00:00Z', '2026-02-01T00:00:00Z');
    assert.ok(expected.length > 0 && expected.length < server.items.length);
    assert.deepEqual((await records('tenant-events', a, 'range')).map((r) => r.key).sort(), expected);
    let sent = server.requests.slice(seen).filter((r) => r.path.startsWith('/api/acme/events/'));
    assert.deepEqual(
      sent.map((r) => [r.path.slice(-10), Number(r.query.get('end')) - Number(r.query.get('start'))]),
      [
        ['2026-01-15', 7 * 86_400],
        ['2026-01-22', 7 * 86_400],
        ['2026-01-29', 3 * 86_400],
      ],
      'seven-day windows from the fallback start to the end',
    );
    // The connection's since wins; with no until the range ends at the run.
    const b = uniqueId('t');
    await engine.addConnection(
      'tenant-events',
      b,
      { client_id: 'cid', client_secret: 'csecret' },
      { host: '127.0.0.1', account: 'acme', since: '2026-02-20' },
    );
    seen = server.requests.length;
    await sync('tenant-events', b, 'range');
    assert.deepEqual(
      (await records('tenant-events', b, 'range')).map((r) => r.key).sort(),
      between('2026-02-20T00:00:00Z', new Date().toISOString()),
    );
    sent = server.requests.slice(seen).filter((r) => r.path.startsWith('/api/acme/events/'));
    assert.equal(sent[0]!.path, '/api/acme/events/2026-02-20');
    assert.ok(Number(sent.at(-1)!.query.get('end')) * 1000 > Date.now() - 60_000, 'up to the run');
  });

  it("computed fields over the record, constants, the parent's fields in child records", async () => {
    const conn = uniqueId('p');
    await engine.addConnection('projects', conn);
    await sync('projects', conn, 'projects');
    const [p1] = await records('projects', conn, 'projects');
    assert.deepEqual(p1!.data, { id: 'p1', name: 'Project 1', owner: 'Ada L0', source: 'construct-sim' });
    const tasks = await sync('projects', conn, 'tasks');
    assert.equal(tasks.childOf, 'projects');
    assert.equal(tasks.inserted, 250);
    const stored = await records('projects', conn, 'tasks');
    assert.equal(stored.length, 250);
    const i7 = stored.find((r) => (r.data as { id: string }).id === 'i0007')!;
    assert.deepEqual(i7.data, {
      id: 'i0007',
      title: 'Item 7',
      project_id: 'p2',
      project_name: 'Project 2',
      label: 'p2/item 7',
      tags: ['x', '7'],
    });
  });

  it("incremental child resources: each parent's children are read since that parent's own mark", async () => {
    const conn = uniqueId('c');
    await engine.addConnection('projects', conn);
    await sync('projects', conn, 'projects');
    const full = await sync('projects', conn, 'recent-tasks');
    assert.equal(full.inserted, 250);
    // Each parent's mark: the newest of its children when the full run read them.
    const marks = new Map<string, string>();
    for (const i of server.items) {
      const at = new Date(i.updated).toISOString();
      if (at > (marks.get(projectOf(i)) ?? '')) marks.set(projectOf(i), at);
    }
    server.touch(['i0003', 'i0004']);
    const seen = server.requests.length;
    const inc = await sync('projects', conn, 'recent-tasks', 'incremental');
    assert.deepEqual([inc.updated, inc.inserted], [2, 0]);
    // Each of the 5 parents reads from its own mark (inclusive): its newest task, plus the two changed.
    assert.ok(inc.fetched <= 5 + 2, `only changed children are read (${inc.fetched})`);
    const sent = server.requests.slice(seen).filter((r) => r.path.endsWith('/tasks'));
    assert.equal(sent.length, 5);
    assert.ok(
      sent.every((r) => r.query.has('updated_since')),
      'every child request carried its own since',
    );
    for (const r of sent) {
      const project = r.path.split('/')[2]!;
      assert.equal(r.query.get('updated_since'), marks.get(project), `${project} reads from its own mark`);
    }
  });

  it('client-side incremental: old records are skipped, not rewritten; newest-first stops at the first old one', async () => {
    const conn = uniqueId('f');
    await engine.addConnection('feeds', conn);
    for (const resource of ['newest-first', 'by-id']) {
      const full = await sync('feeds', conn, resource);
      assert.equal(full.inserted, 250, resource);
    }
    server.touch(['i0011', 'i0122', 'i0233']);
    let seen = server.requests.length;
    const newest = await sync('feeds', conn, 'newest-first', 'incremental');
    assert.deepEqual([newest.updated, newest.unchanged, newest.inserted], [3, 0, 0]);
    assert.equal(server.requests.length - seen, 1, 'the first page held an old record: no second page');
    seen = server.requests.length;
    const byId = await sync('feeds', conn, 'by-id', 'incremental');
    assert.deepEqual([byId.updated, byId.unchanged, byId.inserted, byId.fetched], [3, 0, 0, 250]);
    assert.equal(server.requests.length - seen, 6, 'no order: every page is read');
    const again = await sync('feeds', conn, 'by-id', 'incremental');
    assert.deepEqual(
      [again.updated, again.unchanged, again.inserted],
      [0, 0, 0],
      'nothing new: nothing written',
    );
    const stored = await records('feeds', conn, 'by-id');
    const i122 = stored.find((r) => r.key === 'i0122')!;
    assert.equal(
      (i122.data as { updated: string }).updated,
      new Date(server.items[121]!.updated).toISOString(),
    );
  });

  it('append-only without a natural key: keyed by content hash, once each, never marked deleted', async () => {
    const conn = uniqueId('l');
    await engine.addConnection('logs', conn);
    const e = (n: number) => ({ at: `2026-02-0${n}T10:00:00Z`, level: 'info', message: `entry ${n}` });
    server.logs.push(e(1), e(2), e(2));
    const first = await sync('logs', conn, 'entries');
    assert.deepEqual([first.fetched, first.inserted], [3, 2], 'the same entry twice is one record');
    server.logs.splice(0, server.logs.length, e(2), e(3)); // entry 1 aged out of the API, entry 3 is new
    const second = await sync('logs', conn, 'entries');
    assert.deepEqual([second.inserted, second.unchanged, second.deleted], [1, 1, 0]);
    const stored = await records('logs', conn, 'entries');
    assert.deepEqual(stored.map((r) => (r.data as { message: string }).message).sort(), [
      'entry 1',
      'entry 2',
      'entry 3',
    ]);
    assert.ok(
      stored.every((r) => /^[0-9a-f]{64}$/.test(r.key) && r.deletedAt === null),
      'sha256 keys, none deleted',
    );
  });

  it('session-token auth: one login, renewed once after the provider expires it, single-flight', async () => {
    const conn = uniqueId('s');
    await engine.addConnection('sessions', conn, { username: 'ada', password: 'pw-secret' });
    const logins = server.stats.logins;
    const full = await sync('sessions', conn, 'items');
    assert.equal(full.inserted, 250);
    assert.equal(server.stats.logins - logins, 1, 'one login for every page');
    const login = server.requests.find((r) => r.path === '/session/login')!;
    assert.deepEqual(login.body, { username: 'ada', password: 'pw-secret' });
    const reads = server.requests.filter((r) => r.path === '/session/items');
    assert.match(String(reads.at(-1)!.headers['x-session-token']), /^s\d+$/);
    assert.equal(reads.at(-1)!.headers.authorization, undefined);

    server.expireSessions();
    const [a, b] = await Promise.all([sync('sessions', conn, 'items'), sync('sessions', conn, 'same-items')]);
    assert.deepEqual([a.unchanged, b.inserted], [250, 250]);
    assert.equal(
      server.stats.logins - logins,
      2,
      'both runs got a 401; one login renewed the token for both',
    );

    const bad = uniqueId('s');
    await engine.addConnection('sessions', bad, { username: 'ada', password: 'wrong-pw' });
    await assert.rejects(
      (await engine.run(engine.input('sessions', bad, 'items'))).result(),
      (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        const message = e.cause?.message ?? '';
        assert.match(message, /the login request was refused \(401\): fix the connection's login secrets/);
        assert.ok(!message.includes('wrong-pw'));
        return true;
      },
    );
  });

  it('deletion from content: a record whose status says deleted is marked deleted, not rewritten', async () => {
    const conn = uniqueId('d');
    await engine.addConnection('tickets', conn);
    server.deletedTickets.add('i0005');
    const first = await sync('tickets', conn, 'tickets');
    assert.deepEqual(
      [first.inserted, first.deleted],
      [249, 0],
      'a ticket deleted before it was ever stored is not stored',
    );
    server.deletedTickets.add('i0006').add('i0200');
    const second = await sync('tickets', conn, 'tickets');
    assert.deepEqual([second.inserted, second.updated, second.unchanged, second.deleted], [0, 0, 247, 2]);
    const all = await listRecords(
      env.db,
      { integration: 'tickets', connection: conn, resource: 'tickets' },
      { includeDeleted: true },
    );
    const gone = all.filter((r) => r.deletedAt !== null).map((r) => r.key);
    assert.deepEqual(gone, ['i0006', 'i0200']);
    const third = await sync('tickets', conn, 'tickets');
    assert.deepEqual([third.deleted, third.unchanged], [0, 247], 'already deleted: counted once');
  });

  it('wildcard extraction: JSON:API records under data.*.attributes', async () => {
    const conn = uniqueId('j');
    await engine.addConnection('projects', conn);
    const r = await sync('projects', conn, 'jsonapi');
    assert.equal(r.inserted, 250);
    const stored = await records('projects', conn, 'jsonapi');
    assert.deepEqual(stored.map((x) => x.key).sort(), allIds());
    assert.deepEqual(stored[0]!.data, {
      uid: stored[0]!.key,
      title: (stored[0]!.data as { title: string }).title,
      labels: 'a+b',
    });
  });
});
