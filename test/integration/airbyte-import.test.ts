/**
 * Airbyte manifests imported by `import airbyte`, written out as YAML, loaded back as `validate` does,
 * and synced by the real engine (Temporal dev server, Postgres) against real HTTP servers answering as
 * the manifests' APIs: every record lands exactly once, children per parent, filters and added fields
 * applied, and an incremental run sends the cursor and picks up only the changes.
 */
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { stringify } from 'yaml';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { loadSpec } from '../../src/spec/load.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { listRecords } from '../../src/store/records.js';
import { addConnection, ConnectionConfigError } from '../../src/sync/connections.js';
import {
  ACME_KEY,
  COINS_KEY,
  coinRows,
  startCoinsApis,
  type CoinsApis,
  DESK_KEY,
  EVENTS_TOKEN,
  LOGS_KEY,
  NOTES_PASSWORD,
  NOTES_USER,
  reportRows,
  startAirbyteApis,
  startDeskApi,
  startLogsApi,
  startNotesApi,
  type AirbyteApis,
  type DeskApi,
  type LogsApi,
  type NotesApi,
} from '../helpers/airbyte-providers.js';
import { importFixture } from '../helpers/airbyte-import.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('import airbyte: imported manifests sync exactly', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let apis: AirbyteApis;
  let notesApi: NotesApi;
  let logsApi: LogsApi;
  /** The moment the logs are anchored at: relative windows are measured from the run, just after it. */
  const t0 = Date.now();
  let desks: DeskApi[] = [];
  let deskSpec: IntegrationSpec;
  let dir: string;

  before(async () => {
    env = await testEnv();
    apis = await startAirbyteApis({ projects: 30, tasksPerProject: 45, events: 600 });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-'));
    const acme = await importFixture(
      dir,
      'api-key-offset-parent',
      'acme',
      `${apis.url}/`,
      /https:\/\/api\.acme\.test\//,
    );
    const events = await importFixture(
      dir,
      'bearer-cursor-body',
      'events',
      apis.url,
      /https:\/\/\{\{ config\['region'\] \}\}\.api\.example\.com/,
    );
    notesApi = await startNotesApi({ notes: 60, audit: 40 });
    const notes = await importFixture(
      dir,
      'session-feed',
      'notes',
      notesApi.url,
      /https:\/\/api\.notes\.test/g,
    );
    logsApi = await startLogsApi(t0);
    const logs = await importFixture(
      dir,
      'relative-windows',
      'logs',
      logsApi.url,
      /https:\/\/api\.logs\.test/g,
    );
    // Each connection names its own instance: the manifest is imported as it is.
    desks = [
      await startDeskApi({ tickets: 60, prefix: 'A' }),
      await startDeskApi({ tickets: 7, prefix: 'B' }),
    ];
    deskSpec = await importFixture(dir, 'basic-remove-config-url', 'desk', '', /^(?!)/);
    engine = await startEngine(env, [acme, events, notes, logs, deskSpec]);
  });

  after(async () => {
    await engine?.close();
    await apis?.close();
    await notesApi?.close();
    await logsApi?.close();
    for (const d of desks) await d.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const stored = (integration: string, connection: string, resource: string) =>
    listRecords(env.db, { integration, connection, resource });

  it('API key, offset pages, record filter, added fields, parent/child with a 404 ignored, incremental start parameter', async () => {
    const conn = uniqueId('acme');
    await engine.addConnection('acme', conn, { api_key: ACME_KEY });
    const active = apis.projects.filter((p) => p.status === 'active');

    const full = await (await engine.run(engine.input('acme', conn, 'projects'))).result();
    assert.equal(full.status, 'completed');
    assert.equal(full.inserted, active.length, 'every active project once; archived ones skipped');
    const projects = await stored('acme', conn, 'projects');
    assert.deepEqual(projects.map((r) => r.key).sort(), active.map((p) => String(p.id)).sort());
    const one = projects.find((r) => r.key === '1')!.data as Record<string, unknown>;
    assert.equal(one.source, 'acme', 'a constant added field');
    assert.equal(one.owner_name, 'owner-0', 'a field copied from the record');
    assert.equal(one.name, 'Project 1', 'the other fields kept');

    apis.goneProjects.add(2);
    const children = await (
      await engine.run(engine.input('acme', conn, 'tasks', 'full', { childConcurrency: 3 }))
    ).result();
    assert.equal(children.status, 'completed');
    const expected = apis.tasks
      .filter((t) => active.some((p) => p.id === t.project_id) && t.project_id !== 2)
      .map((t) => JSON.stringify([String(t.project_id), String(t.id)]))
      .sort();
    const tasks = await stored('acme', conn, 'tasks');
    assert.deepEqual(
      tasks.map((r) => r.key).sort(),
      expected,
      'every task of every project once, a 404 is no rows',
    );
    assert.equal(children.inserted, expected.length);

    apis.touchProjects([5, 6, 12]);
    const seen = apis.requests.length;
    const inc = await (await engine.run(engine.input('acme', conn, 'projects', 'incremental'))).result();
    assert.equal(inc.status, 'completed');
    assert.equal(inc.updated, 3, 'the three changed projects');
    // The three changes, and the last project of the full run: the high-water mark itself is read again
    // (the start is inclusive, less the manifest's 5-minute lookback).
    assert.equal(inc.fetched, 4, 'only the changes were read');
    const sent = apis.requests.slice(seen).filter((r) => r.url.startsWith('/v1/projects'));
    assert.ok(sent.length > 0);
    for (const r of sent) {
      const q = new URL(r.url, 'http://x').searchParams;
      assert.match(
        q.get('updated_since') ?? '',
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
        'the start in the manifest format',
      );
      assert.equal(q.get('limit'), '40');
    }
  });

  it('bearer POST search: cursor and size in the body, has_more, unix windows of 7 days from the start date', async () => {
    const conn = uniqueId('ev');
    await engine.addConnection('events', conn, { token: EVENTS_TOKEN }, { region: 'local', account: 'abc' });
    const seen = apis.requests.length;
    const full = await (await engine.run(engine.input('events', conn, 'events'))).result();
    assert.equal(full.status, 'completed');
    assert.equal(full.inserted, apis.events.length, 'every event once');
    const keys = (await stored('events', conn, 'events')).map((r) => r.key).sort();
    assert.deepEqual(keys, apis.events.map((e) => JSON.stringify([e.account_id, e.id])).sort());
    const bodies = apis.requests.slice(seen).map((r) => r.body as Record<string, unknown>);
    assert.ok(bodies.every((b) => b.limit === 50 && b.account === 'abc' && b.sort === 'updated_at'));
    assert.ok(!('starting_after' in bodies[0]!), 'no cursor on the first page');
    assert.equal(
      bodies[0]!.updated_from,
      Date.parse('2025-06-01T00:00:00Z') / 1000,
      'the first window starts at start_datetime',
    );
    assert.equal(bodies[0]!.updated_to, Date.parse('2025-06-08T00:00:00Z') / 1000, 'and is 7 days long');
    assert.ok(
      bodies.some((b) => typeof b.starting_after === 'string'),
      'later pages carry the cursor',
    );

    const highWater = Math.max(...apis.events.map((e) => e.updated_at));
    apis.touchEvents(['e0007', 'e0100', 'e0201']);
    const before = apis.requests.length;
    const inc = await (await engine.run(engine.input('events', conn, 'events', 'incremental'))).result();
    assert.equal(inc.status, 'completed');
    assert.equal(inc.updated, 3, 'the three changed events');
    assert.ok(inc.fetched <= 3 + 5, `only recent changes were read (${inc.fetched})`);
    const incBodies = apis.requests.slice(before).map((r) => r.body as { updated_from: number });
    assert.equal(
      incBodies[0]!.updated_from,
      highWater - 3600,
      'from the high-water mark less the 1-hour lookback',
    );
    assert.ok(
      incBodies.every((b) => b.updated_from >= highWater - 3600),
      'no window before it',
    );
  });

  it("session token, `*` extractor, client-side incremental from the connection's start date, interpolated added fields, a keyless append-only log, a single-object answer", async () => {
    const conn = uniqueId('notes');
    await engine.addConnection(
      'notes',
      conn,
      { username: NOTES_USER, password: NOTES_PASSWORD },
      { start_date: '2025-01-01T00:00:00Z' }, // start_datetime: "{{ config['start_date'] }}"
    );
    const fromStart = (n: { updated_at: string }) => n.updated_at >= '2025-01-01T00:00:00Z';
    const expected = notesApi.notes.filter(fromStart);
    assert.ok(expected.length < notesApi.notes.length, 'some notes fall before the start date');

    const seen = notesApi.requests.length;
    const full = await (await engine.run(engine.input('notes', conn, 'notes'))).result();
    assert.equal(full.status, 'completed');
    assert.equal(full.inserted, expected.length, 'every note from the start date once');
    const stored1 = await stored('notes', conn, 'notes');
    assert.deepEqual(
      stored1.map((r) => r.key).sort(),
      expected.map((n) => String(n.id)).sort(),
      "records from data.*.attributes, keyed by id; those before the connection's start date skipped",
    );
    for (const r of stored1) {
      const note = notesApi.notes.find((n) => String(n.id) === r.key)!;
      const data = r.data as Record<string, unknown>;
      assert.equal(data.updated_day, note.updated_at.slice(0, 10), 'format_datetime(record.updated_at)');
      assert.equal(data.author_name, note.author.name, 'record.author.name');
      assert.equal(data.title, note.title, 'the other fields kept');
    }
    const pages = notesApi.requests.slice(seen).filter((r) => r.url.startsWith('/v3/notes'));
    assert.deepEqual(
      pages.map((r) => new URL(r.url, 'http://x').searchParams.get('page')),
      ['1', '2', '3'],
      'page numbers until a short page',
    );
    assert.equal(notesApi.logins(), 1, 'one login for the run');

    // The provider cannot filter: every page is read again, and only what changed since is written.
    notesApi.expireSessions();
    const early = notesApi.notes.find((n) => !fromStart(n))!.id;
    notesApi.touchNotes([early, 20, 41]);
    const before = notesApi.requests.length;
    const inc = await (await engine.run(engine.input('notes', conn, 'notes', 'incremental'))).result();
    assert.equal(inc.status, 'completed');
    assert.equal(inc.updated, 2, 'two stored notes changed');
    assert.equal(inc.inserted, 1, 'a note from before the start date is new once it changes');
    assert.equal(inc.unchanged, 0, 'notes at or below the high-water mark are skipped, not rewritten');
    const incPages = notesApi.requests.slice(before).filter((r) => r.url.startsWith('/v3/notes'));
    assert.deepEqual(
      [...new Set(incPages.map((r) => new URL(r.url, 'http://x').searchParams.get('page')))],
      ['1', '2', '3'],
      'every page read again (no filter; page 1 twice: the 401, then after the new login)',
    );
    assert.equal(notesApi.logins(), 2, 'an expired session: one new login');
    const stored2 = await stored('notes', conn, 'notes');
    assert.equal(stored2.length, expected.length + 1);
    const touched = stored2.find((r) => r.key === '20')!.data as Record<string, unknown>;
    assert.equal(touched.updated_at, notesApi.notes.find((n) => n.id === 20)!.updated_at);

    // One object where the records are: one record.
    const me = await (await engine.run(engine.input('notes', conn, 'me'))).result();
    assert.equal(me.status, 'completed');
    assert.equal(me.inserted, 1);
    assert.deepEqual(
      (await stored('notes', conn, 'me')).map((r) => [r.key, r.data]),
      [['u1', { id: 'u1', name: NOTES_USER, plan: 'team' }]],
    );

    // No primary key: keyed by content, the duplicate entry is one record, nothing is ever deleted.
    const distinct = new Set(notesApi.audit.map((e) => JSON.stringify(e))).size;
    assert.equal(distinct, notesApi.audit.length - 1);
    const log = await (await engine.run(engine.input('notes', conn, 'audit'))).result();
    assert.equal(log.status, 'completed');
    assert.equal(log.inserted, distinct);
    const entries = await stored('notes', conn, 'audit');
    assert.equal(entries.length, distinct);
    assert.ok(
      entries.every((r) => /^[0-9a-f]{64}$/.test(r.key)),
      'sha256 content keys',
    );
    assert.deepEqual(
      entries.map((r) => JSON.stringify(r.data)).sort(),
      [...new Set(notesApi.audit.map((e) => JSON.stringify(e)))].sort(),
    );
    notesApi.audit.splice(0, 3); // the provider drops old entries: they stay
    notesApi.audit.push({ at: '2026-01-01T00:00:00Z', actor: 'user-9', action: 'delete' });
    const again = await (await engine.run(engine.input('notes', conn, 'audit'))).result();
    assert.equal(again.status, 'completed');
    assert.equal(again.inserted, 1, 'only the new entry');
    assert.equal(again.deleted, 0, 'append-only: dropped entries are kept');
    assert.equal((await stored('notes', conn, 'audit')).length, distinct + 1);
  });

  it("windows from a relative start (30 days back) to a relative end (a day back), or from the connection's dates; a start past the end reads nothing", async () => {
    const DAY = 86_400_000;
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const between = (from: number, to: number) =>
      logsApi.logs
        .filter((l) => Date.parse(l.timestamp) >= from && Date.parse(l.timestamp) < to)
        .map((l) => l.id)
        .sort();
    const logRequests = (from: number) =>
      logsApi.requests
        .slice(from)
        .filter((r) => r.url.startsWith('/api/logs'))
        .map((r) => new URL(r.url, 'http://x').searchParams);

    // No dates in the connection: day_delta(-30) … now_utc() - duration('P1D'), in 7-day windows.
    const a = uniqueId('logs');
    await engine.addConnection('logs', a, { api_key: LOGS_KEY });
    let seen = logsApi.requests.length;
    const full = await (await engine.run(engine.input('logs', a, 'logs'))).result();
    assert.equal(full.status, 'completed');
    const expected = between(t0 - 30 * DAY, t0 - DAY);
    assert.equal(expected.length, 69, 'the logs 30 days back up to a day back');
    assert.deepEqual((await stored('logs', a, 'logs')).map((r) => r.key).sort(), expected);
    const windows = logRequests(seen);
    const first = Date.parse(windows[0]!.get('filter[from]')!);
    const last = Date.parse(windows.at(-1)!.get('filter[to]')!);
    assert.ok(first >= t0 - 30 * DAY - 1000 && first < t0 - 30 * DAY + 5 * 60_000, 'starts 30 days back');
    assert.ok(last >= t0 - DAY - 1000 && last < t0 - DAY + 5 * 60_000, 'ends a day back');
    assert.equal(windows.length, 5, 'seven-day windows over 29 days');
    for (let i = 1; i < windows.length; i++)
      assert.equal(windows[i]!.get('filter[from]'), windows[i - 1]!.get('filter[to]'), 'contiguous');

    // Incremental: from the high-water mark to a day back; what is newer waits for a later run.
    logsApi.logs.push(
      { id: 'log-new', timestamp: iso(t0 - 27 * 3_600_000), message: 'new' },
      { id: 'log-recent', timestamp: iso(t0 - 2 * 3_600_000), message: 'within the last day' },
    );
    seen = logsApi.requests.length;
    const inc = await (await engine.run(engine.input('logs', a, 'logs', 'incremental'))).result();
    assert.equal(inc.status, 'completed');
    assert.equal(inc.inserted, 1, 'the new log; not the one of the last day');
    const incWindows = logRequests(seen);
    assert.equal(incWindows.length, 1);
    // log-3 is the newest stored log (10 hours apart, the last day excluded).
    const highWater = logsApi.logs.find((l) => l.id === 'log-3')!.timestamp;
    assert.ok(expected.includes('log-3') && !expected.includes('log-2'));
    assert.equal(incWindows[0]!.get('filter[from]'), highWater, 'from the high-water mark');
    assert.ok(!(await stored('logs', a, 'logs')).some((r) => r.key === 'log-recent'));

    // The connection's own dates win over the relative ones.
    const b = uniqueId('logs');
    await engine.addConnection(
      'logs',
      b,
      { api_key: LOGS_KEY },
      {
        start_date: iso(t0 - 35 * DAY),
        end_date: iso(t0 - 10 * DAY),
      },
    );
    const own = await (await engine.run(engine.input('logs', b, 'logs'))).result();
    assert.equal(own.status, 'completed');
    assert.deepEqual(
      (await stored('logs', b, 'logs')).map((r) => r.key).sort(),
      between(t0 - 35 * DAY, t0 - 10 * DAY),
    );

    // A start after the end: Airbyte has no window to read, and neither has the run.
    const c = uniqueId('logs');
    await engine.addConnection(
      'logs',
      c,
      { api_key: LOGS_KEY },
      {
        start_date: iso(t0 - 5 * DAY),
        end_date: iso(t0 - 10 * DAY),
      },
    );
    seen = logsApi.requests.length;
    const none = await (await engine.run(engine.input('logs', c, 'logs'))).result();
    assert.equal(none.status, 'completed');
    assert.equal(none.fetched, 0);
    assert.equal(logRequests(seen).length, 0, 'no request');
  });

  it('a cursor no request carries reads everything every time (readsAll); a window filter on the cursor skips what is older, and the end what is later', async () => {
    const conn = uniqueId('logs');
    await engine.addConnection('logs', conn, { api_key: LOGS_KEY });
    const first = await (await engine.run(engine.input('logs', conn, 'monitors'))).result();
    assert.equal(first.status, 'completed');
    assert.equal(first.inserted, logsApi.monitors.length);
    // Renamed, its `created` cursor unchanged, and one gone: Airbyte's incremental sync emits every
    // record again (nothing filters on the cursor) and keeps what it emitted before. So does readsAll.
    logsApi.monitors[3]!.name = 'renamed';
    const gone = logsApi.monitors.pop()!;
    const again = await (await engine.run(engine.input('logs', conn, 'monitors', 'incremental'))).result();
    assert.equal(again.status, 'completed');
    assert.equal(again.fetched, logsApi.monitors.length, 'every monitor read');
    assert.equal(again.updated, 1, 'the renamed one rewritten, though its cursor did not move');
    assert.equal(again.deleted, 0, 'an incremental run marks nothing deleted');
    const monitors = await stored('logs', conn, 'monitors');
    const m4 = monitors.find((r) => r.key === '4')!;
    assert.equal((m4.data as { name: string }).name, 'renamed');
    assert.ok(
      monitors.some((r) => r.key === String(gone.id)),
      'the one gone is kept',
    );
    logsApi.monitors.push(gone);

    // The API filters by day; the record filter (modified >= the window's start) by time.
    const full = await (await engine.run(engine.input('logs', conn, 'contacts'))).result();
    assert.equal(full.status, 'completed');
    // Between the start and the end (now): the record filter and the client-side bounds agree.
    const fromStart = logsApi.contacts.filter(
      (x) => x.modified >= '2020-01-01T00:00:00Z' && Date.parse(x.modified) <= Date.now(),
    );
    assert.ok(fromStart.length < logsApi.contacts.length - 1, 'some contacts are older than the start');
    assert.ok(!fromStart.some((x) => x.id === 41), 'the one dated ahead is after the end');
    assert.deepEqual(
      (await stored('logs', conn, 'contacts')).map((r) => r.key).sort(),
      fromStart.map((x) => String(x.id)).sort(),
    );
    const touched = new Date(Date.now() - 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const id of [3, 20, 25]) logsApi.contacts.find((x) => x.id === id)!.modified = touched;
    const inc = await (await engine.run(engine.input('logs', conn, 'contacts', 'incremental'))).result();
    assert.equal(inc.status, 'completed');
    assert.equal(inc.updated, 2, 'two stored contacts changed');
    assert.equal(inc.inserted, 1, 'one from before the start is new once it changes');
    assert.equal(inc.unchanged, 0, "the high-water mark's day is answered again, but skipped");
    assert.ok(inc.fetched > 3, `the API answered the whole day (${inc.fetched})`);
  });

  it('a whole URL per connection (format: url), basic auth without a password, fields removed after an added copy', async () => {
    const [deskA, deskB] = desks as [DeskApi, DeskApi];
    const conn = uniqueId('desk');
    await engine.addConnection(
      'desk',
      conn,
      { api_key: DESK_KEY },
      { instance_url: `${deskA.url}/`, regions: ['eu', 'us', 'apac'] },
    );
    const full = await (await engine.run(engine.input('desk', conn, 'tickets'))).result();
    assert.equal(full.status, 'completed');
    assert.equal(full.inserted, deskA.tickets.length, 'every ticket once');
    const rows = await stored('desk', conn, 'tickets');
    assert.deepEqual(rows.map((r) => r.key).sort(), deskA.tickets.map((t) => String(t.id)).sort());
    for (const r of rows) {
      const t = deskA.tickets.find((x) => String(x.id) === r.key)!;
      // Exactly what Airbyte emits: created_at copied up, then removed from meta; html and emails gone.
      assert.deepEqual(r.data, {
        id: t.id,
        subject: t.subject,
        created_at: t.meta.created_at,
        meta: { source: t.meta.source },
        body: { text: t.body.text },
        comments: t.comments.map((c) => ({ id: c.id, text: c.text })),
      });
    }
    assert.ok(
      deskA.tickets.some((t) => t.comments.length > 0 && t.comments[0]!.author_email),
      'the API kept them',
    );
    const basic = `Basic ${Buffer.from(`${DESK_KEY}:`).toString('base64')}`;
    assert.ok(deskA.requests.length >= 3 && deskA.requests.every((r) => r.authorization === basic));
    assert.deepEqual(
      deskA.requests.map((r) => r.url),
      [1, 2, 3].map((p) => `/api/v2/tickets?page=${p}&per_page=25`),
      'under the instance URL, page numbers until a short page',
    );
    assert.equal(deskB.requests.length, 0, 'the other instance is never called');

    // Two lists of partition values, one from the connection: a run per period and region.
    const beforeReports = deskA.requests.length;
    const reports = await (await engine.run(engine.input('desk', conn, 'reports'))).result();
    assert.equal(reports.status, 'completed');
    const combos = ['daily', 'weekly'].flatMap((p) => ['eu', 'us', 'apac'].map((r) => [p, r] as const));
    assert.equal(reports.inserted, combos.length * 2);
    assert.deepEqual(
      deskA.requests
        .slice(beforeReports)
        .map((r) => r.url)
        .sort(),
      combos.map(([p, r]) => `/api/v2/reports/${p}?region=${r}`).sort(),
      'each combination requested once',
    );
    assert.deepEqual(
      (await stored('desk', conn, 'reports'))
        .map((r) => r.data)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      combos
        .flatMap(([p, r]) => reportRows(p, r).map((row) => ({ ...row, region: r })))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );

    // Offsets without a size parameter: the API's own pages of 10, until a short one.
    const before = deskA.requests.length;
    const agents = await (await engine.run(engine.input('desk', conn, 'agents'))).result();
    assert.equal(agents.status, 'completed');
    assert.equal(agents.inserted, deskA.agents.length);
    assert.deepEqual(
      deskA.requests.slice(before).map((r) => r.url),
      ['/api/v2/agents?start=0', '/api/v2/agents?start=10', '/api/v2/agents?start=20'],
    );

    // Another connection, another instance: its credentials go there only.
    const connB = uniqueId('desk');
    await engine.addConnection('desk', connB, { api_key: DESK_KEY }, { instance_url: deskB.url });
    const b = await (await engine.run(engine.input('desk', connB, 'tickets'))).result();
    assert.equal(b.status, 'completed');
    assert.equal(b.inserted, deskB.tickets.length);
    assert.equal(deskA.requests.length, before + 3, 'instance A got nothing of connection B');

    // Values that would aim the key elsewhere are refused when the connection is saved…
    for (const hostile of [
      'http://help.example.org', // plain http off this machine
      `${deskA.url.replace('http://', 'http://user@')}`, // user info
      `${deskA.url}/?x=1`,
      'file:///etc/passwd',
      'help.example.org',
    ])
      await assert.rejects(
        addConnection(env.db, engine.box, deskSpec, {
          integration: 'desk',
          id: uniqueId('desk'),
          secrets: { api_key: DESK_KEY },
          config: { instance_url: hostile },
        }),
        (e: unknown) => e instanceof ConnectionConfigError && /config\.instance_url: /.test(e.message),
        hostile,
      );
    // …and a stored one that slipped past the rules fails the run before anything is sent.
    const slipped = uniqueId('desk');
    await engine.addConnection(
      'desk',
      slipped,
      { api_key: DESK_KEY },
      { instance_url: 'http://help.example.org' },
    );
    const sent = deskA.requests.length + deskB.requests.length;
    await assert.rejects(
      (await engine.run(engine.input('desk', slipped, 'tickets'))).result(),
      (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        assert.equal((e.cause as { type?: string }).type, 'ConfigurationError');
        assert.match(e.cause?.message ?? '', /\{config\.instance_url\} must be an https URL/);
        assert.doesNotMatch(JSON.stringify(e), new RegExp(DESK_KEY));
        return true;
      },
    );
    assert.equal(deskA.requests.length + deskB.requests.length, sent);
  });

  // Its own engine over the same environment (the file's after() closes that).
  describe('a url_base chosen by a config value', () => {
    let engine: EngineHarness;
    let coins: CoinsApis;
    let coinsDir: string;

    before(async () => {
      coins = await startCoinsApis();
      coinsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-'));
      // The manifest's two hosts become the simulator's two addresses (the path /v1 stays).
      const text = readFileSync('test/fixtures/airbyte/chosen-host.yaml', 'utf8')
        .replace(/https:\/\/rest\.coins\.test/g, coins.production)
        .replace(/https:\/\/rest-sandbox\.coins\.test/g, coins.sandbox);
      const result = importAirbyteManifest(text, { id: 'coins' });
      assert.deepEqual(result.issues, [], 'imported fully, nothing differs');
      const file = path.join(coinsDir, 'coins.yaml');
      await fs.writeFile(file, stringify(result.spec));
      const spec = await loadSpec(file);
      assert.equal(
        spec.resources.assets?.request.path,
        '/v1/assets',
        'the common path of both URLs stays in the request',
      );
      engine = await startEngine(env, [spec]);
    });

    after(async () => {
      await engine?.close();
      await coins?.close();
      if (coinsDir) await fs.rm(coinsDir, { recursive: true, force: true });
    });

    it('each connection reads from the host its config chooses, and its key goes nowhere else', async () => {
      const cases = [
        { config: { environment: 'production' }, host: 'production' },
        { config: { environment: 'sandbox' }, host: 'sandbox' },
        // Anything but 'production' is the sandbox (the else branch), even text that looks like a host.
        { config: { environment: 'evil.example' }, host: 'sandbox' },
      ] as const;
      for (const c of cases) {
        const conn = uniqueId('coins');
        await engine.addConnection('coins', conn, { api_key: COINS_KEY }, { ...c.config });
        for (const resource of ['assets', 'quotes'] as const) {
          const before = coins.requests.length;
          const run = await (await engine.run(engine.input('coins', conn, resource))).result();
          assert.equal(run.status, 'completed');
          const want = coinRows(c.host, resource);
          assert.equal(run.inserted, want.length, `${c.config.environment} ${resource}`);
          const rows = await listRecords(env.db, { integration: 'coins', connection: conn, resource });
          assert.deepEqual(
            rows.map((r) => r.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
            want,
            `${c.config.environment} ${resource}: the chosen host's records`,
          );
          assert.deepEqual(
            coins.requests.slice(before),
            [{ host: c.host, url: `/v1/${resource}`, key: COINS_KEY }],
            `${c.config.environment} ${resource}: one request, to the chosen host only`,
          );
        }
      }
    });
  });
});
