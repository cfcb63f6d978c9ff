import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';
import { filterProblem } from '../../src/template/functions.js';
import { fillTemplate, TemplateError } from '../../src/template/template.js';
import { applyFilter, parseFilter } from '../../src/template/functions.js';

const fill = (t: string, vars: Record<string, unknown>) => fillTemplate(t, (n) => vars[n]);

function problems(input: unknown): string[] {
  try {
    parseSpec(input, 'spec.json');
    return [];
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.problems;
  }
}

const withQuery = (query: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  id: 'teams',
  baseUrl: 'https://api.teams.example',
  connectionConfig: { team: { type: 'string', required: false }, region: { type: 'string' } },
  resources: {
    teams: { request: { path: '/teams' }, recordsPath: 'data', primaryKey: 'id' },
    stats: {
      request: { path: '/stats', query },
      recordsPath: 'data',
      primaryKey: 'id',
      parent: { resource: 'teams', params: { team: 'id' } },
      ...extra,
    },
  },
});

describe('nonempty filter', () => {
  it('makes empty text or an empty list missing, and keeps every other value', () => {
    assert.equal(fill('{x|join:,|nonempty}', { x: [] }), undefined);
    assert.equal(fill('{x|join:,|nonempty}', { x: ['a', 'b'] }), 'a,b');
    assert.equal(fill('{x|nonempty}', { x: '' }), undefined);
    assert.deepEqual(fill('{x|nonempty}', { x: [] }), undefined);
    for (const kept of [0, false, ' ', 'a']) assert.equal(fill('{x|nonempty}', { x: kept }), kept);
    assert.equal(fill('q={x|nonempty}', { x: '' }), 'q=');
  });
});

describe('split filter', () => {
  it('gives the piece at the index, negative from the end, missing when there is none', () => {
    assert.equal(fill('{d|split:-:0}', { d: '2025-01-31' }), '2025');
    assert.equal(fill('{d|split:-:-1}', { d: '2025-01-31' }), '31');
    assert.equal(fill('{d|split:-:3}', { d: '2025-01-31' }), undefined);
    assert.equal(fill('{d|split:.:0}', { d: '2025-01-31 10:00:00.123' }), '2025-01-31 10:00:00');
    assert.equal(fill('{d|split:-:0}', {}), undefined);
  });

  it('takes a separator holding ":" (the index is after the last one) and keeps its spaces', () => {
    assert.equal(fill('{k|split::::1}', { k: 'ds::default::train' }), 'default');
    assert.equal(fill('{k|split:::-1}', { k: 'a:b:c' }), 'c');
    assert.equal(fill('{k|split: :1}', { k: 'first second' }), 'second');
  });

  it('is refused without an integer index', () => {
    assert.match(filterProblem('split:-')!, /split:<separator>:<index>/);
    assert.match(filterProblem('split:-:x')!, /split:<separator>:<index>/);
    assert.match(filterProblem('split::1')!, /split:<separator>:<index>/);
  });
});

describe('slice filter', () => {
  it('cuts text as a Python slice does', () => {
    const day = { d: '20250131' };
    assert.equal(fill('{d|slice:0:4}/{d|slice:4:6}/{d|slice:6:8}', day), '2025/01/31');
    assert.equal(fill('{d|slice:-2:}', day), '31');
    assert.equal(fill('{d|slice::4}', day), '2025');
    assert.equal(fill('{d|slice:4:100}', day), '0131');
    assert.equal(fill('{d|slice:6:2}', day), '');
    assert.equal(fill('{d|slice:0:2}', { d: 'é😀x' }), 'é😀');
    assert.equal(fill('{d|slice:0:2}', { d: 20250131 }), '20');
    assert.equal(fill('{d|slice:0:2}', {}), undefined);
  });

  it('is refused with anything but integers or nothing', () => {
    assert.match(filterProblem('slice:a:4')!, /slice:<start>:<end>/);
    assert.match(filterProblem('slice:4')!, /slice:<start>:<end>/);
  });
});

describe('hash filter', () => {
  it('gives the hex digest of the value as text', () => {
    const md5 = createHash('md5').update('ada@example.com').digest('hex');
    assert.equal(fill('{e|hash:md5}', { e: 'ada@example.com' }), md5);
    assert.equal(
      fill('{e|hash:sha256}', { e: 'abc' }),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(fill('{n|hash:sha1}', { n: 42 }), createHash('sha1').update('42').digest('hex'));
    assert.equal(fill('{e|hash:md5}', { e: null }), null);
    assert.equal(fill('{e|hash:md5}', {}), undefined);
  });

  it('is refused for an unknown algorithm', () => {
    assert.match(filterProblem('hash:crc32')!, /md5, sha1, sha256 or sha512/);
    assert.match(filterProblem('hash')!, /unknown filter/);
  });
});

describe('or filter', () => {
  it('falls back to another name when the value is not set, as Python or reads it', () => {
    assert.equal(fill('{config.team|or:parent.team}', { 'config.team': 't1', 'parent.team': 'p' }), 't1');
    for (const unset of [undefined, null, '', 0, false])
      assert.equal(fill('{config.team|or:parent.team}', { 'config.team': unset, 'parent.team': 'p' }), 'p');
    assert.equal(fill('{config.a|or:config.b|default:latest}', {}), 'latest');
    assert.equal(fill('{config.a|or:config.b|default:latest}', { 'config.b': 'v5' }), 'v5');
    assert.equal(fill('{config.a|or:config.b|upper}', { 'config.b': 'v5' }), 'V5');
  });

  it('reads only a name: its argument is never evaluated', () => {
    assert.match(filterProblem('or:1+1')!, /template name/);
    assert.match(filterProblem('or:')!, /template name/);
    assert.equal(fill('{a|or:b}', { b: 'config.secret' }), 'config.secret');
  });

  it('fails where a template has no other values to read', () => {
    assert.throws(() => applyFilter(parseFilter('or:config.x'), undefined), /cannot read other values here/);
    assert.ok(new TemplateError('x') instanceof Error);
  });

  it('has its name checked by the spec like a placeholder', () => {
    assert.deepEqual(problems(withQuery({ team: '{config.team|or:parent.team}' })), []);
    const bad = problems(withQuery({ team: '{config.team|or:parent.nope}' }));
    assert.equal(bad.length, 1);
    assert.match(
      bad[0]!,
      /resources\.stats\.request\.query: \{config\.team\|or:parent\.nope.*needs parent\.params\.nope/,
    );
    const undeclared = problems(withQuery({ team: '{config.team|or:config.other}' }));
    assert.match(undeclared[0]!, /"other" is not a connectionConfig field/);
    const window = problems(withQuery({ from: '{config.team|or:window.start}' }));
    assert.match(window[0]!, /needs an incremental section/);
  });
});
