import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { primaryKeyOf } from '../../src/mapping/map-record.js';
import { parseSpec } from '../../src/spec/define.js';
import { describeEvent, parseBody, WebhookBodyError } from '../../src/webhooks/event.js';
import { trackerSpec, trackerWebhooks } from '../helpers/tracker-spec.js';

const spec = trackerSpec('http://127.0.0.1:9', undefined, trackerWebhooks());
const noHeaders = () => undefined;

describe('webhook event description', () => {
  it('finds id, type, order and the entity of an upsert through the mapping', () => {
    const e = describeEvent(spec, noHeaders, {
      id: 'evt_1',
      type: 'issue.updated',
      sequence: 4,
      data: { id: 7, title: 't', state: 'open', priority: 2, updated_at: '2026-01-01T00:00:00Z' },
    });
    assert.deepEqual(
      { ...e, payload: undefined },
      {
        eventId: 'evt_1',
        eventType: 'issue.updated',
        action: 'upsert',
        resource: 'issues',
        entityKey: '7',
        orderKey: '4',
        payload: undefined,
        problem: null,
      },
    );
  });

  it('takes the entity of a delete from its id path; unknown types are ignored', () => {
    assert.equal(
      describeEvent(spec, noHeaders, { id: 'e', type: 'issue.deleted', data: { id: 9 } }).entityKey,
      '9',
    );
    const ignored = describeEvent(spec, noHeaders, { id: 'e', type: 'repo.starred' });
    assert.equal(ignored.action, 'ignore');
    assert.equal(ignored.entityKey, null);
  });

  it('gives a deleted entity the key a sync stores for it, composite keys included', () => {
    /** A spec whose `gone` events delete the entity named at body path `key`. */
    const deletesBy = (primaryKey: string[]) =>
      parseSpec(
        {
          id: 'pairs',
          baseUrl: 'http://127.0.0.1:1',
          secrets: { signing: 'webhook secret' },
          resources: { pairs: { request: { path: '/pairs' }, primaryKey } },
          webhooks: {
            signature: { scheme: 'github', secrets: ['signing'] },
            eventId: { path: 'id' },
            eventType: { path: 'type' },
            events: { gone: { action: 'delete', resource: 'pairs', id: 'key' } },
          },
        },
        'pairs.json',
      );
    const composite = deletesBy(['org', 'n']);
    const keyOf = (s: typeof spec, key: unknown) =>
      describeEvent(s, noHeaders, {
        id: 'e',
        type: s === spec ? 'issue.deleted' : 'gone',
        data: { id: key },
        key,
      }).entityKey;
    // What mapRecord (the sync's path) stores for the same values.
    const stored = (record: Record<string, unknown>, pk: string | string[]) =>
      (primaryKeyOf(record, pk) as { key: string }).key;
    assert.equal(keyOf(spec, 9), stored({ id: 9 }, 'id'));
    assert.equal(keyOf(spec, 'a-1'), stored({ id: 'a-1' }, 'id'));
    assert.equal(keyOf(composite, ['acme', 3]), stored({ org: 'acme', n: 3 }, ['org', 'n']));
    assert.equal(keyOf(composite, ['acme', 3]), '["acme",3]');
    // A one-field key written as ['id'] is the same text key as 'id', in a sync and in an event.
    const oneField = deletesBy(['id']);
    assert.equal(stored({ id: 9 }, ['id']), '9');
    assert.equal(keyOf(oneField, 9), '9');
    assert.equal(keyOf(oneField, [9]), '9');
    assert.equal(keyOf(oneField, [9, 10]), null);
    // What a sync could never store is no entity either.
    for (const bad of ['', [], [[9]], { id: 9 }, null])
      assert.equal(keyOf(spec, bad), null, JSON.stringify(bad));
    for (const bad of ['acme', ['acme'], ['acme', 3, 4], ['acme', null], ['acme', { n: 3 }], ['', 3]])
      assert.equal(keyOf(composite, bad), null, JSON.stringify(bad));
  });

  it('reports what is missing, and where', () => {
    assert.throws(() => describeEvent(spec, noHeaders, { type: 'x' }), /no event id at body path "id"/);
    assert.throws(() => describeEvent(spec, noHeaders, { id: 'a' }), /no event type at body path "type"/);
    const noEntity = describeEvent(spec, noHeaders, { id: 'a', type: 'issue.deleted', data: {} });
    assert.equal(noEntity.problem, 'no entity id at body path "data.id"');
    const unmappable = describeEvent(spec, noHeaders, {
      id: 'a',
      type: 'issue.updated',
      data: { id: 1, title: null },
    });
    assert.match(unmappable.problem ?? '', /does not map: .*title/);
  });

  it('parses JSON objects and forms, refusing anything else with a reason', () => {
    assert.deepEqual(parseBody('json', Buffer.from('{ "a": 1 }')), { fields: { a: 1 }, json: '{ "a": 1 }' });
    assert.throws(() => parseBody('json', Buffer.from('[1]')), /must be a JSON object, got an array/);
    assert.throws(() => parseBody('json', Buffer.from('{"a":')), WebhookBodyError);
    assert.throws(() => parseBody('json', Buffer.from([0x7b, 0xff, 0x7d])), /not valid UTF-8/);
    assert.deepEqual(parseBody('form', Buffer.from('a=1&payload=%7B%22b%22%3A2%7D')), {
      fields: { a: '1', payload: { b: 2 } },
      json: '{"a":"1","payload":{"b":2}}',
    });
  });

  it('refuses text Postgres cannot store in what becomes a column, and keeps reasons storable', () => {
    const body = (over: Record<string, unknown>) => ({
      id: 'e1',
      type: 'issue.deleted',
      data: { id: 5 },
      ...over,
    });
    assert.throws(() => describeEvent(spec, noHeaders, body({ id: 'a\u0000b' })), /event id contains a NUL/);
    assert.throws(() => describeEvent(spec, noHeaders, body({ type: '\ud800x' })), /event type contains/);
    assert.throws(
      () => describeEvent(spec, noHeaders, body({ data: { id: 'k\udc00' } })),
      /entity id contains/,
    );
    // A well-formed pair is fine.
    assert.equal(describeEvent(spec, noHeaders, body({ data: { id: 'k\ud83d\ude00' } })).entityKey, 'k😀');
    // A TypeScript map() may throw with the record's raw text in its message.
    const throwing = {
      ...spec,
      resources: {
        ...spec.resources,
        issues: {
          ...spec.resources.issues!,
          map: () => {
            throw new Error('bad \u0000 half \ud800');
          },
        },
      },
    };
    const unmappable = describeEvent(throwing, noHeaders, {
      id: 'e2',
      type: 'issue.updated',
      data: { id: 1, title: 't', state: 'open', priority: 1, updated_at: '2026-11-01T00:00:00Z' },
    });
    assert.equal(unmappable.problem, 'record at "data" does not map: map(): bad \uFFFD half \uFFFD');
  });
});

