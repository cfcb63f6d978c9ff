/**
 * Airbyte manifests with parent streams (test/fixtures/airbyte/grandchildren.yaml, ...) imported by
 * `import airbyte`, written out as YAML, loaded back as `validate` does, and synced by the real engine
 * (Temporal dev server, Postgres) against a real HTTP server answering as the manifest's API.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listRecords } from '../../src/store/records.js';
import {
  clickRows,
  SHORTLY_TOKEN,
  startShortlyApi,
  type ShortLink,
  type ShortlyApi,
} from '../helpers/airbyte-providers.js';
import { importFixture } from '../helpers/airbyte-import.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('import airbyte: parents of parents', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let shortly: ShortlyApi;
  let dir: string;

  before(async () => {
    env = await testEnv();
    shortly = await startShortlyApi();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-gc-'));
    const spec = await importFixture(
      dir,
      'grandchildren',
      'shortly',
      shortly.url,
      /https:\/\/api\.shortly\.test/g,
    );
    const product = await importFixture(
      dir,
      'parent-product',
      'shortly-product',
      shortly.url,
      /https:\/\/api\.shortly\.test/g,
    );
    engine = await startEngine(env, [spec, product]);
  });

  after(async () => {
    await engine?.close();
    await shortly?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const stored = (connection: string, resource: string) =>
    listRecords(env.db, { integration: 'shortly', connection, resource });
  const linkKey = (l: ShortLink) => JSON.stringify([l.group_guid, String(l.id)]);

  it('a child of a child: clicks once per stored link, keyed per group and link, the unlisted grandparent imported', async () => {
    const conn = uniqueId('shortly');
    await engine.addConnection('shortly', conn, { token: SHORTLY_TOKEN });
    const sync = async (resource: string) => {
      const s = await (
        await engine.run(engine.input('shortly', conn, resource, 'full', { childConcurrency: 3 }))
      ).result();
      assert.equal(s.status, 'completed', resource);
      return s;
    };
    await sync('groups');
    await sync('links');
    assert.deepEqual(
      (await stored(conn, 'links')).map((r) => r.key).sort(),
      shortly.links.map(linkKey).sort(),
      'links ids repeat across groups: keyed per group',
    );

    const expected = (links: ShortLink[]) =>
      links
        .flatMap((l) =>
          clickRows(l.group_guid, l.id).map((c) => ({
            key: JSON.stringify([linkKey(l), c.day]),
            data: { ...c, group: l.group_guid },
          })),
        )
        .sort((a, b) => a.key.localeCompare(b.key));
    const clickUrls = (from: number) =>
      shortly.requests
        .slice(from)
        .filter((u) => u.endsWith('/clicks'))
        .sort();
    const urlsOf = (links: ShortLink[]) =>
      links.map((l) => `/v1/groups/${l.group_guid}/links/${l.id}/clicks`).sort();

    let seen = shortly.requests.length;
    const clicks = await sync('clicks');
    const rows = (await stored(conn, 'clicks'))
      .map((r) => ({ key: r.key, data: r.data }))
      .sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(rows, expected(shortly.links), 'every click row of every link once, the group added');
    assert.equal(clicks.inserted, rows.length);
    assert.deepEqual(clickUrls(seen), urlsOf(shortly.links), 'each link visited once, with its own group');

    // A link goes away and another comes: the next runs follow the stored links.
    const gone = shortly.links.findIndex((l) => l.group_guid === 'g-gamma' && l.id === 2);
    shortly.links.splice(gone, 1);
    shortly.links.push({ id: 9, group_guid: 'g-alpha', url: 'https://sho.rt/g-alpha/9' });
    await sync('links');
    seen = shortly.requests.length;
    const again = await sync('clicks');
    assert.deepEqual(clickUrls(seen), urlsOf(shortly.links), 'the new link visited, the removed one not');
    assert.equal(again.inserted, clickRows('g-alpha', 9).length, "only the new link's rows are new");
    const after = new Set((await stored(conn, 'clicks')).map((r) => r.key));
    for (const e of expected(shortly.links)) assert.ok(after.has(e.key), e.key);
  });
  it('a product of two parents: every group with every link, as Airbyte pairs them; 404s ignored', async () => {
    const conn = uniqueId('shortly');
    const id = 'shortly-product';
    await engine.addConnection(id, conn, { token: SHORTLY_TOKEN });
    const sync = async (resource: string) => {
      const s = await (
        await engine.run(engine.input(id, conn, resource, 'full', { childConcurrency: 3 }))
      ).result();
      assert.equal(s.status, 'completed', resource);
      return s;
    };
    await sync('groups');
    await sync('links');
    const seen = shortly.requests.length;
    const clicks = await sync('clicks');
    const pairs = shortly.groups.flatMap((g) => shortly.links.map((l) => [g.guid, l] as const));
    assert.deepEqual(
      shortly.requests
        .slice(seen)
        .filter((u) => u.endsWith('/clicks'))
        .sort(),
      pairs.map(([g, l]) => `/v1/groups/${g}/links/${l.id}/clicks`).sort(),
      'one request per group and link',
    );
    const linkKey = (l: ShortLink) => JSON.stringify([l.group_guid, String(l.id)]);
    // Link ids repeat across groups: a pair answers when its group has a link of that id (Airbyte pairs
    // them all the same), with that group's rows; any other pair is a 404.
    const expected = pairs
      .filter(([g, l]) => shortly.links.some((x) => x.group_guid === g && x.id === l.id))
      .flatMap(([g, l]) =>
        clickRows(g, l.id).map((c) => ({
          key: JSON.stringify([JSON.stringify([g, linkKey(l)]), c.day]),
          data: { ...c, group: g },
        })),
      )
      .sort((a, b) => a.key.localeCompare(b.key));
    assert.ok(expected.length < pairs.length * 3, 'some pairs answer 404');
    const rows = (await listRecords(env.db, { integration: id, connection: conn, resource: 'clicks' }))
      .map((r) => ({ key: r.key, data: r.data }))
      .sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(rows, expected, 'the rows of every pair that answers, keyed per pair');
    assert.equal(clicks.inserted, expected.length);
  });
});
