import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseTemplate } from '../../src/import/airbyte/jinja.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

const stream = (paginator: string, records = '[data]') => `
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /s }
      record_selector: { extractor: { field_path: ${records} } }
      paginator:
${paginator
  .trim()
  .split('\n')
  .map((l) => `        ${l}`)
  .join('\n')}
`;
const cursor = (value: string, stop?: string, token = 'request') =>
  stream(`
type: DefaultPaginator
page_token_option: ${token === 'path' ? '{ type: RequestPath }' : '{ type: RequestOption, inject_into: request_parameter, field_name: after }'}
pagination_strategy:
  type: CursorPagination
  cursor_value: ${JSON.stringify(value)}
${stop === undefined ? '' : `  stop_condition: ${JSON.stringify(stop)}`}
`);
function pagination(manifest: string): unknown {
  const r = importAirbyteManifest(manifest, { id: 'x' });
  assert.deepEqual(r.issues, []);
  return parseSpec(r.spec!, 'x').resources.s!.pagination;
}
function refused(manifest: string): [string, string] {
  const r = importAirbyteManifest(manifest, { id: 'x' });
  assert.equal(r.issues.length, 1, JSON.stringify(r.issues));
  return [r.issues[0]!.path, r.issues[0]!.effect];
}
const base = { stopOnEmptyPage: true };

describe('import airbyte: pagination constructs (fixture paging-stops)', () => {
  it('translates every paginator of the fixture exactly', () => {
    const r = importAirbyteManifest(readFileSync('test/fixtures/airbyte/paging-stops.yaml', 'utf8'), {
      id: 'paging',
    });
    assert.deepEqual(r.issues, []);
    const spec = parseSpec(r.spec!, 'paging');
    const p = (name: string) => spec.resources[name]!.pagination;
    assert.deepEqual(p('tickets'), {
      type: 'cursor',
      lastRecordPath: 'id',
      param: 'starting_after',
      pageSize: 5,
      limitParam: 'limit',
      stopWhen: [{ path: 'links.next', equals: null }],
      ...base,
    });
    assert.deepEqual(p('items'), {
      type: 'cursor',
      cursorPath: 'next',
      cursorPattern: 'page=(\\d+)',
      param: 'page',
      pageSize: 5,
      limitParam: 'per_page',
      ...base,
    });
    assert.deepEqual(p('entries'), {
      type: 'cursor',
      cursorPath: 'paging.current_page',
      cursorAdd: 1,
      param: 'page',
      pageSize: 5,
      limitParam: 'items_per_page',
      stopWhen: [{ path: 'paging.count_pages', equalsPath: 'paging.current_page' }],
      ...base,
    });
    assert.deepEqual(p('responses'), { type: 'offset', offsetParam: 'skip', limitParam: false, ...base });
    assert.deepEqual(p('accounts'), { type: 'next-url', nextUrlRecordPath: 'next', ...base });
    assert.deepEqual(p('files'), {
      type: 'next-url',
      nextUrlPath: 'data.next_url',
      stopWhen: [{ path: 'data.next_url', equals: 'null' }],
      ...base,
    });
    assert.deepEqual(spec.resources.files!.request.query, { limit: 5 });
    assert.deepEqual(p('sessions'), {
      type: 'cursor',
      lastRecordPath: 'id',
      param: 'after',
      pageSize: 5,
      limitParam: 'limit',
      stopWhen: [{ header: 'Link', lacks: 'next' }],
      ...base,
    });
    assert.deepEqual(p('activities'), {
      type: 'cursor',
      cursorPath: 'next',
      param: 'next',
      stopWhen: [{ path: 'next', equals: 'inf' }],
      ...base,
    });
    assert.deepEqual(p('errors'), {
      type: 'link-header',
      firstLink: true,
      pageSize: 5,
      sizeParam: 'per_page',
      stopWhen: [
        { header: 'Link', absent: true },
        { header: 'Link', equals: '' },
        { header: 'Link', lacks: 'rel="next"' },
      ],
      ...base,
    });
    assert.deepEqual(p('notes'), { type: 'next-url', nextUrlHeader: 'X-Next-Page', ...base });
    assert.deepEqual(p('calendars'), {
      type: 'cursor',
      cursorPath: 'nextPageToken',
      param: 'pageToken',
      ...base,
    });
  });
});

