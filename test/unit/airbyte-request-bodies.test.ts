import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

/** A one-stream manifest with the given requester fields and paginator. */
function manifest(requester: Record<string, unknown>, paginator?: Record<string, unknown>): string {
  return stringify({
    version: '6.0.0',
    type: 'DeclarativeSource',
    check: { type: 'CheckStream', stream_names: ['items'] },
    streams: [
      {
        type: 'DeclarativeStream',
        name: 'items',
        primary_key: 'id',
        retriever: {
          type: 'SimpleRetriever',
          requester: {
            type: 'HttpRequester',
            url_base: 'https://api.example.com',
            path: '/items',
            ...requester,
          },
          record_selector: {
            type: 'RecordSelector',
            extractor: { type: 'DpathExtractor', field_path: ['data'] },
          },
          ...(paginator ? { paginator } : {}),
        },
      },
    ],
    spec: {
      type: 'Spec',
      connection_specification: {
        type: 'object',
        properties: { q: { type: 'string' }, api_key: { type: 'string', airbyte_secret: true } },
      },
    },
  });
}

const pageInBody = (into: string) => ({
  type: 'DefaultPaginator',
  page_token_option: { type: 'RequestOption', inject_into: into, field_name: 'page' },
  pagination_strategy: {
    type: 'PageIncrement',
    page_size: 50,
    start_from_page: 1,
    inject_on_first_request: true,
  },
});

describe('import airbyte: request bodies', () => {
  it('translates the fixture: a JSON body on a GET, a form on a GET and on a POST', () => {
    const r = importAirbyteManifest(readFileSync('test/fixtures/airbyte/request-bodies.yaml', 'utf8'), {
      id: 'bodies',
    });
    assert.deepEqual(r.issues, []);
    const spec = parseSpec(r.spec!, 'bodies');
    const contacts = spec.resources.contacts!.request;
    assert.equal(contacts.method, 'GET');
    assert.equal(contacts.bodyFormat, undefined);
    assert.deepEqual(contacts.body, {
      sort: [{ field: 'updated', direction: 'asc' }],
      team: '{config.team}',
      page: '{page}',
    });
    const books = spec.resources.books!;
    assert.deepEqual(
      { method: books.request.method, body: books.request.body, bodyFormat: books.request.bodyFormat },
      { method: 'GET', body: { page_size: 10 }, bodyFormat: 'form' },
      'a next URL has no {limit}: the page size is written out',
    );
    assert.deepEqual(books.pagination, {
      type: 'next-url',
      nextUrlPath: 'links.next',
      stopOnEmptyPage: true,
    });
    const companies = spec.resources.companies!.request;
    assert.deepEqual(
      { method: companies.method, body: companies.body, bodyFormat: companies.bodyFormat },
      {
        method: 'POST',
        body: { kind: 'company', team: '{config.team}', page_size: '{limit}', cursor: '{cursor}' },
        bodyFormat: 'form',
      },
    );
  });

  it('a literal boolean form field is sent as Python writes it', () => {
    const r = importAirbyteManifest(
      manifest({
        http_method: 'POST',
        request_body: { type: 'RequestBodyUrlEncodedForm', value: { all: true } },
      }),
      { id: 'x' },
    );
    assert.deepEqual(r.issues, []);
    const req = parseSpec(r.spec!, 'x').resources.items!.request;
    assert.deepEqual([req.body, req.bodyFormat], [{ all: 'True' }, 'form']);
  });

  it('reports, with its path, what has no equivalent: JSON next to form fields, nested or text forms', () => {
    const messages = (text: string) =>
      importAirbyteManifest(text, { id: 'x' }).issues.map((i) => `${i.path}: ${i.message}`);
    assert.deepEqual(messages(manifest({ request_body_json: { a: 1 } }, pageInBody('body_data'))), [
      'streams.0.retriever.requester.request_body_json: a JSON body next to form fields (body_data): the stream is left out',
    ]);
    assert.deepEqual(messages(manifest({ request_body_data: { a: 'x' } }, pageInBody('body_json'))), [
      'streams.0.retriever.requester.request_body_data: form fields next to a JSON body: the stream is left out',
    ]);
    assert.deepEqual(messages(manifest({ request_body_data: { a: { b: 1 } } })), [
      'streams.0.retriever.requester.request_body_data.a: a form field that is not text or a number: the stream is left out',
    ]);
    assert.deepEqual(messages(manifest({ request_body_data: 'raw text' })), [
      'streams.0.retriever.requester.request_body_data: a text body (not form fields) has no equivalent: the stream is left out',
    ]);
  });

  it('an API key injected into body_data is api-key in: form; next to a JSON body it is reported', () => {
    const keyed = (requester: Record<string, unknown>) =>
      manifest({
        http_method: 'POST',
        authenticator: {
          type: 'ApiKeyAuthenticator',
          api_token: "{{ config['api_key'] }}",
          inject_into: { type: 'RequestOption', inject_into: 'body_data', field_name: 'apiKey' },
        },
        ...requester,
      });
    const r = importAirbyteManifest(keyed({}), { id: 'x' });
    assert.deepEqual(r.issues, []);
    assert.deepEqual(parseSpec(r.spec!, 'x').auth, {
      type: 'api-key',
      in: 'form',
      name: 'apiKey',
      value: 'api_key',
    });
    const j = importAirbyteManifest(keyed({ request_body_json: { a: 1 } }), { id: 'x' });
    assert.deepEqual(
      j.issues.map((i) => `${i.effect}: ${i.message}`),
      ['data: an API key in a form body (body_data) next to a JSON body: the stream is left out'],
    );
  });
});
