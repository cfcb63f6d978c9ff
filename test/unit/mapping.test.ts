import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coerce } from '../../src/mapping/coerce.js';
import { canonicalJson } from '../../src/store/content-hash.js';
import {
  keepRecord,
  mapFields,
  mapRecord,
  primaryKeyOf,
  validateRecord,
} from '../../src/mapping/map-record.js';
import { removeFields } from '../../src/mapping/remove-fields.js';
import {
  fieldsSchema,
  recordFilterSchema,
  recordSchemaSchema,
  removeFieldsSchema,
} from '../../src/mapping/schema.js';

describe('coerce', () => {
  it('numbers and integers', () => {
    assert.deepEqual(coerce('12.5', 'number'), { ok: true, value: 12.5 });
    assert.deepEqual(coerce(' 7 ', 'integer'), { ok: true, value: 7 });
    assert.deepEqual(coerce('', 'number'), { ok: true, value: null });
    assert.deepEqual(coerce(null, 'integer'), { ok: true, value: null });
    assert.deepEqual(coerce('abc', 'number'), { ok: false, message: 'expected a number, got "abc"' });
    assert.deepEqual(coerce('1.5', 'integer'), { ok: false, message: 'expected an integer, got "1.5"' });
    assert.equal(coerce(Number.NaN, 'number').ok, false);
    assert.equal(coerce('9007199254740993', 'integer').ok, false, 'beyond 2^53 cannot be stored exactly');
    assert.equal(coerce({}, 'number').ok, false);
  });
  it('booleans', () => {
    for (const t of [true, 'true', 'TRUE', '1', 1, 'yes'])
      assert.deepEqual(coerce(t, 'boolean'), { ok: true, value: true });
    for (const f of [false, 'false', '0', 0, 'no', 'off'])
      assert.deepEqual(coerce(f, 'boolean'), { ok: true, value: false });
    assert.equal(coerce('maybe', 'boolean').ok, false);
    assert.equal(coerce(2, 'boolean').ok, false);
  });
  it('timestamps: ISO with offsets to UTC, unix seconds vs milliseconds, invalid dates', () => {
    assert.deepEqual(coerce('2026-01-02T03:04:05+02:00', 'timestamp'), {
      ok: true,
      value: '2026-01-02T01:04:05.000Z',
    });
    assert.deepEqual(coerce(1_700_000_000, 'timestamp'), { ok: true, value: '2023-11-14T22:13:20.000Z' });
    assert.deepEqual(coerce(1_700_000_000_000, 'timestamp'), { ok: true, value: '2023-11-14T22:13:20.000Z' });
    assert.deepEqual(coerce('1700000000', 'timestamp', 'unix'), {
      ok: true,
      value: '2023-11-14T22:13:20.000Z',
    });
    assert.deepEqual(coerce(5, 'timestamp', 'unix-ms'), { ok: true, value: '1970-01-01T00:00:00.005Z' });
    // Microsoft JSON dates, as Xero sends them: milliseconds since the epoch, the zone ignored.
    assert.deepEqual(coerce('/Date(1573755038314+0000)/', 'timestamp'), {
      ok: true,
      value: '2019-11-14T18:10:38.314Z',
    });
    assert.deepEqual(coerce('/Date(1573755038314)/', 'timestamp'), {
      ok: true,
      value: '2019-11-14T18:10:38.314Z',
    });
    assert.equal(coerce('/Date(soon)/', 'timestamp').ok, false);
    assert.equal(coerce('2026-13-45', 'timestamp').ok, false);
    // Strings already in toISOString's form are kept as they are: exactly what parsing and rewriting gives.
    for (const s of [
      '2026-01-02T03:04:05.678Z',
      '2024-02-29T23:59:59.999Z',
      '2025-02-29T00:00:00.000Z',
      '2025-04-31T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '1900-02-29T00:00:00.000Z',
      '2000-02-29T12:00:00.000Z',
    ]) {
      const ms = Date.parse(s);
      const expected = Number.isNaN(ms) ? false : new Date(ms).toISOString();
      const got = coerce(s, 'timestamp');
      assert.deepEqual(got.ok ? got.value : false, expected, s);
    }
    assert.equal(coerce('yesterday', 'timestamp').ok, false);
    assert.equal(coerce(1e20, 'timestamp').ok, false);
    assert.deepEqual(coerce('', 'timestamp'), { ok: true, value: null });
  });
  it('strings refuse objects', () => {
    assert.deepEqual(coerce(42, 'string'), { ok: true, value: '42' });
    assert.equal(coerce({ a: 1 }, 'string').ok, false);
  });
});

