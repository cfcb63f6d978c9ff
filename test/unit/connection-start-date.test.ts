/**
 * `incremental.startDate: '{config.<field>}'`: a start date per connection. `validate` checks the field
 * by path; a run reads the connection's value (an empty one reads from the provider's beginning, one
 * that is not a date fails the run as a configuration error).
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
      /resources\.items\.incremental\.startDate.*expected an ISO date or time .* or \{config\.<field>\}/s,
    );
    assert.throws(() => parseSpec(spec('{config.start_date|date}', {}), 'x'), /incremental\.startDate/);
  });

  it("a run reads the connection's value; empty means no start; a literal is left alone", () => {
    const inc = { cursorField: 'u', startDate: '{config.start_date}' };
    assert.deepEqual(withConnectionStart(inc, { start_date: '2024-05-01' }, 'c'), {
      cursorField: 'u',
      startDate: '2024-05-01',
    });
    assert.equal(
      withConnectionStart(inc, { start_date: '2024-05-01T10:00:00+02:00' }, 'c')!.startDate,
      '2024-05-01T10:00:00+02:00',
    );
    assert.equal(withConnectionStart(inc, {}, 'c')!.startDate, undefined);
    assert.equal(withConnectionStart(inc, { start_date: '' }, 'c')!.startDate, undefined);
    const literal = { cursorField: 'u', startDate: '2025-01-01' };
    assert.equal(withConnectionStart(literal, {}, 'c'), literal);
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
          /^connection acme\/c1: config\.start_date \(incremental\.startDate\) is not an ISO date/.test(
            e.message,
          ) &&
          !e.message.includes(String(bad)),
      );
    }
  });
});
