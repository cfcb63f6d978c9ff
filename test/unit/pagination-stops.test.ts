import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  firstState,
  nextPage,
  PaginationError,
  type NextStep,
  type PaginationState,
} from '../../src/pagination/paginate.js';
import { paginationSchema, type PaginationConfig } from '../../src/pagination/schema.js';
import { parseSpec } from '../../src/spec/define.js';
import { SpecError } from '../../src/spec/errors.js';

const cfg = (input: unknown): PaginationConfig => paginationSchema.parse(input);
const res = (
  body: unknown,
  recordCount: number,
  headers: Record<string, string> = {},
  lastRecord?: unknown,
) => ({
  body,
  recordCount,
  requestUrl: 'https://api.x/items',
  header: (name: string) => headers[name.toLowerCase()] ?? null,
  lastRecord,
});
function cont(step: NextStep): PaginationState {
  assert.equal(step.done, false, step.done ? step.reason : '');
  return step.state;
}
function stopped(step: NextStep): string {
  assert.equal(step.done, true);
  return step.done ? step.reason : '';
}

describe('stopWhen', () => {
  it('stops when a body value equals a literal, null included, but not when it is absent', () => {
    const c = cfg({
      type: 'cursor',
      cursorPath: 'data.next_url',
      stopWhen: [
        { path: 'data.next_url', equals: 'null' },
        { path: 'chunk_size', equals: 0 },
      ],
    });
    assert.equal(
      stopped(nextPage(c, firstState(c), res({ data: { next_url: 'null' } }, 3))),
      '"data.next_url" is "null"',
    );
    assert.equal(
      stopped(nextPage(c, firstState(c), res({ chunk_size: 0, data: { next_url: 'x' } }, 3))),
      '"chunk_size" is 0',
    );
    // "0" is not 0: values compare as sent.
    assert.deepEqual(
      cont(nextPage(c, firstState(c), res({ chunk_size: '0', data: { next_url: 'x' } }, 3))).request,
      {
        query: { cursor: 'x' },
      },
    );
    const n = cfg({ type: 'cursor', lastRecordPath: 'id', stopWhen: [{ path: 'links.next', equals: null }] });
    assert.equal(
      stopped(nextPage(n, firstState(n), res({ links: { next: null } }, 2, {}, { id: 7 }))),
      '"links.next" is null',
    );
    assert.deepEqual(cont(nextPage(n, firstState(n), res({ links: {} }, 2, {}, { id: 7 }))).request, {
      query: { cursor: '7' },
    });
  });
  it('stops when two body values are equal, when a key is absent, and when a header lacks a text', () => {
    const c = cfg({
      type: 'cursor',
      lastRecordPath: 'id',
      param: 'after',
      stopWhen: [
        { path: 'paging.count_pages', equalsPath: 'paging.current_page' },
        { path: 'meta.more', absent: true },
        { header: 'Link', lacks: 'rel="next"' },
      ],
    });
    const link = { link: '<https://api.x/items?p=2>; rel="next"' };
    const more = { meta: { more: null }, paging: { count_pages: 3, current_page: 1 } };
    const s = (body: unknown, headers: Record<string, string> = link) =>
      nextPage(c, firstState(c), res(body, 1, headers, { id: 'a' }));
    assert.equal(
      stopped(s({ ...more, paging: { count_pages: 3, current_page: 3 } })),
      '"paging.count_pages" equals "paging.current_page"',
    );
    cont(s({ ...more, paging: { count_pages: 3, current_page: 2 } }));
    assert.equal(stopped(s({ paging: { count_pages: 3, current_page: 1 } })), '"meta.more" is absent');
    assert.equal(
      stopped(s(more, { link: '<https://api.x/items?p=1>; rel="prev"' })),
      'header Link lacks "rel=\\"next\\""',
    );
    assert.equal(stopped(s(more, {})), 'header Link lacks "rel=\\"next\\""');
  });
});

describe('cursor transforms', () => {
  it('takes the capture of cursorPattern and ends when it does not match', () => {
    const c = cfg({ type: 'cursor', cursorPath: 'next', cursorPattern: '[?&]page=(\\d+)', param: 'page' });
    const s1 = cont(nextPage(c, firstState(c), res({ next: 'https://api.x/v1/items?page=3&x=1' }, 5)));
    assert.deepEqual(s1.request, { query: { page: '3' } });
    assert.equal(s1.vars?.cursor, '3');
    assert.match(
      stopped(nextPage(c, firstState(c), res({ next: 'https://api.x/v1/items' }, 5))),
      /no cursor matches/,
    );
    assert.equal(stopped(nextPage(c, firstState(c), res({ next: null }, 5))), 'no next cursor');
  });
  it('adds cursorAdd to the whole number found', () => {
    const c = cfg({ type: 'cursor', cursorPath: 'paging.current_page', cursorAdd: 1, param: 'page' });
    assert.deepEqual(cont(nextPage(c, firstState(c), res({ paging: { current_page: 1 } }, 5))).request, {
      query: { page: '2' },
    });
    assert.deepEqual(cont(nextPage(c, firstState(c), res({ paging: { current_page: '4' } }, 5))).request, {
      query: { page: '5' },
    });
    assert.throws(
      () => nextPage(c, firstState(c), res({ paging: { current_page: 'two' } }, 5)),
      PaginationError,
    );
  });
});

