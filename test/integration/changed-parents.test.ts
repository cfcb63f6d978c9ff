/**
 * A child that visits changed parents only (`parent.changedOnly`), end to end: a real Temporal dev
 * server, a real Postgres, and a provider (a real HTTP server) that answers only the exact requests
 * of its API and counts them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineIntegration } from '../../src/spec/define.js';
import { listRecords } from '../../src/store/records.js';
import { BOARDS_TOKEN, startBoardsApi, type BoardsApi } from '../helpers/boards-api.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('parent.changedOnly: an incremental child run visits only the changed parents', () => {
  let env: TestEnv;
  let api: BoardsApi;
  let engine: EngineHarness;

  before(async () => {
    env = await testEnv();
    api = await startBoardsApi();
    for (const id of ['p1', 'p2', 'p3', 'p4']) {
      api.projects.push({ id, name: `project ${id}`, updated_at: '2026-01-01T00:00:00Z' });
      api.tasks.set(
        id,
        [1, 2, 3].map((n) => ({ id: `${id}-t${n}`, title: `task ${n} of ${id}` })),
      );
    }
    const spec = defineIntegration({
      id: 'boards',
      baseUrl: api.url,
      secrets: { token: 'API token' },
      auth: { type: 'bearer', token: 'token' },
      resources: {
        projects: { request: { path: '/projects' }, recordsPath: 'data', primaryKey: 'id' },
        tasks: {
          request: { path: '/projects/{parent.project}/tasks' },
          recordsPath: 'data',
          primaryKey: 'id',
          parent: { resource: 'projects', params: { project: 'id' }, changedOnly: true },
        },
      },
    });
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
  });

  it('visits every parent first, then only the one changed at the provider; the other children stay', async () => {
    const conn = uniqueId('team');
    await engine.addConnection('boards', conn, { token: BOARDS_TOKEN });
    const sync = async (resource: string, kind: 'full' | 'incremental') =>
      (await engine.run(engine.input('boards', conn, resource, kind))).result();
    const liveTasks = async () =>
      (await listRecords(env.db, { integration: 'boards', connection: conn, resource: 'tasks' })).map(
        (r) => r.key,
      );

    assert.equal((await sync('projects', 'full')).inserted, 4);
    api.take();
    const first = await sync('tasks', 'incremental');
    assert.equal(first.status, 'completed');
    assert.equal(first.inserted, 12);
    assert.deepEqual(api.take(), {
      '/projects/p1/tasks': 1,
      '/projects/p2/tasks': 1,
      '/projects/p3/tasks': 1,
      '/projects/p4/tasks': 1,
    });

    // p2 is renamed and gets a new task; a task of p3 changes, but p3 itself does not.
    api.projects[1]!.name = 'renamed';
    api.tasks.get('p2')!.push({ id: 'p2-t4', title: 'task 4 of p2' });
    api.tasks.get('p3')![0]!.title = 'edited';
    const projects = await sync('projects', 'full');
    assert.deepEqual([projects.updated, projects.unchanged], [1, 3]);
    api.take();

    const second = await sync('tasks', 'incremental');
    assert.equal(second.status, 'completed');
    assert.deepEqual(api.take(), { '/projects/p2/tasks': 1 }, 'only the changed parent is visited');
    assert.deepEqual([second.inserted, second.updated, second.deleted], [1, 0, 0]);
    const keys = await liveTasks();
    assert.equal(keys.length, 13, 'the children of the parents not visited are still there');
    // Child records are keyed per parent: [parent key, own key].
    for (const id of ['p1', 'p3', 'p4']) assert.ok(keys.includes(JSON.stringify([id, `${id}-t1`])));

    // Nothing changed: no parent is visited.
    const quiet = await sync('tasks', 'incremental');
    assert.equal(quiet.status, 'completed');
    assert.deepEqual(api.take(), {});

    // A full run visits every parent and sweeps each parent's own children: a task removed under p4
    // (a parent that did not change) is marked deleted, and no other.
    api.tasks.set('p4', api.tasks.get('p4')!.slice(1));
    const full = await sync('tasks', 'full');
    assert.deepEqual(api.take(), {
      '/projects/p1/tasks': 1,
      '/projects/p2/tasks': 1,
      '/projects/p3/tasks': 1,
      '/projects/p4/tasks': 1,
    });
    assert.deepEqual([full.updated, full.deleted], [1, 1], "p3's edited task, p4's removed one");
    const after = await liveTasks();
    assert.equal(after.length, 12);
    assert.ok(!after.includes(JSON.stringify(['p4', 'p4-t1'])));
    assert.deepEqual(
      (await sync('tasks', 'incremental')).status === 'completed' ? api.take() : undefined,
      {},
      "the full run's mark covers every parent",
    );
  });
});
