/** Delivery sequence numbers: reading them, and telling a late number from a lost one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineIntegration } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';
import { sequenceSchema } from '../../src/spec/webhooks-schema.js';
import {
  expire,
  MAX_HOLES,
  nextDue,
  observe,
  readSequence,
  type SequenceState,
} from '../../src/webhooks/sequence.js';

const request = (body: unknown, headers: Record<string, string> = {}) => ({
  header: (n: string) => headers[n],
  body,
  query: () => undefined,
});

/** Observes numbers in order, at time `t` each; returns the state and every hole lost on the way. */
function run(numbers: (number | [number, number])[], t = 0, reorderMs = 1000) {
  let state: SequenceState = { high: null, holes: [] };
  const lost: string[] = [];
  for (const n of numbers) {
    const [first, last] = Array.isArray(n) ? n : [n, n];
    const o = observe(state, { first: BigInt(first), last: BigInt(last) }, t, reorderMs);
    state = o.state;
    lost.push(...o.lost.map((h) => `${h.from}-${h.to}`));
  }
  const holes = state.holes.map((h) => `${h.from}-${h.to}`);
  return { state, holes, lost };
}

describe('webhook sequence numbers', () => {
  it('reads a number, a range, and a scope; missing is undefined, junk is a problem', () => {
    const telegram = sequenceSchema.parse({ value: { path: 'update_id' } });
    assert.deepEqual(readSequence(telegram, request({ update_id: 871 })), {
      scope: '',
      first: 871n,
      last: 871n,
    });
    assert.equal(readSequence(telegram, request({ message: {} })), undefined);
    const appWide = sequenceSchema.parse({ value: { path: 'n' }, scope: 'integration' });
    assert.deepEqual(readSequence(appWide, request({ n: 3 })), { scope: '', first: 3n, last: 3n });
    assert.match(
      (readSequence(telegram, request({ update_id: 'x1' })) as { problem: string }).problem,
      /not an integer/,
    );
    const xero = sequenceSchema.parse({
      value: '{body.firstEventSequence}',
      last: '{body.lastEventSequence}',
      scope: '{header.x-tenant}',
    });
    assert.deepEqual(
      readSequence(xero, request({ firstEventSequence: 4, lastEventSequence: 9 }, { 'x-tenant': 't1' })),
      { scope: 't1', first: 4n, last: 9n },
    );
    assert.match(
      (
        readSequence(xero, request({ firstEventSequence: 9, lastEventSequence: 4 }, { 'x-tenant': 't' })) as {
          problem: string;
        }
      ).problem,
      /ends \(4\) before it starts \(9\)/,
    );
    // Beyond 2^53, exactly.
    assert.deepEqual(readSequence(telegram, request({ update_id: '9007199254740993' })), {
      scope: '',
      first: 9007199254740993n,
      last: 9007199254740993n,
    });
  });

  it('numbers in order leave no hole; a skip leaves one that a late number fills', () => {
    assert.deepEqual(run([5, 6, 7]).holes, []);
    assert.deepEqual(run([5, 6, 9]).holes, ['7-8']);
    assert.deepEqual(run([5, 9, 7]).holes, ['6-6', '8-8']);
    assert.deepEqual(run([5, 9, 7, 6, 8]).holes, []);
    // A range fills and skips like single numbers.
    assert.deepEqual(
      run([
        [1, 3],
        [7, 9],
      ]).holes,
      ['4-6'],
    );
    assert.deepEqual(
      run([
        [1, 3],
        [7, 9],
        [4, 6],
      ]).holes,
      [],
    );
    assert.equal(run([5, 9]).state.high, 9n);
  });

  it('a hole is lost once due, not before; the due time is when the skip was seen plus the reorder time', () => {
    const { state } = run([5, 9], 1000, 500);
    assert.equal(nextDue(state), 1500);
    assert.deepEqual(expire(state, 1499).lost, []);
    const gone = expire(state, 1500);
    assert.deepEqual(
      gone.lost.map((h) => [h.from, h.to]),
      [[6n, 8n]],
    );
    assert.deepEqual(gone.state.holes, []);
    assert.equal(nextDue(gone.state), null);
  });

  it('an old number is ignored, a far lower one is the sequence starting over', () => {
    assert.equal(run([100, 101, 99]).state.high, 101n);
    assert.deepEqual(run([100, 101, 99]).holes, []);
    const restarted = run([50_000, 17, 18]);
    assert.equal(restarted.state.high, 18n);
    assert.deepEqual(restarted.holes, []);
  });

  it('keeps at most MAX_HOLES holes: the oldest are lost at once', () => {
    const numbers = Array.from({ length: MAX_HOLES + 3 }, (_, i) => i * 2);
    const r = run(numbers);
    assert.equal(r.holes.length, MAX_HOLES);
    assert.deepEqual(r.lost, ['1-1', '3-3']);
  });

  it('validate: a sequence needs reconcile resources, and its templates are checked', () => {
    const spec = (webhooks: Record<string, unknown>) =>
      defineIntegration({
        id: 'seq',
        baseUrl: 'http://x.test',
        secrets: { hook: 'h' },
        resources: {
          items: {
            request: { path: '/items' },
            primaryKey: 'id',
            fields: { id: 'id' },
            pagination: { type: 'none' },
            incremental: { cursorField: 'id', param: 'since' },
          },
        },
        webhooks: {
          signature: { scheme: 'github', secrets: ['hook'] },
          eventId: { path: 'id' },
          eventType: { path: 'type' },
          events: {},
          ...webhooks,
        },
      });
    assert.throws(
      () => spec({ sequence: { value: { path: 'update_id' } } }),
      (e: unknown) => e instanceof SpecError && /webhooks\.sequence: .*reconcile/.test(e.message),
    );
    assert.throws(
      () => spec({ sequence: { value: '{bdy.n}' }, reconcile: ['items'] }),
      (e: unknown) => e instanceof SpecError && /webhooks\.sequence\.value: \{bdy\.n\}/.test(e.message),
    );
    assert.equal(
      spec({ sequence: { value: { path: 'update_id' } }, reconcile: ['items'] }).webhooks?.sequence?.scope,
      'connection',
    );
  });
});
