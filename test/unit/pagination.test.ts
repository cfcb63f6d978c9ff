import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linkWithRel, parseLinkHeader } from '../../src/pagination/link-header.js';
import {
  firstState,
  nextPage,
  PaginationError,
  type NextStep,
  type PaginationState,
} from '../../src/pagination/paginate.js';
import { paginationSchema, type PaginationConfig } from '../../src/pagination/schema.js';

const cfg = (input: unknown): PaginationConfig => paginationSchema.parse(input);
const res = (
  body: unknown,
  recordCount: number,
  headers: Record<string, string> = {},
  requestUrl = 'https://api.x/items',
) => ({
  body,
  recordCount,
  requestUrl,
  header: (name: string) => headers[name.toLowerCase()] ?? null,
});
function cont(step: NextStep): PaginationState {
  assert.equal(step.done, false, step.done ? step.reason : '');
  return step.state;
}
function stopped(step: NextStep): string {
  assert.equal(step.done, true);
  return step.done ? step.reason : '';
}

describe('page pagination', () => {
  const c = cfg({ type: 'page', sizeParam: 'per_page', pageSize: 2, totalPath: 'total' });
  it('starts at startPage and counts up', () => {
    const s0 = firstState(c);
    assert.deepEqual(s0.request, { query: { page: '1', per_page: '2' } });
    const s1 = cont(nextPage(c, s0, res({ total: 5 }, 2)));
    assert.deepEqual(s1.request, { query: { page: '2', per_page: '2' } });
    assert.equal(s1.pages, 1);
  });
  it('stops on a short page, when the total is reached, on empty pages and at maxPages', () => {
    assert.equal(stopped(nextPage(c, firstState(c), res({}, 1))), 'short page');
    // A short page is not the end while the provider's total says more remain (Stripe's limit is a maximum).
    cont(nextPage(c, firstState(c), res({ total: 5 }, 1)));
    const s2 = { ...firstState(c), records: 4, request: { query: { page: '3' } } };
    assert.equal(stopped(nextPage(c, s2, res({ total: 5 }, 1))), 'all 5 records read');
    assert.equal(stopped(nextPage(c, firstState(c), res({}, 0))), 'empty page');
    const capped = cfg({ type: 'page', maxPages: 1 });
    assert.equal(stopped(nextPage(capped, firstState(capped), res({}, 10))), 'maxPages (1) reached');
  });
  it('stops at totalPagesPath and on a has-more flag', () => {
    const tp = cfg({ type: 'page', totalPagesPath: 'meta.pages' });
    assert.equal(stopped(nextPage(tp, firstState(tp), res({ meta: { pages: 1 } }, 10))), 'last of 1 pages');
    const hm = cfg({ type: 'page', hasMorePath: 'more' });
    assert.equal(stopped(nextPage(hm, firstState(hm), res({ more: false }, 10))), 'more is false');
    cont(nextPage(hm, firstState(hm), res({ more: true }, 10)));
  });
});

describe('offset pagination', () => {
  const c = cfg({ type: 'offset', pageSize: 3 });
  it('moves the offset by the records received', () => {
    const s1 = cont(nextPage(c, firstState(c), res({}, 3)));
    assert.deepEqual(s1.request, { query: { offset: '3', limit: '3' } });
    const s2 = cont(nextPage(c, s1, res({}, 3)));
    assert.deepEqual(s2.request, { query: { offset: '6', limit: '3' } });
    assert.equal(stopped(nextPage(c, s2, res({}, 2))), 'short page');
  });
  it('limitParam: false sends no page size (the provider pages by itself), and still stops on a short page', () => {
    const quiet = cfg({ type: 'offset', pageSize: 3, offsetParam: 'start', limitParam: false });
    assert.deepEqual(firstState(quiet).request, { query: { start: '0' } });
    const s1 = cont(nextPage(quiet, firstState(quiet), res({}, 3)));
    assert.deepEqual(s1.request, { query: { start: '3' } });
    assert.equal(stopped(nextPage(quiet, s1, res({}, 1))), 'short page');
  });
});

