/**
 * Max concurrent requests per connection: leases in Postgres shared by every caller, taken over when
 * their holder dies, and enforced on real syncs against the simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineIntegration } from '../../src/spec/define.js';
import { lease, releaseLease, tryLease } from '../../src/ratelimit/leases.js';
import { createDb, type Db } from '../../src/store/db.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const RESOURCES = ['a', 'b', 'c', 'd'];

describe('max concurrent requests: leases shared by every worker', { timeout: 180_000 }, () => {
  let env: TestEnv;
  let pools: Db[];
  let sim: ProviderSimulator;
  let engine: EngineHarness;

  before(async () => {
    env = await testEnv();
    pools = Array.from({ length: 4 }, () => createDb(env.databaseUrl, { max: 4 }));
    sim = await startProviderSimulator({
      latencyMs: 60,
      resources: Object.fromEntries(
        RESOURCES.map((r) => [r, { records: generateRecords(200), pagination: 'offset' as const }]),
      ),
    });
    const resource = (path: string) => ({
      request: { path },
      recordsPath: 'data',
      primaryKey: 'id',
      pagination: { type: 'offset' as const, pageSize: 20, totalPath: 'total' },
    });
    engine = await startEngine(env, [
      defineIntegration({
        id: 'narrow',
        baseUrl: sim.url,
        maxConcurrentRequests: 2,
        resources: Object.fromEntries(RESOURCES.map((r) => [r, resource(`/${r}`)])),
      }),
    ]);
  });

  after(async () => {
    await engine?.close();
    await sim?.close();
    for (const p of pools ?? []) await p.destroy();
    await env?.close();
  });

  it('32 callers on 4 pools never hold more than 3 slots at once, and all get through', async () => {
    const key = uniqueId('conn');
    let held = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        for (let round = 0; round < 3; round++) {
          const l = await lease(pools[i % pools.length]!, key, 3, 10_000, { maxWaitMs: 60_000 });
          assert.ok(l, 'a slot within the wait');
          held++;
          most = Math.max(most, held);
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
          held--;
          await releaseLease(pools[i % pools.length]!, l);
          done++;
        }
      }),
    );
    assert.equal(done, 96);
    assert.equal(most, 3, 'the limit is used, never exceeded');
  });

  it('a slot whose holder died is taken over when its lease expires, not before', async () => {
    const key = uniqueId('conn');
    const dead = await tryLease(env.db, key, 1, 600);
    assert.ok(dead);
    assert.equal(await tryLease(env.db, key, 1, 600), null, 'held');
    const r = await lease(env.db, key, 1, 600, { maxWaitMs: 3000 });
    assert.ok(r, 'taken over after expiry');
    // Releasing with the dead holder's lease does not free the new holder's slot.
    await releaseLease(env.db, dead);
    assert.equal(await tryLease(env.db, key, 1, 600), null);
    await releaseLease(env.db, r);
    assert.ok(await tryLease(env.db, key, 1, 600));
  });

  it('four concurrent syncs of one connection keep at most 2 requests in flight at the provider', async () => {
    const conn = uniqueId('c');
    await engine.addConnection('narrow', conn);
    const handles = await Promise.all(
      RESOURCES.map((r) => engine.run(engine.input('narrow', conn, r, 'full', { pagesPerActivity: 2 }))),
    );
    const results = await Promise.all(handles.map((h) => h.result()));
    assert.ok(results.every((r) => r.status === 'completed' && r.inserted === 200));
    assert.equal(sim.maxInFlight(), 2);
    const leftover = await env.db
      .selectFrom('rate_leases')
      .selectAll()
      .where('connection_key', '=', `narrow:${conn}`)
      .execute();
    assert.deepEqual(leftover, [], 'every slot released');
  });
});
