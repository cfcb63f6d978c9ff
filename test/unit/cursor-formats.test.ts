/**
 * Cursor values in a date pattern (`incremental.cursorFormat`, the `parse:` filter) and a step taken
 * from the connection's config (`{config.x|default:n}d`): reading, validation by path, resolution, and
 * the Airbyte importer's mapping of test/fixtures/airbyte/cursor-formats.yaml.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BLOCKING } from '../../src/import/airbyte/report.js';
import { patternOf } from '../../src/import/airbyte/datetime.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { parseSpec } from '../../src/spec/define.js';
import { resolveStep, StepValueError } from '../../src/spec/step.js';
import { highWaterOf, recordCursorMs } from '../../src/sync/windows.js';
import { StartDateValueError, withConnectionStart } from '../../src/sync/run-bounds.js';
import { parsePatternTime, timePatternProblem } from '../../src/template/parse-time.js';
import { fillTemplate } from '../../src/template/template.js';

const at = (text: string, pattern: string) => {
  const ms = parsePatternTime(text, pattern);
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

describe('times written in a date pattern', () => {
  it('reads the fields as UTC, one or two digits where strptime takes them', () => {
    assert.equal(at('20260315', 'yyyyMMdd'), '2026-03-15T00:00:00.000Z');
    assert.equal(at('15/03/2026 12:34', 'dd/MM/yyyy HH:mm'), '2026-03-15T12:34:00.000Z');
    assert.equal(at('5/3/2026 7:04', 'dd/MM/yyyy HH:mm'), '2026-03-05T07:04:00.000Z');
    assert.equal(at('31-12-2026', 'dd-MM-yyyy'), '2026-12-31T00:00:00.000Z');
    assert.equal(at('2026.01.02 03:04:05.678', 'yyyy.MM.dd HH:mm:ss.SSS'), '2026-01-02T03:04:05.678Z');
    assert.equal(at('0099-01-02', 'yyyy-MM-dd'), '0099-01-02T00:00:00.000Z');
  });

  it('refuses text that does not match, or a date that does not exist', () => {
    assert.equal(at('2026-03-15', 'yyyyMMdd'), undefined);
    assert.equal(at('15/03/2026', 'dd/MM/yyyy HH:mm'), undefined);
    assert.equal(at('31/02/2026', 'dd/MM/yyyy'), undefined);
    assert.equal(at('15/13/2026', 'dd/MM/yyyy'), undefined);
    assert.equal(at('15/03/2026 24:00', 'dd/MM/yyyy HH:mm'), undefined);
    assert.equal(at('x15/03/2026', 'dd/MM/yyyy'), undefined);
  });

  it('a pattern names the year, month and day, each field once, and no finer field without the coarser', () => {
    assert.equal(timePatternProblem('dd/MM/yyyy HH:mm'), undefined);
    assert.match(timePatternProblem('MM/yyyy')!, /has no dd/);
    assert.match(timePatternProblem('yyyy-MM-dd dd')!, /has dd twice/);
    assert.match(timePatternProblem('yyyy-MM-dd mm')!, /mm without HH/);
    assert.match(timePatternProblem('yyyy-MM-dd HH:ss')!, /ss without mm/);
  });

  it('parse:<pattern> reads a config text as a time; other text fails without quoting it', () => {
    const vars = (name: string) => ({ 'config.start': '15/03/2026 12:34', 'config.bad': 'soon' })[name];
    assert.equal(fillTemplate('{config.start|parse:dd/MM/yyyy HH:mm}', vars), '2026-03-15T12:34:00.000Z');
    assert.equal(fillTemplate('{config.start|parse:dd/MM/yyyy HH:mm|yyyyMMdd}', vars), '20260315');
    assert.throws(
      () => fillTemplate('{config.bad|parse:dd/MM/yyyy}', vars),
      (e: Error) => /not a time written as dd\/MM\/yyyy/.test(e.message) && !e.message.includes('soon'),
    );
  });

  it('a record cursor read by cursorFormat compares as a time; the high-water mark is ISO', () => {
    const inc = { format: 'iso' as const, cursorFormat: 'dd/MM/yyyy HH:mm' };
    assert.ok(recordCursorMs('01/03/2026 00:00', inc) > recordCursorMs('31/01/2026 00:00', inc));
    assert.ok(Number.isNaN(recordCursorMs('2026-03-01', inc)));
    assert.equal(highWaterOf('01/03/2026 10:00', inc), '2026-03-01T10:00:00.000Z');
    assert.equal(highWaterOf('tomorrow', inc), null);
    assert.equal(highWaterOf('2026-03-01T10:00:00Z', { format: 'iso' }), '2026-03-01T10:00:00Z');
  });
});

const spec = (incremental: Record<string, unknown>, connectionConfig: Record<string, unknown> = {}) => ({
  id: 'x',
  baseUrl: 'https://api.example.com',
  connectionConfig,
  resources: {
    items: {
      request: { path: '/items', query: { from: '{window.start}', to: '{window.end}' } },
      primaryKey: 'id',
      incremental: { cursorField: 'updated', ...incremental },
    },
  },
});

describe('incremental.cursorFormat and a step from config in a spec', () => {
  it('validate accepts a pattern, and a config step of a number field', () => {
    const s = parseSpec(
      spec(
        { cursorFormat: 'dd/MM/yyyy HH:mm', step: '{config.days|default:7}d' },
        { days: { type: 'number', required: false } },
      ),
      'x',
    );
    assert.equal(s.resources.items!.incremental!.cursorFormat, 'dd/MM/yyyy HH:mm');
    assert.equal(s.resources.items!.incremental!.step, '{config.days|default:7}d');
  });

  it('validate refuses by path', () => {
    const refused: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{ cursorFormat: 'MM/yyyy' }, {}, /resources\.items\.incremental\.cursorFormat: "MM\/yyyy" has no dd/],
      [
        { cursorFormat: 'yyyyMMdd', format: 'unix' },
        {},
        /resources\.items\.incremental\.cursorFormat: cursor values are unix numbers \(format: unix\) or written in cursorFormat, not both/,
      ],
      [
        { step: '{config.days}d' },
        { region: { type: 'string' } },
        /resources\.items\.incremental\.step: "days" is not a connectionConfig field \(declared: region\)/,
      ],
      [
        { step: '{config.days}d' },
        { days: { type: 'string' } },
        /resources\.items\.incremental\.step: "days" is a string field: a step's length is a number field/,
      ],
      [
        { step: '{config.days|default:0}d' },
        { days: { type: 'number' } },
        /resources\.items\.incremental\.step/,
      ],
      [
        { step: '{config.days|default:7}w' },
        { days: { type: 'number' } },
        /resources\.items\.incremental\.step/,
      ],
    ];
    for (const [inc, config, message] of refused)
      assert.throws(() => parseSpec(spec(inc, config), 'x'), message);
  });

  it('a config step takes the connection value, else the default; a bad value is a connection error, unquoted', () => {
    assert.equal(resolveStep('{config.days|default:7}d', { days: 30 }, 'c'), '30d');
    assert.equal(resolveStep('{config.days|default:7}d', { days: '12' }, 'c'), '12d');
    assert.equal(resolveStep('{config.days|default:7}d', {}, 'c'), '7d');
    assert.equal(resolveStep('{config.hours}h', { hours: 6 }, 'c'), '6h');
    assert.equal(resolveStep('7d', {}, 'c'), '7d');
    assert.equal(resolveStep(3600, {}, 'c'), 3600);
    assert.throws(() => resolveStep('{config.hours}h', {}, 'c'), StepValueError);
    assert.throws(
      () => resolveStep('{config.days|default:7}d', { days: -2.5 }, 'conn a'),
      (e: Error) =>
        e instanceof StepValueError &&
        /conn a: incremental\.step/.test(e.message) &&
        !e.message.includes('2.5'),
    );
    const run = withConnectionStart({ step: '{config.days|default:7}d' }, { days: 2 }, 'c');
    assert.equal(run?.step, '2d');
    assert.throws(
      () => withConnectionStart({ step: '{config.days}d' }, { days: 'x' }, 'c'),
      StartDateValueError,
    );
  });
});

describe('import airbyte: cursor formats and config steps', () => {
  it('strftime formats a pattern reads back, and those it does not', () => {
    assert.equal(patternOf('%Y%m%d'), 'yyyyMMdd');
    assert.equal(patternOf('%d/%m/%Y %H:%M'), 'dd/MM/yyyy HH:mm');
    assert.equal(patternOf('%d-%m-%Y'), 'dd-MM-yyyy');
    assert.equal(patternOf('%d/%m/%Y %H:%M%z'), undefined, 'any offset for %z');
    assert.equal(patternOf('%Y%m%d%H%M%S.%f'), undefined, 'six digits for %f');
    assert.equal(patternOf('%m/%Y'), undefined, 'no day');
    assert.equal(patternOf('%b %d %Y'), undefined, 'month names');
  });

  it('the fixture: cursorFormat, a config start date read by its pattern, a step from config with its default', () => {
    const text = readFileSync('test/fixtures/airbyte/cursor-formats.yaml', 'utf8');
    const result = importAirbyteManifest(text, { id: 'visits' });
    assert.deepEqual(
      result.issues.filter((i) => BLOCKING.has(i.effect)),
      [],
    );
    const { visits, rates } = result.spec!.resources as Record<
      string,
      { incremental?: unknown; request: unknown }
    >;
    assert.deepEqual(visits!.incremental, {
      cursorField: 'logged_at',
      cursorFormat: 'dd/MM/yyyy HH:mm',
      step: '{config.days_per_request|default:10}d',
      startDate: '{config.start_date|parse:dd/MM/yyyy HH:mm}',
    });
    assert.deepEqual(visits!.request, {
      path: '/visits',
      query: { from: '{window.start|dd/MM/yyyy HH:mm}', to: '{window.end|dd/MM/yyyy HH:mm}' },
    });
    assert.deepEqual(rates!.incremental, {
      cursorField: 'day',
      cursorFormat: 'yyyyMMdd',
      startDate: '{config.start_date|parse:dd/MM/yyyy HH:mm}',
    });
    assert.deepEqual((result.spec!.connectionConfig as Record<string, unknown>).days_per_request, {
      type: 'number',
      required: false,
      description: 'Days per request',
    });
    // A response filter without a condition matches nothing in Airbyte: no rule, a note.
    assert.equal((visits as Record<string, unknown>).responseRules, undefined);
    assert.ok(
      result.issues.some(
        (i) =>
          i.effect === 'note' &&
          i.path === 'definitions.requester.error_handler.error_handlers.0.response_filters.0' &&
          /matches no answer in Airbyte/.test(i.message),
      ),
    );
    assert.deepEqual(
      result.issues.filter((i) => i.effect !== 'note'),
      [],
      'imported fully',
    );
    // And it validates.
    parseSpec(result.spec, 'visits');
  });

  it('reports what it cannot read exactly: two cursor formats, a zone, a step from a text field or a computed default', () => {
    const manifest = (cursor: string, props = '') => `
version: 6.0.0
type: DeclarativeSource
check: { type: CheckStream, stream_names: [s] }
streams:
  - type: DeclarativeStream
    name: s
    primary_key: id
    retriever:
      type: SimpleRetriever
      requester: { type: HttpRequester, url_base: https://a.test, path: /s, http_method: GET }
      record_selector: { type: RecordSelector, extractor: { type: DpathExtractor, field_path: [] } }
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: t
      start_time_option: { type: RequestOption, inject_into: request_parameter, field_name: from }
      start_datetime: '2026-01-01T00:00:00Z'
${cursor}
spec:
  type: Spec
  connection_specification:
    type: object
    properties:
      label: { type: string }
      days: { type: integer }${props}
`;
    const issues = (cursor: string) =>
      importAirbyteManifest(manifest(cursor), { id: 's' }).issues.filter((i) => i.effect !== 'note');
    assert.match(
      issues("      datetime_format: '%Y-%m-%d'\n      cursor_datetime_formats: ['%d/%m/%Y', '%Y%m%d']")[0]!
        .message,
      /"%d\/%m\/%Y" are not read as times/,
    );
    assert.match(issues("      datetime_format: '%d/%m/%Y %z'")[0]!.message, /not read as times/);
    assert.match(
      issues(
        "      datetime_format: '%Y%m%d'\n      step: \"P{{ config['label'] }}D\"\n      end_time_option: { type: RequestOption, inject_into: request_parameter, field_name: to }",
      )[0]!.message,
      /computed \(from config\)/,
    );
    assert.match(
      issues(
        "      datetime_format: '%Y%m%d'\n      step: \"P{{ config.get('days', config['label']) }}D\"\n      end_time_option: { type: RequestOption, inject_into: request_parameter, field_name: to }",
      )[0]!.message,
      /computed \(from config\)/,
    );
    assert.deepEqual(
      issues(
        "      datetime_format: '%Y%m%d'\n      step: \"P{{ config['days'] }}D\"\n      end_time_option: { type: RequestOption, inject_into: request_parameter, field_name: to }",
      ),
      [],
    );
  });
});
