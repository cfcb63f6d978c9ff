/**
 * Slice values no router or cursor of a stream sets (issue 20): Airbyte renders them as empty text
 * (or the `default` given), and leave out a parameter whose value is empty, so the importer does the
 * same and notes it; the state of a stream without a cursor is empty; `stream_interval` and
 * `stream_partition` name the same slice. Keys of a cursor the importer does not know stay refused.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';

const fixture = readFileSync('test/fixtures/airbyte/unset-slices.yaml', 'utf8');
const at = 'definitions.streams';

describe('import airbyte: slice values no slice sets', () => {
  it('are empty text, or their default, each noted where it is written', () => {
    const r = importAirbyteManifest(fixture, { id: 'budget' });
    const never = (x: string) =>
      `"${x}" is never set in this stream's slices: it is empty text (or its default), as in Airbyte`;
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.effect, i.message]),
      [
        [`${at}.front_page.retriever.requester.path`, 'note', never('stream_partition.board')],
        [
          `${at}.front_page.retriever.requester.request_parameters.sort`,
          'note',
          never('stream_partition.sort'),
        ],
        [`${at}.categories.retriever.requester.path`, 'note', never('stream_partition.category_id')],
        [
          `${at}.categories.retriever.requester.request_parameters.list`,
          'note',
          `"stream_partition.list" is never set in this stream's slices: not sent, as Airbyte sends no empty value`,
        ],
        [
          `${at}.payees.retriever.requester.request_parameters.updated_after`,
          'note',
          `"stream_state.updated_at" reads the state of a stream without a cursor, which is empty: not sent, as Airbyte sends no empty value`,
        ],
      ],
    );
    const spec = parseSpec(r.spec!, 'budget');
    const front = spec.resources.front_page!;
    assert.equal(front.request.path, '/v1/');
    assert.deepEqual(front.request.query, { sort: 'new', since: '{since|yyyy-MM-ddTHH:mm:ssZ}' });
    const categories = spec.resources.categories!;
    assert.equal(categories.request.path, '/v1/budgets/{parent.budget}/categories/');
    // Airbyte leaves out a parameter whose value is empty, written so or rendered so.
    assert.deepEqual(categories.request.query, {});
    assert.deepEqual(spec.resources.payees!.request.query, { format: 'json' });
  });

  it('a $parameters value that is not set is empty text in a request too', () => {
    const text = fixture.replace(
      "path: '/budgets/{{ stream_interval.budget_id }}/payees'",
      "path: '/budgets/{{ stream_interval.budget_id }}/{{ parameters.path }}'",
    );
    const r = importAirbyteManifest(text, { id: 'budget' });
    const payees = parseSpec(r.spec!, 'budget').resources.payees!;
    assert.equal(payees.request.path, '/v1/budgets/{parent.budget_id}/');
    assert.ok(
      r.issues.some(
        (i) =>
          i.path === `${at}.payees.retriever.requester.path` &&
          i.effect === 'note' &&
          i.message ===
            `"parameters.path" is not set in the stream's $parameters: it is empty text (or its default), as in Airbyte`,
      ),
    );
  });

  it('stream_interval reads a partition value, as stream_partition does', () => {
    const r = importAirbyteManifest(fixture, { id: 'budget' });
    const payees = parseSpec(r.spec!, 'budget').resources.payees!;
    assert.equal(payees.request.path, '/v1/budgets/{parent.budget_id}/payees');
    assert.deepEqual(payees.parent, { resource: 'budgets', params: { budget_id: 'id' } });
  });

  it('the window keys of a DatetimeBasedCursor stay window values', () => {
    const text = fixture.replace(
      `          request_parameters:
            sort: "{{ stream_partition.sort | default('new') }}"`,
      `          request_parameters:
            from: "{{ stream_partition.start_time }}"`,
    );
    const r = importAirbyteManifest(text, { id: 'budget' });
    const front = parseSpec(r.spec!, 'budget').resources.front_page!;
    assert.equal(front.request.query?.from, '{since|yyyy-MM-ddTHH:mm:ssZ}');
    assert.ok(!r.issues.some((i) => i.message.includes('start_time')));
  });

  it('with a cursor whose slice keys are unknown, an unset key is still refused', () => {
    const text = fixture.replace(
      `      incremental_sync:
        type: DatetimeBasedCursor`,
      `      incremental_sync:
        type: CustomIncrementalSync
        class_name: source_budget.components.Cursor
        _type: DatetimeBasedCursor`,
    );
    const r = importAirbyteManifest(text, { id: 'budget' });
    const left = r.issues.find((i) => i.stream === 'front_page' && i.effect === 'data');
    assert.ok(left);
    assert.match(left.message, /"stream_partition\.board" is not a partition or window value of this stream/);
    assert.ok(!('front_page' in (r.spec as { resources: object }).resources));
  });
});
