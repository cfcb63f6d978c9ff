/**
 * `single`: an answer whose recordsPath holds one object (a profile, settings) is one record. `true`
 * refuses a list there; `auto` (what Airbyte's extractor does, and what `import airbyte` emits) reads
 * an object as one record and a list as records. `validate` refuses it where it cannot hold, by path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/spec/define.js';
import { recordsOf } from '../../src/sync/spec-page-source.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';

const spec = (resource: Record<string, unknown>) => ({
  id: 'x',
  baseUrl: 'https://api.example.com',
  resources: { me: { request: { path: '/me' }, primaryKey: 'id', ...resource } },
});

describe('single-object answers', () => {
  it('an object is one record; missing or null is none; a list is refused unless auto', () => {
    const one = { id: 1, name: 'Ana' };
    assert.deepEqual(recordsOf(one, { recordsPath: 'user', single: true }), [one]);
    assert.deepEqual(recordsOf(undefined, { recordsPath: 'user', single: true }), []);
    assert.deepEqual(recordsOf(null, { recordsPath: 'user', single: true }), []);
    assert.equal(recordsOf([one], { recordsPath: 'user', single: true }), undefined);
    assert.equal(recordsOf('text', { recordsPath: 'user', single: true }), undefined);
    assert.deepEqual(recordsOf(one, { recordsPath: '', single: 'auto' }), [one]);
    assert.deepEqual(recordsOf([one, one], { recordsPath: '', single: 'auto' }), [one, one]);
    assert.equal(recordsOf(7, { recordsPath: '', single: 'auto' }), undefined);
    // Without single an object is not records (a wrong recordsPath is caught, not read as one record).
    assert.equal(recordsOf(one, { recordsPath: 'user', single: false }), one);
  });

  it('validate: single with pagination, a wildcard or a JSON Lines answer is refused by path', () => {
    assert.equal(parseSpec(spec({ recordsPath: 'user', single: true }), 'x').resources.me!.single, true);
    assert.throws(
      () =>
        parseSpec(spec({ single: true, pagination: { type: 'page', pageParam: 'p', pageSize: 10 } }), 'x'),
      /resources\.me\.single.*not paginated/s,
    );
    assert.throws(
      () => parseSpec(spec({ single: 'auto', recordsPath: 'data.*' }), 'x'),
      /resources\.me\.single.*wildcard/s,
    );
    assert.throws(
      () => parseSpec(spec({ single: true, decoder: { format: 'jsonl' } }), 'x'),
      /resources\.me\.single.*JSON answer/s,
    );
    assert.throws(() => parseSpec(spec({ single: 'yes' }), 'x'), /resources\.me\.single/);
  });

  it('import airbyte: unpaginated JSON streams get single: auto, paginated ones do not', () => {
    const r = importAirbyteManifest(
      `
streams:
  - type: DeclarativeStream
    name: me
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /me }
      record_selector: { extractor: { field_path: [user] } }
  - type: DeclarativeStream
    name: items
    primary_key: id
    retriever:
      requester: { url_base: "https://x.example.com", path: /items }
      paginator:
        type: DefaultPaginator
        page_token_option: { type: RequestOption, inject_into: request_parameter, field_name: page }
        pagination_strategy: { type: PageIncrement, page_size: 10 }
`,
      { id: 'x' },
    );
    const s = parseSpec(r.spec!, 'x');
    assert.equal(s.resources.me!.single, 'auto');
    assert.equal(s.resources.items!.single, false);
  });
});
