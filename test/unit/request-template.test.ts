/**
 * Request templates and incremental windows: filling, typing, omission, time formats, query-language
 * quoting against injection, header injection, and the windows a range is sliced into.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fillBody,
  fillRecord,
  fillString,
  TemplateError,
  type TemplateValue,
} from '../../src/http/request-template.js';
import { integrationSpecSchema } from '../../src/spec/schema.js';
import { formatIssues } from '../../src/spec/errors.js';
import { firstWindow, isPastEnd, nextWindow, sinceOf, type Window } from '../../src/sync/windows.js';

const vars =
  (values: Record<string, TemplateValue>) =>
  (name: string): TemplateValue | undefined =>
    values[name];

describe('request templates', () => {
  const v = vars({
    cursor: 'abc',
    limit: 100,
    since: '2026-11-03T04:05:06.789Z',
    'config.project': 'PRJ',
    'parent.id': '42',
  });

  it('keep a whole placeholder typed in a body and leave out what has no value', () => {
    const body = fillBody(
      {
        start_cursor: '{cursor}',
        page_size: '{limit}',
        filter: { timestamp: 'last_edited_time', after: '{since}', tags: ['{config.project}', 'x'] },
        missing: '{page}',
        text: 'page {page} of {config.project}',
      },
      v,
    );
    assert.deepEqual(body, {
      start_cursor: 'abc',
      page_size: 100,
      filter: { timestamp: 'last_edited_time', after: '2026-11-03T04:05:06.789Z', tags: ['PRJ', 'x'] },
      text: 'page  of PRJ',
    });
    const first = fillBody({ start_cursor: '{cursor}', page_size: '{limit}' }, vars({ limit: 10 }));
    assert.deepEqual(first, { page_size: 10 }, "Notion's first page has no start_cursor");
    const optional = { 'filter?': { on_or_after: '{since}', t: 'x' }, n: 1 };
    assert.deepEqual(
      fillBody(optional, vars({})),
      { n: 1 },
      'a ?-key is left out when a value inside is missing',
    );
    assert.deepEqual(fillBody(optional, v), {
      filter: { on_or_after: '2026-11-03T04:05:06.789Z', t: 'x' },
      n: 1,
    });
  });

  it('format times: iso, unix, unix-ms, date and patterns', () => {
    assert.equal(fillString('{since|unix}', v, 'query'), '1793678706');
    assert.equal(fillString('{since|unix}', v, 'body'), 1793678706);
    assert.equal(fillString('{since|unix-ms}', v, 'body'), 1793678706789);
    assert.equal(fillString('{since|date}', v, 'query'), '2026-11-03');
    assert.equal(
      fillString('updated >= "{since|yyyy/MM/dd HH:mm}"', v, 'query'),
      'updated >= "2026/11/03 04:05"',
    );
    assert.equal(
      fillString('{since|yyyy-MM-ddTHH:mm:ss.SSSZ}', vars({ since: '1762142706' }), 'query'),
      '2025-11-03T04:05:06.000Z',
    );
    assert.throws(() => fillString('{cursor|unix}', v, 'query'), TemplateError);
  });

  it('write date patterns as wall-clock times of a time zone (Intl), iso staying UTC', () => {
    const ny = { timeZone: 'America/New_York' };
    // 04:05 UTC on 3 November 2026 is 23:05 the day before in New York (EST, UTC-5).
    assert.equal(fillString('{since|yyyy/MM/dd HH:mm}', v, 'query', ny), '2026/11/02 23:05');
    assert.equal(fillString('{since|date}', v, 'query', ny), '2026-11-02');
    assert.equal(fillString('{since|iso}', v, 'query', ny), '2026-11-03T04:05:06.789Z');
    // Summer time: UTC-4.
    assert.equal(fillString('{since|HH:mm}', vars({ since: '2026-07-01T12:00:00Z' }), 'query', ny), '08:00');
    // A filter argument overrides the zone for the patterns after it, in every place.
    assert.equal(
      fillString('{since|tz:Asia/Kolkata|yyyy-MM-dd HH:mm:ss}', v, 'query'),
      '2026-11-03 09:35:06',
    );
    assert.equal(fillString('{since|tz:UTC|HH:mm}', v, 'query', ny), '04:05');
    assert.deepEqual(fillBody({ q: 'after {since|HH:mm}' }, v, { timeZone: 'Asia/Tokyo' }), {
      q: 'after 13:05',
    });
    assert.deepEqual(fillRecord({ q: '{since|HH}' }, v, 'query', { timeZone: 'Europe/Berlin' }), { q: '05' });
    assert.throws(
      () => fillString('{since|tz:Mars/Olympus|HH}', v, 'query'),
      /unknown time zone "Mars\/Olympus"/,
    );
  });

  it('quote values inside query languages so they cannot break out (JQL, SOQL)', () => {
    const evil = vars({ 'config.project': 'X" OR project != "Y', 'config.name': "O'Brien\\' OR Id != '" });
    assert.equal(
      fillString('project = "{config.project|dq}"', evil, 'query'),
      'project = "X\\" OR project != \\"Y"',
    );
    assert.equal(
      fillString("SELECT Id FROM Account WHERE Name = '{config.name|sq}'", evil, 'query'),
      "SELECT Id FROM Account WHERE Name = 'O\\'Brien\\\\\\' OR Id != \\''",
    );
  });

  it('refuse a header value with a line break; query values are encoded by the URL', () => {
    assert.throws(
      () =>
        fillRecord(
          { 'x-tenant': '{config.project}' },
          vars({ 'config.project': 'a\r\nX-Evil: 1' }),
          'header',
        ),
      /line break/,
    );
    const q = fillRecord(
      { q: 'a&b={config.project}', after: '{cursor}' },
      vars({ 'config.project': '#?' }),
      'query',
    );
    assert.deepEqual(q, { q: 'a&b=#?' });
    const url = new URL('https://x/y');
    for (const [k, val] of Object.entries(q)) url.searchParams.set(k, val);
    assert.equal(url.search, '?q=a%26b%3D%23%3F');
  });
});

describe('spec checks of templates', () => {
  const spec = (resource: Record<string, unknown>) =>
    integrationSpecSchema.safeParse({
      id: 't',
      baseUrl: 'https://api.example.com',
      connectionConfig: { project: { type: 'string' } },
      resources: { r: { request: { path: '/r' }, primaryKey: 'id', ...resource } },
    });
  const problems = (resource: Record<string, unknown>) => {
    const r = spec(resource);
    return r.success ? [] : formatIssues(r.error.issues);
  };

  it('name every unknown placeholder, filter and misplaced name by path', () => {
    const p = problems({
      request: {
        path: '/r',
        method: 'POST',
        query: { a: '{nope}', b: '{since|yyyy}', c: '{config.other}' },
        body: { after: '{cursor}', when: '{since|weird}' },
      },
    });
    assert.ok(
      p.some((l) => /resources\.r\.request\.query: \{nope\}: unknown placeholder/.test(l)),
      p.join('\n'),
    );
    assert.ok(
      p.some((l) => /\{since\|yyyy\} needs an incremental section/.test(l)),
      p.join('\n'),
    );
    assert.ok(
      p.some((l) => /"other" is not a connectionConfig field/.test(l)),
      p.join('\n'),
    );
    assert.ok(
      p.some((l) => /request\.body: \{cursor\} needs pagination type "cursor"/.test(l)),
      p.join('\n'),
    );
    assert.ok(
      p.some((l) => /unknown filter "weird"/.test(l)),
      p.join('\n'),
    );
  });

  it('check time zones by path: IANA names, tz: filters and {config.*} zones', () => {
    const zoned = (top: Record<string, unknown>, resource: Record<string, unknown>) => {
      const r = integrationSpecSchema.safeParse({
        id: 't',
        baseUrl: 'https://api.example.com',
        connectionConfig: { project: { type: 'string' } },
        ...top,
        resources: { r: { request: { path: '/r' }, primaryKey: 'id', ...resource } },
      });
      return r.success ? [] : formatIssues(r.error.issues);
    };
    assert.deepEqual(zoned({ timeZone: 'America/New_York' }, { timeZone: '{config.project}' }), []);
    assert.ok(
      zoned({ timeZone: 'Eastern' }, {}).some((l) => /^timeZone: unknown time zone "Eastern"/.test(l)),
    );
    assert.ok(
      zoned({}, { timeZone: '{config.zone}' }).some((l) =>
        /^resources\.r\.timeZone: \{config\.zone\}: "zone" is not a connectionConfig field/.test(l),
      ),
    );
    assert.ok(
      zoned(
        {},
        {
          request: { path: '/r', query: { q: '{since|tz:Nowhere|HH}' } },
          incremental: { cursorField: 'u' },
        },
      ).some((l) => /request\.query: .*unknown time zone "Nowhere"/.test(l)),
    );
  });

  it('incremental needs a param unless a template places the since', () => {
    assert.ok(
      problems({ incremental: { cursorField: 'u' } }).some((l) => /incremental\.param: required/.test(l)),
    );
    assert.deepEqual(
      problems({
        request: { path: '/r', query: { jql: 'updated >= "{since|yyyy/MM/dd HH:mm|dq}"' } },
        incremental: { cursorField: 'u', step: '7d', startDate: '2026-01-01' },
      }),
      [],
    );
    assert.ok(
      problems({ incremental: { cursorField: 'u', param: 's', step: '7x' } }).some((l) => /"7d"/.test(l)),
    );
  });
});

describe('incremental windows', () => {
  const cfg = {
    format: 'iso' as const,
    lookbackSeconds: 3600,
    startDate: '2026-01-01',
    step: '7d',
    lagSeconds: 60,
  };
  const now = Date.parse('2026-01-20T00:00:00Z');

  it('start at the high-water mark less lookback, else at startDate', () => {
    assert.equal(sinceOf(cfg, '2026-01-10T05:00:00Z'), '2026-01-10T04:00:00.000Z');
    assert.equal(sinceOf(cfg, null), '2026-01-01T00:00:00.000Z');
    assert.equal(sinceOf({ ...cfg, format: 'unix' }, '1767225600'), '2025-12-31T23:00:00.000Z');
    assert.equal(sinceOf({ ...cfg, startDate: undefined }, null), null);
  });

  it('slice the range into steps up to now minus the lag', () => {
    const windows: Window[] = [];
    for (let w = firstWindow(cfg, sinceOf(cfg, null), now); w; w = nextWindow(cfg, w)) windows.push(w);
    assert.deepEqual(
      windows.map((w) => [w.start.slice(0, 10), w.end.slice(0, 19)]),
      [
        ['2026-01-01', '2026-01-08T00:00:00'],
        ['2026-01-08', '2026-01-15T00:00:00'],
        ['2026-01-15', '2026-01-19T23:59:00'],
      ],
    );
    assert.ok(
      windows.every((w) => w.until === '2026-01-19T23:59:00.000Z'),
      'one upper bound for the run',
    );
  });

  it('end at endDate instead of the run: before now, ahead of now (no lag), or capped by a lag', () => {
    const ends = (c: typeof cfg & { endDate?: string }) => {
      const out: string[] = [];
      for (let w = firstWindow(c, sinceOf(c, null), now); w; w = nextWindow(c, w)) out.push(w.end);
      return out;
    };
    assert.deepEqual(ends({ ...cfg, endDate: '2026-01-10T00:00:00.000Z' }), [
      '2026-01-08T00:00:00.000Z',
      '2026-01-10T00:00:00.000Z',
    ]);
    assert.deepEqual(
      ends({ ...cfg, lagSeconds: 0, endDate: '2026-01-25T00:00:00.000Z' }).at(-1),
      '2026-01-25T00:00:00.000Z',
    );
    assert.deepEqual(
      ends({ ...cfg, endDate: '2026-01-25T00:00:00.000Z' }).at(-1),
      '2026-01-19T23:59:00.000Z',
    );
  });

  it('a start past the end is a window with nothing to read', () => {
    const c = { ...cfg, endDate: '2026-01-05T00:00:00.000Z' };
    const w = firstWindow(c, sinceOf(c, '2026-01-08T00:00:00Z'), now)!;
    assert.equal(isPastEnd(w), true);
    assert.equal(nextWindow(c, w), null);
    assert.equal(isPastEnd(firstWindow(cfg, sinceOf(cfg, null), now)!), false);
  });
});