describe('offset without a page size', () => {
  const c = cfg({ type: 'offset', offsetParam: 'skip' });
  it('moves by the records read and stops on an empty page, whatever stopOnEmptyPage says', () => {
    const s0 = firstState(c);
    assert.deepEqual(s0.request, { query: { skip: '0' } });
    const s1 = cont(nextPage(c, s0, res([], 7)));
    assert.deepEqual(s1.request, { query: { skip: '7' } });
    const s2 = cont(nextPage(c, s1, res([], 3)));
    assert.deepEqual(s2.request, { query: { skip: '10' } });
    assert.equal(stopped(nextPage(c, s2, res([], 0))), 'empty page');
    const keep = cfg({ type: 'offset', stopOnEmptyPage: false });
    assert.equal(stopped(nextPage(keep, firstState(keep), res([], 0))), 'empty page');
  });
});

describe('next URL from a header', () => {
  it('follows the header and stops without it', () => {
    const c = cfg({ type: 'next-url', nextUrlHeader: 'X-Next-Page' });
    const s1 = cont(nextPage(c, firstState(c), res({}, 2, { 'x-next-page': '/items?page=2' })));
    assert.deepEqual(s1.request, { url: 'https://api.x/items?page=2' });
    assert.equal(stopped(nextPage(c, firstState(c), res({}, 2))), 'no next URL');
  });
});

describe('link-header with firstLink', () => {
  it('follows the first link whatever its rel', () => {
    const c = cfg({ type: 'link-header', firstLink: true });
    const h = { link: '<https://api.x/items?after=9>; rel="forward", <https://api.x/items>; rel="first"' };
    assert.deepEqual(cont(nextPage(c, firstState(c), res({}, 2, h))).request, {
      url: 'https://api.x/items?after=9',
    });
    assert.equal(stopped(nextPage(c, firstState(c), res({}, 2))), 'no link');
    const plain = cfg({ type: 'link-header' });
    assert.equal(stopped(nextPage(plain, firstState(plain), res({}, 2, h))), 'no rel="next" link');
  });
});

describe('next URL from the last record', () => {
  const c = cfg({ type: 'next-url', nextUrlRecordPath: 'next_page' });
  it("follows the last record's URL and stops without one or on an empty page", () => {
    const s1 = cont(nextPage(c, firstState(c), res({}, 2, {}, { next_page: '/items?page=2' })));
    assert.deepEqual(s1.request, { url: 'https://api.x/items?page=2' });
    assert.equal(stopped(nextPage(c, firstState(c), res({}, 2, {}, { next_page: null }))), 'no next URL');
    assert.equal(stopped(nextPage(c, firstState(c), res({}, 0))), 'empty page');
  });
});

describe('spec checks of the new pagination settings', () => {
  const minimal = {
    id: 'tracker',
    baseUrl: 'https://api.tracker.example/v2',
    resources: { issues: { request: { path: '/issues' }, recordsPath: 'data', primaryKey: 'id' } },
  };
  const problems = (pagination: unknown, extra: Record<string, unknown> = {}): string[] => {
    try {
      parseSpec(
        { ...minimal, resources: { issues: { ...minimal.resources.issues, ...extra, pagination } } },
        'x',
      );
    } catch (error) {
      assert.ok(error instanceof SpecError, String(error));
      return error.problems;
    }
    return [];
  };
  it('accepts each construct', () => {
    assert.deepEqual(problems({ type: 'offset' }), []);
    assert.deepEqual(problems({ type: 'next-url', nextUrlRecordPath: 'next' }), []);
    assert.deepEqual(
      problems({ type: 'cursor', cursorPath: 'n', cursorPattern: 'p=(\\d+)', cursorAdd: 1 }),
      [],
    );
    assert.deepEqual(
      problems({
        type: 'cursor',
        cursorPath: 'n',
        stopWhen: [
          { path: 'a', equals: null },
          { header: 'Link', lacks: 'next' },
        ],
      }),
      [],
    );
  });
  it('names the path of each mistake', () => {
    const p = 'resources.issues.pagination';
    assert.deepEqual(problems({ type: 'cursor', cursorPath: 'n', cursorPattern: 'p=\\d+' }), [
      `${p}.cursorPattern: needs a capture group: the cursor is what it captures`,
    ]);
    assert.match(
      problems({ type: 'cursor', cursorPath: 'n', cursorPattern: 'p=(' })[0]!,
      /^resources\.issues\.pagination\.cursorPattern: not a regular expression/,
    );
    assert.deepEqual(problems({ type: 'next-url' }), [
      `${p}.nextUrlPath: required when type is "next-url" (or give nextUrlRecordPath or nextUrlHeader)`,
    ]);
    assert.deepEqual(problems({ type: 'next-url', nextUrlPath: 'a', nextUrlRecordPath: 'b' }), [
      `${p}.nextUrlPath: give one of nextUrlPath, nextUrlRecordPath or nextUrlHeader`,
    ]);
    assert.deepEqual(
      problems({
        type: 'offset',
        stopWhen: [{ equals: 1 }, { path: 'a', header: 'b', absent: true, lacks: 'x' }],
      }),
      [
        `${p}.stopWhen[0].path: give path (a body value) or header`,
        `${p}.stopWhen[1].path: give path or header, not both`,
        `${p}.stopWhen[1].equals: give one test, not absent and lacks`,
      ],
    );
    assert.deepEqual(problems({ type: 'offset', stopWhen: [{ header: 'X-Done', equals: true }] }), [
      `${p}.stopWhen[0].equals: a header is text: compare it with a string`,
    ]);
    assert.deepEqual(
      problems(
        { type: 'offset', stopWhen: [{ path: 'a', absent: true }] },
        { recordsPath: '', decoder: { format: 'jsonl' } },
      ),
      [`${p}.stopWhen[0].path: a JSON Lines answer has no JSON body to test: test a header instead`],
    );
  });
});
