import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineIntegration } from '../../src/spec/define.js';
import {
  generateRecords,
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/testing/simulator.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const RESOURCES = ['a', 'b', 'c', 'd'];

describe('rate-limited syncs: one shared budget per connection', () => {
  let env: TestEnv;
  let sim: ProviderSimulator;
  let engine: EngineHarness;

  before(async () => {
    env = await testEnv();
    sim = await startProviderSimulator({
      rateLimit: { limit: 20, windowMs: 1000 },
      resources: Object.fromEntries(
        RESOURCES.map((r) => [r, { records: generateRecords(300), pagination: 'offset' as const }]),
      ),
    });
    const resource = (path: string) => ({
      request: { path },
      recordsPath: 'data',
      primaryKey: 'id',
      pagination: { type: 'offset' as const, pageSize: 10, totalPath: 'total' },
    });
    engine = await startEngine(env, [
      defineIntegration({
        id: 'strict',
        baseUrl: sim.url,
        rateLimits: [{ limit: 20, per: 'second' }],
        resources: Object.fromEntries(RESOURCES.map((r) => [r, resource(`/${r}`)])),
      }),
    ]);
  });

  after(async () => {
    await engine?.close();
    await sim?.close();
    await env?.close();
  });

  it('four concurrent syncs of one connection get no 429 and use at least 90% of the allowed rate', async () => {
    const conn = uniqueId('c');
    await engine.addConnection('strict', conn);
    const logStart = sim.log.length;
    const handles = await Promise.all(
      RESOURCES.map((r) => engine.run(engine.input('strict', conn, r, 'full', { pagesPerActivity: 5 }))),
    );
    const results = await Promise.all(handles.map((h) => h.result()));
    assert.ok(results.every((r) => r.status === 'completed' && r.inserted === 300));
    assert.equal(sim.rateLimited(), 0, 'no request was refused for rate');
    const served = sim.log.slice(logStart);
    assert.equal(served.length, 4 * 30, '30 pages of 10 per resource; the total stops each sync');
    const seconds = (served.at(-1)!.at - served[0]!.at) / 1000;
    const rate = (served.length - 1) / seconds;
    assert.ok(rate >= 18, `used ${rate.toFixed(1)} of 20 requests/second`);
  });

  it('a 429 with Retry-After stops every request to the connection until then, and Temporal schedules the retry', async () => {
    const conn = uniqueId('c');
    await engine.addConnection('strict', conn);
    sim.injectFaults([{ kind: 'rate-limited', retryAfterSeconds: 4 }], '/b');
    const logStart = sim.log.length;
    const handles = await Promise.all(['a', 'b'].map((r) => engine.run(engine.input('strict', conn, r))));
    const results = await Promise.all(handles.map((h) => h.result()));
    assert.ok(results.every((r) => r.status === 'completed' && r.inserted === 300));
    const served = sim.log.slice(logStart);
    const refusal = served.find((e) => e.status === 429)!;
    assert.ok(refusal, 'the injected 429 was served');
    const during = served.filter((e) => e.at > refusal.at + 50 && e.at < refusal.at + 3900);
    assert.deepEqual(during, [], 'no request to the connection while it was blocked');
    const history = JSON.stringify(await handles[1]!.fetchHistory());
    assert.match(history, /RateLimitedError/, 'the 429 ended the activity attempt; Temporal retried it');
  });
});