describe('webhooks in the spec', () => {
  const base = {
    id: 'hooks',
    baseUrl: 'http://127.0.0.1:1',
    secrets: { signing: 'webhook secret' },
    resources: { items: { request: { path: '/items' }, primaryKey: 'id' } },
  };
  const problems = (webhooks: unknown) => {
    try {
      parseSpec({ ...base, webhooks }, 'hooks.json');
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };
  const good = {
    signature: { scheme: 'github', secrets: ['signing'] },
    eventId: { header: 'X-GitHub-Delivery' },
    eventType: { header: 'x-github-event' },
    events: { push: { action: 'upsert', resource: 'items', record: 'item' } },
  };

  it('accepts a complete section and lower-cases header names', () => {
    const spec = parseSpec({ ...base, webhooks: good }, 'hooks.json');
    assert.deepEqual(spec.webhooks?.eventId, { header: 'x-github-delivery' });
    assert.equal(spec.webhooks?.signature.toleranceSeconds, 300);
  });

  it('names each problem by its path', () => {
    const p = problems({
      ...good,
      signature: { scheme: 'github', secrets: ['nope'] },
      events: {
        a: { action: 'upsert', resource: 'missing' },
        b: { action: 'refetch', resource: 'items', id: 'id', path: '/items/{item}' },
        c: { action: 'explode' },
      },
    });
    assert.ok(
      p.some((x) => /webhooks\.events\.c\.action/.test(x)),
      p.join('\n'),
    );
    const q = problems({
      ...good,
      signature: { scheme: 'github', secrets: ['nope'] },
      events: {
        a: { action: 'upsert', resource: 'missing' },
        b: { action: 'refetch', resource: 'items', id: 'id', path: '/items/{item}' },
      },
    });
    assert.ok(
      q.some((x) => /webhooks\.signature\.secrets\[0\]: secret "nope" is not declared/.test(x)),
      q.join('\n'),
    );
    assert.ok(
      q.some((x) => /webhooks\.events\.a\.resource: no resource "missing"/.test(x)),
      q.join('\n'),
    );
    assert.ok(
      q.some((x) => /webhooks\.events\.b\.path: \{item\}: use \{id\}/.test(x)),
      q.join('\n'),
    );
    assert.ok(
      problems({ ...good, signature: { scheme: 'hmac', secrets: ['signing'] } }).some((x) =>
        /signature\.header/.test(x),
      ),
    );
  });
});
