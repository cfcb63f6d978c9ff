/**
 * Histories recorded by earlier builds replay on this one: a workflow still open when a new build is
 * deployed must not fail its next task on a changed command sequence (patched() guards such changes).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { testEnv, type TestEnv } from '../helpers/stack.js';

const DIR = new URL('../fixtures/histories/', import.meta.url);
/**
 * The workflow id each history ran under, where the workflow's commands depend on it (a coordinator
 * names its children after it); a history not listed replays under its file name.
 */
const IDS = 'workflow-ids.json';

describe('workflow histories from earlier builds replay', () => {
  let env: TestEnv;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.close();
  });

  const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== IDS);
  const ids = JSON.parse(readFileSync(new URL(IDS, DIR), 'utf8')) as Record<string, string>;

  it('has recorded histories to replay', () => {
    assert.ok(files.length > 0);
    for (const file of Object.keys(ids))
      assert.ok(files.includes(file), `${IDS} names ${file}, not recorded`);
  });

  for (const file of files) {
    it(file, async () => {
      const history: unknown = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: env.workflowBundle }, history, ids[file] ?? file);
    });
  }
});
