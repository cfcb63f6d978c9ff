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
import { stringify } from 'yaml';
import { BLOCKING } from '../../src/import/airbyte/report.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { loadSpec } from '../../src/spec/load.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';
import { listRecords } from '../../src/store/records.js';
import { ACME_KEY, EVENTS_TOKEN, startAirbyteApis, type AirbyteApis } from '../helpers/airbyte-providers.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

/** Imports a fixture with its url_base pointed at the simulator; the spec goes through a YAML file. */
async function importFixture(
  dir: string,
  name: string,
  id: string,
  base: string,
  urlBase: RegExp,
): Promise<IntegrationSpec> {
  const text = readFileSync(path.join('test/fixtures/airbyte', `${name}.yaml`), 'utf8').replace(
    urlBase,
    base,
  );
  const result = importAirbyteManifest(text, { id });
  assert.deepEqual(
    result.issues.filter((i) => BLOCKING.has(i.effect)),
    [],
    `${name}: nothing lost`,
  );
  const file = path.join(dir, `${id}.yaml`);
  await fs.writeFile(file, stringify(result.spec));
  return loadSpec(file);
}

describe('import airbyte: imported manifests sync exactly', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let apis: AirbyteApis;
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
    engine = await startEngine(env, [acme, events]);
  });

  after(async () => {
    await engine?.close();
    await apis?.close();
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
});