describe('import airbyte: stop conditions', () => {
  it('a missing cursor ends paging anyway: "is not defined" of the cursor adds nothing', () => {
    for (const stop of [
      "{{ response.get('pagination', {}).get('cursor') is not defined }}",
      '{{ response.pagination is not defined }}',
      '{{ response._links.more is not defined or response._links.more is none }}',
    ])
      assert.deepEqual(
        pagination(
          cursor(
            stop.includes('_links')
              ? '{{ response._links.more.cursor }}'
              : "{{ response.get('pagination', {}).get('cursor') }}",
            stop,
          ),
        ),
        {
          type: 'cursor',
          cursorPath: stop.includes('_links') ? '_links.more.cursor' : 'pagination.cursor',
          param: 'after',
          ...base,
        },
      );
  });
  it('tests of other values become stopWhen rules, with none and absent told apart', () => {
    const stopWhen = (stop: string) =>
      (pagination(cursor("{{ last_record['id'] }}", stop)) as { stopWhen?: unknown }).stopWhen;
    assert.deepEqual(stopWhen('{{ response.chunk_size == 0 }}'), [{ path: 'chunk_size', equals: 0 }]);
    assert.deepEqual(stopWhen('{{ response.meta.next is none }}'), [{ path: 'meta.next', equals: null }]);
    // `.get('x')` is none when the key is missing: both end paging.
    assert.deepEqual(stopWhen("{{ response.get('next') == none }}"), [
      { path: 'next', equals: null },
      { path: 'next', absent: true },
    ]);
    assert.deepEqual(stopWhen("{{ response.get('count', 0) == 0 }}"), [
      { path: 'count', equals: 0 },
      { path: 'count', absent: true },
    ]);
    assert.deepEqual(stopWhen("{{ response.get('count', {}) == 0 }}"), [{ path: 'count', equals: 0 }]);
    assert.deepEqual(stopWhen('{{ response.meta.next is not defined }}'), [
      { path: 'meta.next', absent: true },
    ]);
    // `.get('x')` is never undefined: the test never holds.
    assert.equal(stopWhen("{{ response.get('next') is not defined }}"), undefined);
    assert.deepEqual(stopWhen('{{ response.page.total == response.page.number }}'), [
      { path: 'page.total', equalsPath: 'page.number' },
    ]);
    assert.deepEqual(
      stopWhen('{{ not headers.get("Link", {}) or \'rel="next"\' not in headers.get("Link", {}) }}'),
      [
        { header: 'Link', absent: true },
        { header: 'Link', equals: '' },
        { header: 'Link', lacks: 'rel="next"' },
      ],
    );
    assert.deepEqual(stopWhen('{{ \'rel="next"\' not in headers.get("Link", {}) }}'), [
      { header: 'Link', lacks: 'rel="next"' },
    ]);
    assert.deepEqual(stopWhen('{{ response.done or response.state == "last" }}'), [
      { path: 'state', equals: 'last' },
    ]);
  });
  it('refuses what has no equivalent, naming the stop condition', () => {
    for (const stop of [
      '{{ response.count <= 1 }}',
      "{{ response.get('a') == response.get('b') }}",
      '{{ response.items | length < 200 }}',
    ])
      assert.deepEqual(refused(cursor("{{ last_record['id'] }}", stop)), [
        'streams.0.retriever.paginator.pagination_strategy.stop_condition',
        'data',
      ]);
  });
});

describe('import airbyte: cursor values', () => {
  it('a regular expression capture, a page number plus one, and a default of none', () => {
    assert.deepEqual(pagination(cursor("{{ response.next | regex_search('[?&]cursor=([^&]+)') }}")), {
      type: 'cursor',
      cursorPath: 'next',
      cursorPattern: '[?&]cursor=([^&]+)',
      param: 'after',
      ...base,
    });
    assert.deepEqual(pagination(cursor("{{ response['pagination']['current'] + 1 }}")), {
      type: 'cursor',
      cursorPath: 'pagination.current',
      cursorAdd: 1,
      param: 'after',
      ...base,
    });
    assert.deepEqual(pagination(cursor('{{ response._links.more.params.cursor | default(None) }}')), {
      type: 'cursor',
      cursorPath: '_links.more.params.cursor',
      param: 'after',
      ...base,
    });
  });
  it('keeps a regular expression escape as Python does', () => {
    const [part] = parseTemplate(String.raw`{{ x | regex_search("page=(\d+)\$") }}`);
    assert.ok(part && 'expr' in part && part.expr.k === 'filter');
    assert.deepEqual(part.expr.args[0], { k: 'lit', value: String.raw`page=(\d+)\$` });
  });
  it('refuses patterns JavaScript reads otherwise, sums that are not whole and parts of next URLs', () => {
    const at = 'streams.0.retriever.paginator.pagination_strategy.cursor_value';
    for (const value of [
      "{{ response.next | regex_search('(?P<c>\\d+)') }}",
      "{{ response.next | regex_search('\\Acursor=(\\w+)') }}",
      "{{ response.next | regex_search('cursor=\\w+') }}",
      '{{ response.page + 0.5 }}',
    ])
      assert.deepEqual(refused(cursor(value)), [at, 'data'], value);
    // A key with dots of its own is read through a quoted path (test/unit/airbyte-dotted-keys.test.ts).
    assert.deepEqual(pagination(cursor('{{ response.get("@odata.nextLink") }}')), {
      type: 'cursor',
      cursorPath: "['@odata.nextLink']",
      param: 'after',
      ...base,
    });
    assert.deepEqual(refused(cursor("{{ response.next | regex_search('c=(\\w+)') }}", undefined, 'path')), [
      at,
      'data',
    ]);
  });
});

describe('import airbyte: OffsetIncrement without page_size, RequestPath from a record', () => {
  it('an offset that moves by the records read; a next URL from the last record', () => {
    assert.deepEqual(
      pagination(
        stream(`
type: DefaultPaginator
page_token_option: { type: RequestOption, inject_into: request_parameter, field_name: offset }
pagination_strategy: { type: OffsetIncrement, inject_on_first_request: true }
`),
      ),
      { type: 'offset', offsetParam: 'offset', limitParam: false, ...base },
    );
    assert.deepEqual(pagination(cursor("{{ headers['X-Next-Page'] }}", undefined, 'path')), {
      type: 'next-url',
      nextUrlHeader: 'X-Next-Page',
      ...base,
    });
    assert.deepEqual(refused(cursor('{{ headers.link }}', undefined, 'path')), [
      'streams.0.retriever.paginator.pagination_strategy.cursor_value',
      'data',
    ]);
    assert.deepEqual(pagination(cursor("{{ last_record['next_page'] }}", undefined, 'path')), {
      type: 'next-url',
      nextUrlRecordPath: 'next_page',
      ...base,
    });
  });
});
