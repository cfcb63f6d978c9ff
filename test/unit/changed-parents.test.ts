/** `parent.changedOnly`: the spec's checks, its helpers, and the CLI's incremental mode for it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syncInput } from '../../src/cli/commands/shared.js';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';
import { changedOnlyParent, type ParentConfig } from '../../src/spec/parent.js';
import { isSnapshotMark } from '../../src/store/records.js';

const specWith = (parent: unknown) => ({
  id: 'boards',
  baseUrl: 'https://boards.example.com',
  resources: {
    projects: { request: { path: '/projects' }, primaryKey: 'id' },
    owners: { request: { path: '/owners' }, primaryKey: 'id' },
    tasks: { request: { path: '/projects/{parent.project}/tasks' }, primaryKey: 'id', parent },
  },
});

function problems(parent: unknown): string[] {
  try {
    parseSpec(specWith(parent), 'boards');
    return [];
  } catch (error) {
    if (error instanceof SpecError) return error.problems;
    throw error;
  }
}

describe('parent.changedOnly in a spec', () => {
  it('is accepted on a parent resource, and kept as written', () => {
    const spec = parseSpec(
      specWith({ resource: 'projects', params: { project: 'id' }, changedOnly: true }),
      'boards',
    );
    assert.deepEqual(spec.resources.tasks!.parent, {
      resource: 'projects',
      params: { project: 'id' },
      changedOnly: true,
    });
    // Not written: not added either.
    const plain = parseSpec(specWith({ resource: 'projects', params: { project: 'id' } }), 'boards');
    assert.deepEqual(plain.resources.tasks!.parent, { resource: 'projects', params: { project: 'id' } });
  });

  it('is true or false, named by its path', () => {
    assert.deepEqual(problems({ resource: 'projects', params: { project: 'id' }, changedOnly: 'yes' }), [
      'resources.tasks.parent.changedOnly: expected boolean, received string',
    ]);
    assert.deepEqual(
      problems({
        product: [
          { resource: 'projects', params: { project: 'id' }, changedOnly: 1 },
          { resource: 'owners', params: { owner: 'id' } },
        ],
      }),
      ['resources.tasks.parent.product[0].changedOnly: expected boolean, received number'],
    );
  });

  it('is refused on listed values and in a product of parents', () => {
    assert.deepEqual(problems({ values: { project: ['a', 'b'] }, changedOnly: true }), [
      'resources.tasks.parent.changedOnly: unknown field',
    ]);
    assert.deepEqual(
      problems({
        product: [
          { resource: 'projects', params: { project: 'id' } },
          { resource: 'owners', params: { owner: 'id' }, changedOnly: true },
        ],
      }),
      [
        'resources.tasks.parent.product.1.changedOnly: only a single parent resource visits changed parents only: the combinations of a product are all visited on every run',
      ],
    );
  });

  it('still needs its parent resource to exist', () => {
    assert.deepEqual(problems({ resource: 'boards', params: { project: 'id' }, changedOnly: true }), [
      'resources.tasks.parent.resource: no resource "boards" (resources: projects, owners, tasks)',
    ]);
  });
});

describe('parent.changedOnly helpers', () => {
  it('names the parent resource only when changedOnly is true on a single parent', () => {
    const cases: [ParentConfig | undefined, string | undefined][] = [
      [{ resource: 'projects', params: { p: 'id' }, changedOnly: true }, 'projects'],
      [{ resource: 'projects', params: { p: 'id' }, changedOnly: false }, undefined],
      [{ resource: 'projects', params: { p: 'id' } }, undefined],
      [{ values: { p: ['a'] } }, undefined],
      [
        {
          product: [
            { resource: 'projects', params: { p: 'id' }, changedOnly: true },
            { values: { q: ['a'] } },
          ],
        },
        undefined,
      ],
      [undefined, undefined],
    ];
    for (const [parent, expected] of cases)
      assert.equal(changedOnlyParent(parent), expected, JSON.stringify(parent));
  });

  it('tells a snapshot mark from any other mark', () => {
    for (const mark of ['748:748:', '748:760:750', '748:760:750,752,759'])
      assert.ok(isSnapshotMark(mark), mark);
    for (const mark of [null, undefined, '', '2026-01-01T00:00:00Z', '1700000000', '748:760', '748:760:a'])
      assert.ok(!isSnapshotMark(mark), String(mark));
  });
});

describe('sync --mode incremental of a child that visits changed parents', () => {
  const specs = new Map([
    [
      'boards',
      parseSpec(
        {
          ...specWith({ resource: 'projects', params: { project: 'id' }, changedOnly: true }),
          resources: {
            ...specWith(undefined).resources,
            tasks: {
              request: { path: '/projects/{parent.project}/tasks' },
              primaryKey: 'id',
              parent: { resource: 'projects', params: { project: 'id' }, changedOnly: true },
            },
            notes: {
              request: { path: '/projects/{parent.project}/notes' },
              primaryKey: 'id',
              parent: { resource: 'projects', params: { project: 'id' } },
            },
          },
        },
        'boards',
      ),
    ],
  ]);

  it('is allowed without an incremental section of its own: it is incremental through its parent', () => {
    assert.equal(syncInput(specs, 'boards', 'tasks', 'acme', 'incremental').kind, 'incremental');
  });

  it('is refused for a child that visits every parent and has no incremental section', () => {
    assert.throws(
      () => syncInput(specs, 'boards', 'notes', 'acme', 'incremental'),
      /--mode incremental: resource boards\/notes has no incremental section in its spec/,
    );
  });
});
