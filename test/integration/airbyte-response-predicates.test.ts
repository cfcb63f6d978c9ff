/**
 * test/fixtures/airbyte/response-predicates.yaml imported and synced by the real engine (Temporal dev
 * server, Postgres) against a billing provider: a customer whose usage answers 405 with
 * `code: no_active_subscription` has no usage (both body tests pass: ignored), the others' usage is
 * stored exactly; a 405 with another code matches only one test, so the run fails.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { listRecords } from '../../src/store/records.js';
import { importFixture } from '../helpers/airbyte-import.js';
import { BILLING_KEY, startBillingApi, type BillingApi } from '../helpers/billing-api.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

describe('import airbyte: a response filter whose predicate joins two body tests by and', () => {
  let env: TestEnv;
  let engine: EngineHarness;
  let api: BillingApi;
  let dir: string;

  before(async () => {
    env = await testEnv();
    api = await startBillingApi([
      {
        id: 'c1',
        usage: [
          { id: 'u1', units: 3 },
          { id: 'u2', units: 5 },
        ],
      },
      { id: 'c2', usage: { code: 'no_active_subscription' } },
      { id: 'c3', usage: [{ id: 'u3', units: 7 }] },
    ]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-response-predicates-'));
    const spec = await importFixture(
      dir,
      'response-predicates',
      'billing',
      api.url,
      /https:\/\/api\.billing\.test/,
    );
    engine = await startEngine(env, [spec]);
  });

  after(async () => {
    await engine?.close();
    await api?.close();
    await env?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('ignores the answer both tests describe, and fails on one that only one test describes', async () => {
    const conn = uniqueId('billing');
    await engine.addConnection('billing', conn, { api_key: BILLING_KEY });
    // Children run over the stored parents.
    assert.equal(
      (await (await engine.run(engine.input('billing', conn, 'customers'))).result()).status,
      'completed',
    );
    const full = await (await engine.run(engine.input('billing', conn, 'usage'))).result();
    assert.equal(full.status, 'completed');
    const rows = await listRecords(env.db, { integration: 'billing', connection: conn, resource: 'usage' });
    assert.deepEqual(
      rows.map((r) => [r.key, (r.data as { units: number }).units]).sort(),
      [
        [JSON.stringify(['c1', 'u1']), 3],
        [JSON.stringify(['c1', 'u2']), 5],
        [JSON.stringify(['c3', 'u3']), 7],
      ].sort(),
    );

    api.customers[1]!.usage = { code: 'plan_suspended' };
    const other = uniqueId('billing');
    await engine.addConnection('billing', other, { api_key: BILLING_KEY });
    await (await engine.run(engine.input('billing', other, 'customers'))).result();
    const failing = await engine.run(engine.input('billing', other, 'usage'));
    await assert.rejects(failing.result(), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      // The provider's 405, not matched by the rule, fails the child (a client error, not retried).
      assert.match(JSON.stringify(e.cause) + String(e.cause?.message), /405/);
      return true;
    });
  });
});