describe('mapFields', () => {
  const raw = { id: '7', user: { login: 'ada' }, labels: [{ name: 'bug' }], count: null, extra: 'x' };
  it('renames, reads nested paths and array indexes, applies defaults and constants', () => {
    const fields = fieldsSchema.parse({
      id: { type: 'integer' },
      author: 'user.login',
      first_label: 'labels.0.name',
      missing: 'nope.deeper',
      count: { type: 'integer', default: 0 },
      source: { const: 'tracker', type: 'string' },
    });
    assert.deepEqual(mapFields(fields, false, raw), {
      record: { id: 7, author: 'ada', first_label: 'bug', missing: null, count: 0, source: 'tracker' },
      problems: [],
    });
  });
  it('keeps unmapped fields with passthrough, all fields without a mapping', () => {
    assert.equal(mapFields(fieldsSchema.parse({ id: 'id' }), true, raw).record.extra, 'x');
    assert.deepEqual(mapFields(undefined, undefined, raw).record, raw);
  });
  it('collects every coercion failure by field, in the spec order of fields', () => {
    const fields = fieldsSchema.parse({ b: { type: 'timestamp' }, a: { type: 'integer' } });
    assert.deepEqual(mapFields(fields, false, { a: 'x', b: 'never' }).problems, [
      'b: expected a timestamp, got "never"',
      'a: expected a number, got "x"',
    ]);
  });
  it('writes a record with its keys in canonical order, so hashing it needs no sorted copy', () => {
    const fields = fieldsSchema.parse({
      title: 'title',
      id: { type: 'integer' },
      '2': 'b',
      '10': 'a',
      Z: 'z',
    });
    const { record } = mapFields(fields, false, { title: 't', id: '1', a: 'x', b: 'y', z: 'q' });
    assert.deepEqual(Object.keys(record), ['2', '10', 'Z', 'id', 'title']);
    assert.equal(canonicalJson(record), JSON.stringify(record));
  });
});

describe('primaryKeyOf, validateRecord, mapRecord', () => {
  it('builds single and composite keys unambiguously', () => {
    assert.deepEqual(primaryKeyOf({ id: 5 }, 'id'), { key: '5' });
    assert.deepEqual(primaryKeyOf({ a: 'x,y', b: 'z' }, ['a', 'b']), { key: '["x,y","z"]' });
    assert.notDeepEqual(
      primaryKeyOf({ a: 'x', b: 'y,z' }, ['a', 'b']),
      primaryKeyOf({ a: 'x,y', b: 'z' }, ['a', 'b']),
    );
    assert.deepEqual(primaryKeyOf({ id: null }, 'id'), { missing: 'id' });
    assert.deepEqual(primaryKeyOf({ id: { x: 1 } }, 'id'), { missing: 'id' });
  });
  it('validates types, required and nullable', () => {
    const schema = recordSchemaSchema.parse({
      id: { type: 'integer', required: true, nullable: false },
      title: { type: 'string', required: true },
      at: { type: 'timestamp' },
    });
    assert.deepEqual(validateRecord(schema, { id: 1, title: 't', at: '2026-01-01T00:00:00Z' }), []);
    assert.deepEqual(validateRecord(schema, { id: null, at: 'x' }), [
      'id: must not be null',
      'title: required',
      'at: expected timestamp, got "x"',
    ]);
  });
  it('maps a record or says why it cannot, keeping the key when there is one', () => {
    const config = {
      fields: fieldsSchema.parse({ id: { type: 'integer' }, n: { type: 'number' } }),
      primaryKey: 'id',
      map: (r: Record<string, unknown>) => ({ ...r, doubled: Number(r.n) * 2 }),
    };
    assert.deepEqual(mapRecord(config, { id: '3', n: '2' }), {
      ok: true,
      key: '3',
      record: { id: 3, n: 2, doubled: 4 },
    });
    assert.deepEqual(mapRecord(config, { id: '3', n: 'x' }), {
      ok: false,
      key: '3',
      reason: 'n: expected a number, got "x"',
    });
    assert.deepEqual(mapRecord(config, { n: 1 }), {
      ok: false,
      key: null,
      reason: 'id: primary key is missing',
    });
    assert.equal(mapRecord(config, [1]).ok, false);
    const throwing = {
      primaryKey: 'id',
      map: () => {
        throw new Error('boom');
      },
    };
    assert.deepEqual(mapRecord(throwing, { id: 1 }), { ok: false, key: '1', reason: 'map(): boom' });
  });
});