describe('cursor pagination', () => {
  const c = cfg({
    type: 'cursor',
    cursorPath: 'meta.next',
    param: 'after',
    limitParam: 'limit',
    pageSize: 10,
  });
  it('sends the cursor from the body, and stops when there is none', () => {
    const s1 = cont(nextPage(c, firstState(c), res({ meta: { next: 'abc' } }, 10)));
    assert.deepEqual(s1.request, { query: { after: 'abc', limit: '10' } });
    assert.equal(stopped(nextPage(c, s1, res({ meta: { next: null } }, 10))), 'no next cursor');
    assert.equal(stopped(nextPage(c, s1, res({ meta: { next: '' } }, 10))), 'no next cursor');
  });
  it('reads the cursor from a header', () => {
    const h = cfg({ type: 'cursor', cursorHeader: 'X-Next' });
    assert.deepEqual(cont(nextPage(h, firstState(h), res({}, 1, { 'x-next': 'n2' }))).request, {
      query: { cursor: 'n2' },
    });
  });
  it('refuses a repeated cursor instead of looping forever', () => {
    const s1 = cont(nextPage(c, firstState(c), res({ meta: { next: 'same' } }, 10)));
    assert.throws(
      () => nextPage(c, s1, res({ meta: { next: 'same' } }, 10)),
      (e: unknown) =>
        e instanceof PaginationError && /same cursor again \("same"\) after page 1/.test(e.message),
    );
    // also a cursor seen a few pages back (A → B → A)
    const s2 = cont(nextPage(c, s1, res({ meta: { next: 'other' } }, 10)));
    assert.throws(() => nextPage(c, s2, res({ meta: { next: 'same' } }, 10)), PaginationError);
  });
  it('rejects a cursor that is not a scalar', () => {
    assert.throws(
      () => nextPage(c, firstState(c), res({ meta: { next: { a: 1 } } }, 10)),
      /not a string or number/,
    );
  });
});

describe('link-header and next-url pagination', () => {
  it('follows rel="next", resolving relative links', () => {
    const c = cfg({ type: 'link-header' });
    const s1 = cont(
      nextPage(
        c,
        firstState(c),
        res(
          [],
          5,
          { link: '</items?page=2>; rel="next", </items?page=9>; rel="last"' },
          'https://api.x/items?page=1',
        ),
      ),
    );
    assert.deepEqual(s1.request, { url: 'https://api.x/items?page=2' });
    assert.equal(
      stopped(nextPage(c, s1, res([], 5, { link: '</items?page=1>; rel="prev"' }))),
      'no rel="next" link',
    );
    assert.throws(
      () => nextPage(c, s1, res([], 5, { link: '<https://api.x/items?page=2>; rel="next"' })),
      PaginationError,
    );
  });
  it('follows a next URL in the body', () => {
    const c = cfg({ type: 'next-url', nextUrlPath: 'links.next' });
    const s1 = cont(nextPage(c, firstState(c), res({ links: { next: '/items?after=9' } }, 5)));
    assert.deepEqual(s1.request, { url: 'https://api.x/items?after=9' });
    assert.equal(stopped(nextPage(c, s1, res({ links: { next: null } }, 5))), 'no next URL');
  });
});

describe('parseLinkHeader', () => {
  it('handles several links, quoted params, several rels, case and commas inside URLs', () => {
    const header =
      '<https://api.x/a?x=1,2>; rel="next last"; title="a, b", <https://api.x/p>; REL=Prev, <https://api.x/f>;rel="first"';
    const links = parseLinkHeader(header);
    assert.equal(links.length, 3);
    assert.equal(links[0]?.url, 'https://api.x/a?x=1,2');
    assert.deepEqual(links[0]?.rels, ['next', 'last']);
    assert.equal(links[0]?.params.title, 'a, b');
    assert.equal(linkWithRel(header, 'prev'), 'https://api.x/p');
    assert.equal(linkWithRel(header, 'LAST'), 'https://api.x/a?x=1,2');
    assert.equal(linkWithRel(header, 'missing'), undefined);
    assert.deepEqual(parseLinkHeader(''), []);
    assert.deepEqual(parseLinkHeader(null), []);
    assert.equal(linkWithRel('<../b>; rel=next', 'next', 'https://api.x/v1/a/list'), 'https://api.x/v1/b');
  });
});
