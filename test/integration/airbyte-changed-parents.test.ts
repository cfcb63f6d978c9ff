/**
 * An Airbyte manifest with `incremental_dependency` (test/fixtures/airbyte/changed-parents.yaml)
 * imported by `import airbyte`, loaded back as `validate` does, and synced by the real engine (Temporal
 * dev server, Postgres) against the board API (a real HTTP server counting exact requests): the tasks
 * of changed projects only, the members of every team.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listRecords } from '../../src/store/records.js';
import { importFixture } from '../helpers/airbyte-import.js';
import { BOARDS_TOKEN, startBoardsApi, type BoardsApi } from '../helpers/boards-api.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('import airbyte: incremental_dependency', () => {
  let env: TestEnv;
  let api: BoardsApi;
  let engine: EngineHarness;
  let dir: string;

  before(async () => {
    env = await testEnv();
    api = await startBoardsApi();
    for (const [i, id] of ['p1', 'p2', 'p3'].entries()) {
      api.projects.push({ id, name: `project ${id}`, updated_at: `2026-02-0${i + 1}T10:00:00Z` });
      api.tasks.set(id, [{ id: `${id}-t1`, title: `first task of ${id}` }]);
    }
    for (const id of ['t1', 't2']) {
      api.teams.push({ id, name: `team ${id}` });
      api.members.set(id, [{ id: `${id}-m1`, title: 'member' }]);
    }
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-airbyte-cp-'));
    const spec = await importFixture(
      dir,
      'changed-parents',
      'boards',
      api.url,
      /https:\/\/api\.boards\.test/g,
    );
    assert.deepEqual(spec.resources.tasks!.parent, {
      resource: 'projects',
      params: { project_id: 'id' },
      changedOnly: true,
    });
    assert.deepEqual(spec.resources.members!.parent, { resource: 'teams', params: { team_id: 'id' } });
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads the tasks of the changed projects only, and the members of every team on every sync', async () => {
    const conn = uniqueId('boards');
    await engine.addConnection(
      'boards',
      conn,
      { token: BOARDS_TOKEN },
      { start_date: '2026-01-01T00:00:00Z' },
    );
    const sync = async (resource: string, kind: 'full' | 'incremental') => {
      const s = await (await engine.run(engine.input('boards', conn, resource, kind))).result();
      assert.equal(s.status, 'completed', resource);
      return s;
    };

    assert.equal((await sync('projects', 'incremental')).inserted, 3);
    assert.equal((await sync('teams', 'full')).inserted, 2);
    api.take();
    assert.equal((await sync('tasks', 'incremental')).inserted, 3);
    assert.equal((await sync('members', 'full')).inserted, 2);
    assert.deepEqual(api.take(), {
      '/projects/p1/tasks': 1,
      '/projects/p2/tasks': 1,
      '/projects/p3/tasks': 1,
      '/teams/t1/members': 1,
      '/teams/t2/members': 1,
    });

    // p3 is renamed (its updated_at moves on) and gets a second task.
    api.projects[2]!.name = 'renamed';
    api.projects[2]!.updated_at = '2026-03-01T10:00:00Z';
    api.tasks.get('p3')!.push({ id: 'p3-t2', title: 'second task of p3' });
    const projects = await sync('projects', 'incremental');
    assert.equal(projects.updated, 1);
    api.take();

    const tasks = await sync('tasks', 'incremental');
    await sync('members', 'full');
    assert.deepEqual(api.take(), {
      '/projects/p3/tasks': 1,
      '/teams/t1/members': 1,
      '/teams/t2/members': 1,
    });
    assert.deepEqual([tasks.inserted, tasks.deleted], [1, 0]);
    const stored = await listRecords(env.db, { integration: 'boards', connection: conn, resource: 'tasks' });
    assert.deepEqual(
      stored.map((r) => r.key),
      [
        JSON.stringify(['p1', 'p1-t1']),
        JSON.stringify(['p2', 'p2-t1']),
        JSON.stringify(['p3', 'p3-t1']),
        JSON.stringify(['p3', 'p3-t2']),
      ],
    );
  });
});