describe('record filters and flattening', () => {
  it('keeps a record only when every condition holds; not inverts; numbers compare with their text', () => {
    const f = recordFilterSchema.parse([
      { path: 'archived', equals: false },
      { path: 'type', in: ['user', 'bot'] },
      { path: 'email', matches: '@example\\.com$', not: true },
      { path: 'deleted_at', exists: false },
    ]);
    assert.equal(keepRecord(f, { archived: false, type: 'user', email: 'a@b.c' }), true);
    assert.equal(keepRecord(f, { archived: true, type: 'user' }), false);
    assert.equal(keepRecord(f, { archived: false, type: 'admin' }), false);
    assert.equal(keepRecord(f, { archived: false, type: 'bot', email: 'x@example.com' }), false);
    assert.equal(keepRecord(f, { archived: false, type: 'bot', deleted_at: '2026-01-01' }), false);
    assert.equal(keepRecord(recordFilterSchema.parse([{ path: 'n', equals: 0 }]), { n: '0' }), true);
    assert.throws(
      () => recordFilterSchema.parse([{ path: 'a' }]),
      /exactly one of equals, in, matches or exists/,
    );
  });

  it('flattens nested objects before mapping; the top level wins on a clash', () => {
    const m = mapRecord(
      { primaryKey: 'id', flatten: 'properties' },
      { id: '1', properties: { firstname: 'Ada', id: 'nested' }, archived: false },
    );
    assert.ok(m.ok);
    assert.deepEqual(m.ok && m.record, { id: '1', firstname: 'Ada', archived: false });
  });

  it('removes fields by path after mapping, through lists and objects with *, without touching the record as sent', () => {
    const raw = {
      id: 7,
      content: { html: '<p>x</p>', plain_text: 'x', subject: 'Hi' },
      items: [{ sku: 'a', secret: 1 }, { sku: 'b' }, 'text', null],
      meta: { a: { token: 't', keep: 1 }, b: { token: 'u' } },
      attributes: { createdAt: '2025-01-01T00:00:00Z', name: 'n' },
    };
    const copy = structuredClone(raw);
    const m = mapRecord(
      {
        primaryKey: 'id',
        fields: { createdAt: 'attributes.createdAt' },
        passthrough: true,
        removeFields: [
          'content.html',
          'content.plain_text',
          'items.*.secret',
          'meta.*.token',
          'attributes.createdAt',
          'absent.x',
          'items.9.sku',
        ],
      },
      raw,
    );
    assert.ok(m.ok);
    assert.deepEqual(m.ok && m.record, {
      id: 7,
      createdAt: '2025-01-01T00:00:00Z',
      content: { subject: 'Hi' },
      items: [{ sku: 'a' }, { sku: 'b' }, 'text', null],
      meta: { a: { keep: 1 }, b: {} },
      attributes: { name: 'n' },
    });
    assert.deepEqual(raw, copy, 'the record as sent is unchanged');
    // An index segment reaches one list item; a path through a scalar removes nothing.
    assert.deepEqual(removeFields({ l: [{ x: 1 }, { x: 2 }] }, ['l.1.x', 'l.0.x.y']), { l: [{ x: 1 }, {}] });
    const same = { a: { b: 1 } };
    assert.equal(removeFields(same, ['a.c', 'z.*.q']), same, 'nothing removed: the same object');
    // The key is read after removal: removing it makes the record fail like a missing key.
    const gone = mapRecord({ primaryKey: 'id', removeFields: ['id'] }, { id: 1 });
    assert.equal(gone.ok, false);
  });

  it('remove paths: a field at the end, * only before it, no empty segments', () => {
    assert.ok(removeFieldsSchema.safeParse(['a', 'a.b', 'a.*.b', '*.b']).success);
    for (const bad of [['a.*'], ['*'], ['a..b'], ['a.b*.c'], ['**.x'], []]) {
      assert.equal(removeFieldsSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});
