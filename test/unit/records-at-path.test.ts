import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractRecords, RecordShapeError, valueAtPath } from '../../src/sync/records-at-path.js';

describe('valueAtPath', () => {
  it('walks dot paths and stops at non-objects', () => {
    assert.equal(valueAtPath({ a: { b: { c: 3 } } }, 'a.b.c'), 3);
    assert.equal(valueAtPath({ a: 1 }, 'a.b'), undefined);
    assert.deepEqual(valueAtPath([1], ''), [1]);
  });
});

describe('extractRecords', () => {
  it('keys records by their primary key as a string', () => {
    const out = extractRecords({ data: [{ id: 1 }, { id: 'x' }] }, 'data', 'id');
    assert.deepEqual(
      out.map((r) => r.key),
      ['1', 'x'],
    );
  });
  it('reads nested primary keys', () => {
    assert.equal(extractRecords([{ ref: { id: 9 } }], '', 'ref.id')[0]?.key, '9');
  });
  it('says where the records were expected when they are not an array', () => {
    assert.throws(() => extractRecords({ data: { id: 1 } }, 'data', 'id'), {
      name: 'RecordShapeError',
      message: 'expected an array of records at "data", found a object',
    });
  });
  it('names the record without a usable key', () => {
    assert.throws(
      () => extractRecords({ items: [{ id: 1 }, { name: 'no id' }] }, 'items', 'id'),
      (e: unknown) =>
        e instanceof RecordShapeError && /record 1 has no usable primary key "id"/.test(e.message),
    );
  });
  it('rejects records that are not objects', () => {
    assert.throws(() => extractRecords([1], '', 'id'), /record 0 at "" is a number, not an object/);
  });
});
