/**
 * `incremental_dependency: true` on a ParentStreamConfig, imported: `parent.changedOnly` when the
 * parent stream is incremental (Airbyte then visits the changed parents alone), every parent visited
 * when it is not (as Airbyte does: it reads such a parent in full), and a product of parents reported.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importedFully } from '../../src/import/airbyte/report.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

const head = `
version: 6.0.0
type: DeclarativeSource
definitions:
  requester: { type: HttpRequester, url_base: "https://api.shop.test" }
  selector: { type: RecordSelector, extractor: { type: DpathExtractor, field_path: [data] } }
  orders:
    type: DeclarativeStream
    name: orders
    primary_key: id
    retriever:
      type: SimpleRetriever
      requester: { $ref: '#/definitions/requester', path: /orders }
      record_selector: { $ref: '#/definitions/selector' }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: modified
      datetime_format: '%Y-%m-%dT%H:%M:%SZ'
      start_datetime: '2024-01-01T00:00:00Z'
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: modified_since }
  stores:
    type: DeclarativeStream
    name: stores
    primary_key: id
    retriever:
      type: SimpleRetriever
      requester: { $ref: '#/definitions/requester', path: /stores }
      record_selector: { $ref: '#/definitions/selector' }
  regions:
    type: DeclarativeStream
    name: regions
    primary_key: id
    retriever:
      type: SimpleRetriever
      requester: { $ref: '#/definitions/requester', path: /regions }
      record_selector: { $ref: '#/definitions/selector' }
`;

/** A child stream of the given routers, without a cursor of its own unless `cursor` says so. */
const child = (path: string, routers: string, cursor = '') => `
  items:
    type: DeclarativeStream
    name: items
    primary_key: id
    retriever:
      type: SimpleRetriever
      requester: { $ref: '#/definitions/requester', path: "${path}" }
      record_selector: { $ref: '#/definitions/selector' }
      partition_router:
${routers}
${cursor}
streams:
  - $ref: '#/definitions/orders'
  - $ref: '#/definitions/stores'
  - $ref: '#/definitions/regions'
  - $ref: '#/definitions/items'
`;

const router = (parent: string, field: string, dependency = true, indent = '        ') =>
  [
    `type: SubstreamPartitionRouter`,
    `parent_stream_configs:`,
    `  - type: ParentStreamConfig`,
    `    parent_key: id`,
    `    partition_field: ${field}`,
    `    stream: { $ref: '#/definitions/${parent}' }`,
    ...(dependency ? [`    incremental_dependency: true`] : []),
  ]
    .map((l) => indent + l)
    .join('\n');
const listed = (...routers: string[]) =>
  routers.map((r) => r.replace(/^ {8}(\S)/, '        - $1').replace(/\n {8}/g, '\n          ')).join('\n');

const DEP_AT = 'definitions.items.retriever.partition_router.parent_stream_configs.0.incremental_dependency';

function imported(manifest: string) {
  const r = importAirbyteManifest(manifest, { id: 'shop' });
  return {
    issues: r.issues.map((i) => [i.path, i.effect]),
    fully: importedFully(r.issues),
    items: parseSpec(r.spec!, 'shop').resources.items!,
  };
}

describe('import airbyte: incremental_dependency', () => {
  it('on an incremental parent: only the changed parents are visited (parent.changedOnly), nothing to report', () => {
    const r = imported(
      head + child('/orders/{{ stream_partition.order_id }}/items', router('orders', 'order_id')),
    );
    assert.deepEqual(r.issues, []);
    assert.equal(r.fully, true);
    assert.deepEqual(r.items.parent, { resource: 'orders', params: { order_id: 'id' }, changedOnly: true });
    assert.equal(r.items.incremental, undefined, 'incremental through its parent alone');
  });

  it('without incremental_dependency: every parent is visited, as before', () => {
    const r = imported(
      head + child('/orders/{{ stream_partition.order_id }}/items', router('orders', 'order_id', false)),
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.items.parent, { resource: 'orders', params: { order_id: 'id' } });
  });

  it('on a parent without a cursor: Airbyte reads every parent on each sync, and so every parent is visited (a note)', () => {
    const r = imported(
      head + child('/stores/{{ stream_partition.store_id }}/items', router('stores', 'store_id')),
    );
    assert.deepEqual(r.issues, [[DEP_AT, 'note']]);
    assert.equal(r.fully, true);
    assert.deepEqual(r.items.parent, { resource: 'stores', params: { store_id: 'id' } });
  });

  it('in a product of parents: every combination is visited, reported (incremental without a cursor, differs with one)', () => {
    const path = '/stores/{{ stream_partition.store_id }}/orders/{{ stream_partition.order_id }}/items';
    const routers = listed(router('stores', 'store_id'), router('orders', 'order_id'));
    const at = (i: number) =>
      `definitions.items.retriever.partition_router.${i}.parent_stream_configs.0.incremental_dependency`;
    const bare = imported(head + child(path, routers));
    assert.deepEqual(bare.issues, [
      [at(0), 'note'],
      [at(1), 'incremental'],
    ]);
    assert.equal(bare.fully, false);
    assert.deepEqual(bare.items.parent, {
      product: [
        { resource: 'stores', params: { store_id: 'id' } },
        { resource: 'orders', params: { order_id: 'id' } },
      ],
    });
    const cursor = `    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: shipped
      datetime_format: '%Y-%m-%dT%H:%M:%SZ'
      start_datetime: '2024-01-01T00:00:00Z'
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: shipped_since }`;
    const own = imported(head + child(path, routers, cursor));
    assert.deepEqual(own.issues, [
      [at(0), 'note'],
      [at(1), 'differs'],
    ]);
    assert.ok(own.items.incremental);
  });

  it('a product of parents without cursors: every combination is visited, as in Airbyte (notes only)', () => {
    const r = imported(
      head +
        child(
          '/regions/{{ stream_partition.region_id }}/stores/{{ stream_partition.store_id }}/items',
          listed(router('regions', 'region_id'), router('stores', 'store_id')),
        ),
    );
    const at = (i: number) =>
      `definitions.items.retriever.partition_router.${i}.parent_stream_configs.0.incremental_dependency`;
    assert.deepEqual(r.issues, [
      [at(0), 'note'],
      [at(1), 'note'],
    ]);
    assert.equal(r.fully, true);
    assert.deepEqual(r.items.parent, {
      product: [
        { resource: 'regions', params: { region_id: 'id' } },
        { resource: 'stores', params: { store_id: 'id' } },
      ],
    });
  });

  it('the fixture: tasks of changed projects, members of every team', () => {
    const r = importAirbyteManifest(readFileSync('test/fixtures/airbyte/changed-parents.yaml', 'utf8'), {
      id: 'boards',
    });
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.effect, i.stream]),
      [
        [
          'definitions.streams.members.retriever.partition_router.parent_stream_configs.0.incremental_dependency',
          'note',
          'members',
        ],
      ],
    );
    const spec = parseSpec(r.spec!, 'boards');
    assert.equal(spec.resources.tasks!.parent && 'changedOnly' in spec.resources.tasks!.parent, true);
  });
});
