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

describe('workflow histories from earlier builds replay', () => {
  let env: TestEnv;
  before(async () => {
    env = await testEnv();
  });
  after(async () => {
    await env?.close();
  });

  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

  it('has recorded histories to replay', () => {
    assert.ok(files.length > 0);
  });

  for (const file of files) {
    it(file, async () => {
      const history: unknown = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: env.workflowBundle }, history, file);
    });
  }
});
