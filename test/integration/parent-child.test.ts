import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listRecords } from '../../src/store/records.js';
import { listRuns } from '../../src/store/runs.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { forgeSpec } from '../helpers/forge-spec.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const REPOS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

describe('parent/child resources: issues of each repo, as child workflows', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;

  before(async () => {
    env = await testEnv();
    const resources: Record<string, ReturnType<typeof generateRecords>> = {
      repos: REPOS.map((name, i) => ({ id: i + 1, name })),
    };
    // Issue ids repeat across repos, as issue numbers do on GitHub.
    for (const repo of REPOS) resources[`repos/${repo}/issues`] = generateRecords(120);
    sim = await startProviderSimulator({ resources });
    const spec = forgeSpec(sim.url);
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await sim?.close();
    await env?.close();
  });

  it('syncs the children of every parent, keeps them apart, and detects deletions per parent', async () => {
    const conn = uniqueId('org');
    await engine.addConnection('forge', conn);
    const repos = await (await engine.run(engine.input('forge', conn, 'repos'))).result();
    assert.equal(repos.inserted, 5);

    const handle = await engine.run(engine.input('forge', conn, 'issues', 'full', { childConcurrency: 2 }));
    const issues = await handle.result();
    assert.equal(issues.status, 'completed');
    assert.equal(issues.childOf, 'repos');
    assert.deepEqual([issues.pages, issues.fetched, issues.inserted], [10, 600, 600]);
    const stored = await listRecords(env.db, { integration: 'forge', connection: conn, resource: 'issues' });
    assert.equal(stored.length, 600);
    assert.ok(stored.some((r) => r.key === JSON.stringify(['beta', '7'])));

    const children = await listRuns(env.db, { integration: 'forge', limit: 50 });
    const childRuns = children.filter((r) => r.workflowId.startsWith(`${handle.workflowId}:`));
    assert.equal(childRuns.length, 5);
    assert.ok(childRuns.every((r) => r.status === 'completed' && r.inserted === 120));

    const beta = sim.records('repos/beta/issues');
    sim.setRecords(
      'repos/beta/issues',
      beta.filter((r) => ![3, 50, 101].includes(Number(r.id))),
    );
    const again = await (await engine.run(engine.input('forge', conn, 'issues'))).result();
    assert.deepEqual([again.inserted, again.updated, again.unchanged, again.deleted], [0, 0, 597, 3]);
    const deleted = await env.db
      .selectFrom('records')
      .select(['record_key', 'parent_key'])
      .where('connection', '=', conn)
      .where('deleted_at', 'is not', null)
      .orderBy('record_key')
      .execute();
    assert.deepEqual(
      deleted.map((d) => d.record_key),
      [JSON.stringify(['beta', '101']), JSON.stringify(['beta', '3']), JSON.stringify(['beta', '50'])],
    );
    assert.ok(deleted.every((d) => d.parent_key === 'beta'));
  });
});
