/**
 * Keys that hold a "." (OData's `@odata.nextLink`, Chargify's `invoice.line_items`) in dot paths:
 * bracket quoting, validated wherever a spec accepts a path, with the problem named at its path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dotPathProblem,
  formatPath,
  hasWildcard,
  matchesAtPath,
  pathSegments,
  valueAtPath,
} from '../../src/json/path.js';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';
import { mapRecord } from '../../src/mapping/map-record.js';

const odata = {
  '@odata.context': 'https://graph.example/$metadata#users',
  '@odata.nextLink': 'https://graph.example/v1.0/users?$skiptoken=X1',
  value: [{ id: 'a', 'a.b': { c: 1 } }],
  "it's": { '*': 7, x: 8 },
};

describe('dot paths with quoted keys', () => {
  it('reads a key holding dots, alone, after a key and before more keys', () => {
    assert.equal(valueAtPath(odata, "['@odata.nextLink']"), odata['@odata.nextLink']);
    assert.equal(valueAtPath(odata, '["@odata.nextLink"]'), odata['@odata.nextLink']);
    assert.equal(valueAtPath(odata, "value.0['a.b'].c"), 1);
    assert.equal(valueAtPath(odata, "value.0.['a.b'].c"), 1);
    assert.equal(valueAtPath({ x: { 'y.z': { w: 2 } } }, "x['y.z']['w']"), 2);
    // Unquoted, the same text is three keys, as before.
    assert.equal(valueAtPath(odata, '@odata.nextLink'), undefined);
  });

  it('escapes quotes with a backslash; a quoted "*" is a key, a bare one every value', () => {
    assert.equal(valueAtPath(odata, "['it\\'s'].x"), 8);
    assert.equal(valueAtPath(odata, "['it\\'s']['*']"), 7);
    assert.deepEqual(valueAtPath(odata, "['it\\'s'].*"), [7, 8]);
    assert.equal(hasWildcard("['it\\'s']['*']"), false);
    assert.equal(hasWildcard("['it\\'s'].*"), true);
    assert.deepEqual(matchesAtPath({ l: [{ 'k.1': 1 }, { 'k.1': 2 }, {}] }, "l.*['k.1']"), [1, 2]);
  });

  it('keeps plain paths exactly as before: empty keys, brackets without quotes', () => {
    assert.deepEqual(pathSegments('a..b'), [{ key: 'a' }, { key: '' }, { key: 'b' }]);
    assert.deepEqual(pathSegments('a.'), [{ key: 'a' }, { key: '' }]);
    assert.equal(valueAtPath({ 'a[0]': 5 }, 'a[0]'), 5);
    assert.deepEqual(pathSegments("a['b']."), [{ key: 'a' }, { key: 'b' }, { key: '' }]);
  });

  it('names what is wrong with a malformed path', () => {
    assert.match(dotPathProblem("['@odata.nextLink")!, /no closing '\]/);
    assert.match(dotPathProblem("['@odata.nextLink'")!, /must end with '\]/);
    assert.match(dotPathProblem("['a'x]")!, /must end with '\]/);
    assert.match(dotPathProblem("['a']x")!, /comes ".", another \['key'\] or the end/);
    assert.equal(dotPathProblem("a['b.c'].d"), undefined);
    assert.throws(() => valueAtPath({}, "['open"), /no closing/);
  });

  it('writes keys back as a path that reads them', () => {
    for (const keys of [
      ['@odata.nextLink'],
      ['data', 'a.b', 'c'],
      ["it's.x", '*'],
      ['plain', 'keys'],
      ["x['y"],
    ]) {
      const path = formatPath(keys.map((key) => ({ key })));
      assert.deepEqual(
        pathSegments(path),
        keys.map((key) => ({ key })),
        path,
      );
    }
    assert.equal(formatPath([{ key: '@odata.nextLink' }]), "['@odata.nextLink']");
    assert.equal(formatPath([{ key: 'data' }, '*', { key: 'id' }]), 'data.*.id');
  });

  it('maps a field from a quoted path', () => {
    const out = mapRecord(
      { fields: { id: 'id', number: "['invoice.number']" }, primaryKey: 'id' },
      { id: 1, 'invoice.number': 12 },
    );
    assert.ok(out.ok);
    assert.equal(out.record.number, 12);
  });
});

describe('spec paths are checked when the spec loads', () => {
  const base = {
    id: 'graph',
    baseUrl: 'https://graph.example/v1.0',
    resources: {
      users: {
        request: { path: '/users' },
        recordsPath: 'value',
        primaryKey: 'id',
        pagination: { type: 'next-url', nextUrlPath: "['@odata.nextLink']" },
      },
    },
  };

  it('accepts quoted keys in records, cursor and field paths', () => {
    const spec = parseSpec(
      {
        ...base,
        resources: {
          users: {
            ...base.resources.users,
            recordsPath: "['odata.value']",
            fields: { id: 'id', next: { from: "['@odata.etag']" } },
          },
        },
      },
      'graph.json',
    );
    assert.equal(spec.resources.users!.recordsPath, "['odata.value']");
  });

  for (const [where, resource, at] of [
    ['recordsPath', { recordsPath: "['value" }, 'resources.users.recordsPath'],
    [
      'a cursor path',
      { pagination: { type: 'cursor', cursorPath: "['@odata.nextLink'x]", param: 'skip' } },
      'resources.users.pagination.cursorPath',
    ],
    ['a field rule', { fields: { id: "['id" } }, 'resources.users.fields.id'],
    ['a field rule from', { fields: { id: { from: "a['b']c" } } }, 'resources.users.fields.id.from'],
  ] as const) {
    it(`refuses a malformed path in ${where}, naming it`, () => {
      try {
        parseSpec({ ...base, resources: { users: { ...base.resources.users, ...resource } } }, 'graph.json');
        assert.fail('expected the spec to be rejected');
      } catch (error) {
        assert.ok(error instanceof SpecError, String(error));
        assert.ok(
          error.problems.some((p) => p.startsWith(`${at}: not a dot path`)),
          error.problems.join('\n'),
        );
      }
    });
  }
});

describe('removed fields by quoted paths', () => {
  it('removes a key holding dots, and checks the path', async () => {
    const { removeFields, removePathProblem } = await import('../../src/mapping/remove-fields.js');
    const record = { id: 1, '@odata.etag': 'W/1', a: { 'b.c': 2, d: 3 } };
    assert.deepEqual(removeFields(record, ["['@odata.etag']", "a['b.c']"]), { id: 1, a: { d: 3 } });
    assert.equal(removePathProblem("a['b.c']"), undefined);
    assert.match(removePathProblem("a['b.c'")!, /must end with/);
    assert.match(removePathProblem('a.*')!, /last segment/);
  });
});
