/**
 * An Airbyte manifest whose base URL, path and query parameters use Jinja conditionals and string
 * operators (conditionals.yaml), imported and synced by the real engine against two real HTTP servers
 * (the two bases the config chooses between). Each server answers only the exact requests Airbyte would
 * send for the connection's config; anything else is a 400, and the test fails.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listRecords } from '../../src/store/records.js';
import { importFixtureHosts } from '../helpers/airbyte-import.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const KEY = 'weather-key-1';

interface Page {
  query: Record<string, string>;
  answer: { data: { id: string }[]; next?: string };
}

interface WeatherApi {
  url: string;
  requests: { path: string; query: Record<string, string> }[];
  /** The exact requests (path, query) this server answers next, by path; set per test. */
  expect(path: string, pages: Page[]): void;
  close(): Promise<void>;
}

/** A weather API under `prefix`: X-Api-Key; GET {prefix}/stations/{station}/readings, paged by `after`. */
async function startWeatherApi(prefix: string): Promise<WeatherApi> {
  const requests: WeatherApi['requests'] = [];
  const expected = new Map<string, Page[]>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://weather.local');
    const query = Object.fromEntries(url.searchParams);
    requests.push({ path: url.pathname, query });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers['x-api-key'] !== KEY) return send(401, { error: 'unauthorized' });
    const page = expected.get(url.pathname)?.find((p) => JSON.stringify(p.query) === JSON.stringify(query));
    if (!page) return send(400, { error: 'unexpected request', path: url.pathname, query });
    send(200, page.answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`,
    requests,
    expect: (p, pages) => expected.set(p, pages),
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** Today's date in UTC, as Airbyte's day_delta(0, format='%Y-%m-%d') gives it. */
const today = () => new Date().toISOString().slice(0, 10);

describe('import airbyte: conditionals in the base URL, path and query sync exactly', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let us: WeatherApi;
  let eu: WeatherApi;
  let dir: string;

  before(async () => {
    env = await testEnv();
    us = await startWeatherApi('/v2');
    eu = await startWeatherApi('/europe/v2');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-cond-'));
    const spec = await importFixtureHosts(dir, 'conditionals', 'weather', [
      ['https://api.weather.test/v2/', us.url],
      ['https://eu.weather.test/europe/v2/', eu.url],
    ]);
    assert.equal(
      spec.baseUrl,
      `{?config.region=="us"}${us.url}{:}${eu.url}{/}`,
      'a base URL chosen per connection between the two the manifest names',
    );
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await us?.close();
    await eu?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const sync = async (conn: string) => {
    const before = [us.requests.length, eu.requests.length];
    const run = await (await engine.run(engine.input('weather', conn, 'readings', 'full'))).result();
    assert.equal(run.status, 'completed');
    return { us: us.requests.slice(before[0]), eu: eu.requests.slice(before[1]) };
  };
  const stored = async (conn: string) =>
    (await listRecords(env.db, { integration: 'weather', connection: conn, resource: 'readings' }))
      .map((r) => (r.data as { id: string }).id)
      .sort();

  it('region us: the us base; country without sources; the end date split; targets joined by ";"; limit on the first page only', async () => {
    const conn = uniqueId('weather');
    await engine.addConnection(
      'weather',
      conn,
      { api_key: KEY },
      {
        region: 'us',
        uid: 'st-1',
        country: 'US',
        end_datetime: '2025-03-04T05:06:07Z',
        targets: ['a b', 'c'],
        targets_type: 'addresses',
        kind: 'global',
        page_size: 2,
      },
    );
    const first = { country: 'US', end_date: '2025-03-04', targets: 'a b;c', limit: '2' };
    us.expect('/v2/stations/uid=st-1/readings', [
      { query: first, answer: { data: [{ id: 'r1' }, { id: 'r2' }], next: 'c2' } },
      {
        query: { country: 'US', end_date: '2025-03-04', targets: 'a b;c', after: 'c2' },
        answer: { data: [{ id: 'r3' }] },
      },
    ]);
    const reqs = await sync(conn);
    // kind "global" with "global" removed is empty: left out, as Airbyte leaves out an empty value.
    assert.deepEqual(reqs, {
      us: [
        { path: '/v2/stations/uid=st-1/readings', query: first },
        {
          path: '/v2/stations/uid=st-1/readings',
          query: { country: 'US', end_date: '2025-03-04', targets: 'a b;c', after: 'c2' },
        },
      ],
      eu: [],
    });
    assert.deepEqual(await stored(conn), ['r1', 'r2', 'r3']);
  });

  it('region eu: the eu base; sources leave country out; no end date is today; targets joined by ","; kind replaced', async () => {
    const conn = uniqueId('weather');
    await engine.addConnection(
      'weather',
      conn,
      { api_key: KEY },
      {
        region: 'eu',
        uid: 'st/2',
        country: 'DE',
        sources: 'bbc',
        targets: ['7', '8'],
        targets_type: 'station numbers',
        kind: 'globalhourly',
        page_size: 5,
      },
    );
    const day = today();
    const expected = (date: string) => ({
      sources: 'bbc',
      end_date: date,
      targets: '7,8',
      kind: 'hourly',
      limit: '5',
    });
    // The station is one path segment: its "/" is encoded, never a new segment.
    eu.expect('/europe/v2/stations/uid=st%2F2/readings', [
      { query: expected(day), answer: { data: [{ id: 'e1' }] } },
    ]);
    const reqs = await sync(conn);
    // The run may straddle midnight UTC: the date sent is then the later day.
    const sent = reqs.eu[0]?.query.end_date;
    assert.ok(sent === day || sent === today(), `end_date ${sent}`);
    assert.deepEqual(reqs, {
      us: [],
      eu: [{ path: '/europe/v2/stations/uid=st%2F2/readings', query: expected(sent) }],
    });
    assert.deepEqual(await stored(conn), ['e1']);
  });
});
