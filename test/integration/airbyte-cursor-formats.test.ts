/**
 * test/fixtures/airbyte/cursor-formats.yaml imported, loaded back as `validate` does, and synced by the
 * real engine (Temporal dev server, Postgres) against a provider that writes its times as
 * `dd/MM/yyyy HH:mm` and `yyyyMMdd`: the connection's start date is read in that form, windows are as
 * long as the connection's config says (else the default), and an incremental run starts at the latest
 * record by time, not by text (`31/01/2026` sorts after `23/02/2026` as text).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listRecords } from '../../src/store/records.js';
import { importFixture } from '../helpers/airbyte-import.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';
import { dmy, fromDmy, startVisitsApi, VISITS_KEY, ymd, type VisitsApi } from '../helpers/visits-api.js';

const DAY = 86_400_000;
const START = '01/01/2026 00:00';

describe('import airbyte: cursors written as dd/MM/yyyy HH:mm and yyyyMMdd, a step from config', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let api: VisitsApi;
  let dir: string;

  before(async () => {
    env = await testEnv();
    // One before the start date, then every 41h07m from 3 January to late February.
    const visits = [{ id: 'v-early', logged_at: dmy(Date.UTC(2025, 11, 30, 9, 0)), page: '/early' }];
    for (let i = 0; i < 30; i++)
      visits.push({
        id: `v-${i}`,
        logged_at: dmy(Date.UTC(2026, 0, 3, 8, 15) + i * (41 * 3_600_000 + 7 * 60_000)),
        page: `/p/${i}`,
      });
    const rates = Array.from({ length: 58 }, (_, i) => ({
      day: ymd(Date.UTC(2025, 11, 25) + i * DAY),
      rate: 100 + i,
    }));
    api = await startVisitsApi(visits, rates);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-cursor-formats-'));
    const spec = await importFixture(dir, 'cursor-formats', 'visits', api.url, /https:\/\/api\.visits\.test/);
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const stored = (connection: string, resource: string) =>
    listRecords(env.db, { integration: 'visits', connection, resource });
  const requestsTo = (pathname: string, from: number) =>
    api.requests.slice(from).filter((u) => u.pathname === pathname);

  it('windows as long as the config says from its start date, and incremental from the latest visit by time', async () => {
    const conn = uniqueId('visits');
    await engine.addConnection(
      'visits',
      conn,
      { api_key: VISITS_KEY },
      { start_date: START, days_per_request: 30 },
    );
    let seen = api.requests.length;
    const full = await (await engine.run(engine.input('visits', conn, 'visits'))).result();
    assert.equal(full.status, 'completed');
    const expected = api.visits.filter((v) => v.id !== 'v-early');
    const rows = await stored(conn, 'visits');
    assert.deepEqual(rows.map((r) => r.key).sort(), expected.map((v) => v.id).sort());
    // Stored as the provider wrote them.
    assert.deepEqual(
      Object.fromEntries(rows.map((r) => [r.key, (r.data as { logged_at: string }).logged_at])),
      Object.fromEntries(expected.map((v) => [v.id, v.logged_at])),
    );
    const windows = requestsTo('/visits', seen);
    assert.equal(windows[0]!.searchParams.get('from'), START, "from the connection's start date");
    for (let i = 0; i < windows.length - 1; i++) {
      const from = fromDmy(windows[i]!.searchParams.get('from')!);
      const to = fromDmy(windows[i]!.searchParams.get('to')!);
      assert.equal(to - from, 30 * DAY, 'windows of days_per_request days');
      assert.equal(windows[i + 1]!.searchParams.get('from'), windows[i]!.searchParams.get('to'));
    }

    // The latest visit by time is in February; as text, a January one sorts after it.
    const latest = expected.reduce((a, b) => (fromDmy(b.logged_at) > fromDmy(a.logged_at) ? b : a));
    const textMax = expected.reduce((a, b) => (b.logged_at > a.logged_at ? b : a));
    assert.notEqual(latest.id, textMax.id, 'the data tells time order from text order');
    api.visits.push(
      { id: 'v-new-1', logged_at: dmy(Date.UTC(2026, 2, 10, 14, 5)), page: '/new/1' },
      { id: 'v-new-2', logged_at: dmy(Date.UTC(2026, 3, 2, 9, 30)), page: '/new/2' },
    );
    seen = api.requests.length;
    const inc = await (await engine.run(engine.input('visits', conn, 'visits', 'incremental'))).result();
    assert.equal(inc.status, 'completed');
    assert.equal(inc.inserted, 2, 'the two new visits');
    const incWindows = requestsTo('/visits', seen);
    assert.equal(incWindows[0]!.searchParams.get('from'), latest.logged_at, 'from the latest visit by time');
    assert.deepEqual(
      (await stored(conn, 'visits')).map((r) => r.key).sort(),
      [...expected.map((v) => v.id), 'v-new-1', 'v-new-2'].sort(),
    );
  });

  it("without the config value, the manifest's default step (10 days)", async () => {
    const conn = uniqueId('visits');
    await engine.addConnection('visits', conn, { api_key: VISITS_KEY }, { start_date: START });
    const seen = api.requests.length;
    const full = await (await engine.run(engine.input('visits', conn, 'visits'))).result();
    assert.equal(full.status, 'completed');
    const windows = requestsTo('/visits', seen);
    const first = windows[0]!.searchParams;
    assert.equal(fromDmy(first.get('to')!) - fromDmy(first.get('from')!), 10 * DAY);
    assert.deepEqual(
      (await stored(conn, 'visits')).map((r) => r.key).sort(),
      api.visits
        .filter((v) => v.id !== 'v-early')
        .map((v) => v.id)
        .sort(),
    );
  });

  it('yyyyMMdd days: since the start date, then since the latest day', async () => {
    const conn = uniqueId('visits');
    await engine.addConnection('visits', conn, { api_key: VISITS_KEY }, { start_date: START });
    let seen = api.requests.length;
    const full = await (await engine.run(engine.input('visits', conn, 'rates'))).result();
    assert.equal(full.status, 'completed');
    assert.deepEqual(
      requestsTo('/rates', seen).map((u) => u.searchParams.get('since')),
      ['20260101'],
    );
    const expected = api.rates.filter((r) => r.day >= '20260101').map((r) => r.day);
    assert.equal(expected.length, 51);
    assert.deepEqual((await stored(conn, 'rates')).map((r) => r.key).sort(), expected);

    api.rates.push({ day: '20260221', rate: 1 }, { day: '20260222', rate: 2 });
    seen = api.requests.length;
    const inc = await (await engine.run(engine.input('visits', conn, 'rates', 'incremental'))).result();
    assert.equal(inc.status, 'completed');
    assert.deepEqual(
      requestsTo('/rates', seen).map((u) => u.searchParams.get('since')),
      ['20260220'],
    );
    assert.equal(inc.inserted, 2);
    assert.deepEqual((await stored(conn, 'rates')).map((r) => r.key).sort(), [
      ...expected,
      '20260221',
      '20260222',
    ]);
  });
});
