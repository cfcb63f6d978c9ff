/**
 * `incremental.startDate` / `endDate`: a date, `{config.<field>}`, a template over config and `{now}`,
 * or a list of them (the first with a value wins). `validate` checks them by path; a run resolves them
 * from the connection's config and its start time (an empty value has none; one that is not a date
 * fails the run as a configuration error).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PathValueError } from '../../src/http/path-template.js';
import { parseSpec } from '../../src/spec/define.js';
import { StartDateValueError, withConnectionStart } from '../../src/sync/spec-page-source.js';

const spec = (startDate: unknown, connectionConfig: Record<string, unknown> = {}) => ({
  id: 'x',
  baseUrl: 'https://api.example.com',
  connectionConfig,
  resources: {
    items: {
      request: { path: '/items', query: { since: '{since}' } },
      primaryKey: 'id',
      incremental: { cursorField: 'updated_at', startDate },
    },
  },
});

describe('incremental.startDate from the connection config', () => {
  it('validate accepts a declared string field, a date and a time', () => {
    const s = parseSpec(spec('{config.start_date}', { start_date: { type: 'string' } }), 'x');
    assert.equal(s.resources.items!.incremental!.startDate, '{config.start_date}');
    parseSpec(spec('2025-01-01'), 'x');
    parseSpec(spec('2025-01-01T00:00:00Z'), 'x');
  });

  it('validate refuses an undeclared field, a non-string field and text that is neither, by path', () => {
    assert.throws(
      () => parseSpec(spec('{config.start_date}', { region: { type: 'string' } }), 'x'),
      /resources\.items\.incremental\.startDate.*"start_date" is not a connectionConfig field \(declared: region\)/s,
    );
    assert.throws(
      () => parseSpec(spec('{config.days}', { days: { type: 'number' } }), 'x'),
      /resources\.items\.incremental\.startDate.*"days" must be a string field/s,
    );
    assert.throws(
      () => parseSpec(spec('last tuesday'), 'x'),
      /resources\.items\.incremental\.startDate: "last tuesday": expected an ISO date or time .* \{config\.<field>\} or a template/s,
    );
    assert.throws(() => parseSpec(spec('{config.start_date|date}', {}), 'x'), /incremental\.startDate/);
  });

  it("a run reads the connection's value; empty means no start; a literal is left alone", () => {
    const inc = { cursorField: 'u', startDate: '{config.start_date}' };
    assert.deepEqual(withConnectionStart(inc, { start_date: '2024-05-01' }, 'c'), {
      cursorField: 'u',
      startDate: '2024-05-01T00:00:00.000Z',
    });
    assert.equal(
      withConnectionStart(inc, { start_date: '2024-05-01T10:00:00+02:00' }, 'c')!.startDate,
      '2024-05-01T08:00:00.000Z',
    );
    assert.deepEqual(withConnectionStart(inc, {}, 'c'), { cursorField: 'u' });
    assert.deepEqual(withConnectionStart(inc, { start_date: '' }, 'c'), { cursorField: 'u' });
    const literal = { cursorField: 'u', startDate: '2025-01-01' };
    assert.deepEqual(withConnectionStart(literal, {}, 'c'), {
      cursorField: 'u',
      startDate: '2025-01-01T00:00:00.000Z',
    });
    assert.equal(withConnectionStart(undefined, {}, 'c'), undefined);
  });

  it('a value that is not a date is a configuration error naming the connection and field, not the value', () => {
    const inc = { cursorField: 'u', startDate: '{config.start_date}' };
    for (const bad of ['yesterday', 'private-text-123', 20240501]) {
      assert.throws(
        () => withConnectionStart(inc, { start_date: bad }, 'connection acme/c1'),
        (e: unknown) =>
          e instanceof StartDateValueError &&
          e instanceof PathValueError &&
          /^connection acme\/c1: incremental\.startDate: \{config\.start_date\} is not an ISO date/.test(
            e.message,
          ) &&
          !e.message.includes(String(bad)),
      );
    }
  });
});

describe('relative and computed bounds (startDate, endDate)', () => {
  const now = Date.parse('2026-03-15T12:34:56.789Z');
  const config = { start_date: { type: 'string' }, end_date: { type: 'string' }, from: { type: 'number' } };
  const withBounds = (incremental: Record<string, unknown>, cc: Record<string, unknown> = config) => ({
    id: 'x',
    baseUrl: 'https://api.example.com',
    connectionConfig: cc,
    resources: {
      items: {
        request: { path: '/items', query: { from: '{window.start}', to: '{window.end}' } },
        primaryKey: 'id',
        incremental: { cursorField: 'updated_at', ...incremental },
      },
    },
  });

  it('validate accepts templates over now and config, and lists of them', () => {
    const s = parseSpec(
      withBounds({
        startDate: ['{config.start_date}', '{now|minus:P30D|date}'],
        endDate: ['{config.end_date}', '{now|minus:P1D}'],
      }),
      'x',
    );
    assert.deepEqual(s.resources.items!.incremental!.startDate, [
      '{config.start_date}',
      '{now|minus:P30D|date}',
    ]);
    parseSpec(withBounds({ startDate: '{config.from|iso}', endDate: '2026-01-01' }), 'x');
  });

  it('validate refuses other names, bad filters and undeclared fields, by path', () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ startDate: '{record.x}' }, /incremental\.startDate.*\{record\.x\} is not available here/s],
      [
        { startDate: ['{config.start_date}', '{now|minus:thirty}'] },
        /incremental\.startDate\[1\]: .*"thirty" is not a duration/s,
      ],
      [{ endDate: '{config.stop}' }, /incremental\.endDate.*"stop" is not a connectionConfig field/s],
      [
        { startDate: '{config.from}' },
        /incremental\.startDate.*"from" must be a string field .*\{config\.from\|iso\}/s,
      ],
      [{ endDate: 'soon' }, /incremental\.endDate.*"soon": expected an ISO date or time/s],
    ];
    for (const [inc, message] of refused) assert.throws(() => parseSpec(withBounds(inc), 'x'), message);
  });

  it("a run resolves them at its start: the connection's value first, else the relative date", () => {
    const inc = {
      cursorField: 'u',
      startDate: ['{config.start_date}', '{now|minus:P30D|yyyy-MM-ddTHH:mm:ssZ}'],
      endDate: ['{config.end_date}', '{now|minus:P1D}'],
    };
    assert.deepEqual(withConnectionStart(inc, {}, 'c', now), {
      cursorField: 'u',
      startDate: '2026-02-13T12:34:56.000Z',
      endDate: '2026-03-14T12:34:56.789Z',
    });
    assert.deepEqual(withConnectionStart(inc, { start_date: '2025-01-01', end_date: '' }, 'c', now), {
      cursorField: 'u',
      startDate: '2025-01-01T00:00:00.000Z',
      endDate: '2026-03-14T12:34:56.789Z',
    });
    // A unix-seconds number read by a filter; a text template with a missing part has no value.
    assert.equal(
      withConnectionStart(
        { cursorField: 'u', startDate: '{config.from|iso}' },
        { from: 1767225600 },
        'c',
        now,
      )!.startDate,
      '2026-01-01T00:00:00.000Z',
    );
    assert.deepEqual(
      withConnectionStart({ cursorField: 'u', startDate: '{config.year}-01-01' }, {}, 'c', now),
      { cursorField: 'u' },
    );
    assert.throws(
      () =>
        withConnectionStart(
          { cursorField: 'u', endDate: '{config.end_date|iso}' },
          { end_date: 'later' },
          'connection a/b',
          now,
        ),
      (e: unknown) =>
        e instanceof StartDateValueError &&
        /^connection a\/b: incremental\.endDate: \{config\.end_date\|iso\} does not give a date or time$/.test(
          e.message,
        ),
    );
  });
});
