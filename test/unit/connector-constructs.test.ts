/**
 * The connector constructs of issue 20 as pure functions: wildcard paths, computed and parent fields.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesAtPath, valueAtPath } from '../../src/json/path.js';
import { mapRecord } from '../../src/mapping/map-record.js';
import { integrationSpecSchema } from '../../src/spec/schema.js';
import { formatIssues } from '../../src/spec/errors.js';

const problems = (input: unknown) => {
  const r = integrationSpecSchema.safeParse(input);
  return r.success ? [] : formatIssues(r.error.issues).sort();
};

describe('wildcard paths', () => {
  const body = {
    data: [
      { id: 1, attributes: { title: 'a' }, tags: [{ name: 'x' }, { name: 'y' }] },
      { id: 2, attributes: { title: 'b' }, tags: [] },
      { id: 3 },
    ],
    byKey: { k1: { v: 1 }, k2: { v: 2 } },
  };

  it('match every item of a list or value of an object, in order; absent branches add nothing', () => {
    assert.deepEqual(valueAtPath(body, 'data.*.attributes'), [{ title: 'a' }, { title: 'b' }]);
    assert.deepEqual(valueAtPath(body, 'data.*.tags.*.name'), ['x', 'y']);
    assert.deepEqual(valueAtPath(body, 'byKey.*.v'), [1, 2]);
    assert.deepEqual(valueAtPath(body, 'nothing.*'), []);
    assert.deepEqual(matchesAtPath(body, 'data.0.id'), [1]);
    assert.equal(valueAtPath(body, 'data.0.id'), 1, 'without * a path gives one value');
  });

  it('work in field rules', () => {
    const m = mapRecord(
      { primaryKey: 'id', fields: { id: 'id', tags: { from: 'tags.*.name', type: 'json' } } },
      body.data[0],
    );
    assert.ok(m.ok);
    assert.deepEqual(m.record, { id: 1, tags: ['x', 'y'] });
  });
});

describe('computed and parent fields', () => {
  const context = (name: string) =>
    ({ 'parent.project': 'p1', 'window.start': '2026-01-01T00:00:00.000Z', 'config.region': 'eu' })[name];

  it('constants, templates over the record, the parent, config and the window; one placeholder keeps its type', () => {
    const m = mapRecord(
      {
        primaryKey: 'id',
        fields: {
          id: 'id',
          source: { const: 'api' },
          name: { value: '{record.owner.first} {record.owner.last|upper}' },
          project: { value: '{parent.project}' },
          region: { value: '{config.region}' },
          size: { value: '{record.size}' },
          size_text: { value: '{record.size}', type: 'string' },
          tags: { value: '{record.tags.*.name|join:,}' },
          window_start: { value: '{window.start}', type: 'timestamp' },
          day: { value: '{record.created|date}' },
          missing: { value: '{record.nope}', default: 'n/a' },
        },
      },
      {
        id: 7,
        size: 12,
        created: 1767225600,
        owner: { first: 'Ada', last: 'Lovelace' },
        tags: [{ name: 'a' }, { name: 'b' }],
      },
      context,
    );
    assert.ok(m.ok, m.ok ? '' : m.reason);
    assert.deepEqual(m.record, {
      id: 7,
      source: 'api',
      name: 'Ada LOVELACE',
      project: 'p1',
      region: 'eu',
      size: 12,
      size_text: '12',
      tags: 'a,b',
      window_start: '2026-01-01T00:00:00.000Z',
      day: '2026-01-01',
      missing: 'n/a',
    });
  });

  it('a value a filter cannot use quarantines the record with the field and the reason', () => {
    const m = mapRecord(
      { primaryKey: 'id', fields: { id: 'id', day: { value: '{record.x|date}' } } },
      { id: 1, x: 'soon' },
    );
    assert.ok(!m.ok);
    assert.match(m.reason, /^day: \{record\.x\|date\}: "soon" is not a time/);
  });

  it('validate names the field and what is wrong', () => {
    assert.deepEqual(
      problems({
        id: 't',
        baseUrl: 'https://api.example.com',
        resources: {
          items: {
            request: { path: '/items' },
            primaryKey: 'id',
            fields: {
              id: 'id',
              a: { value: '{parent.id}' },
              b: { value: '{window.start}' },
              c: { value: '{record.x|shout}' },
              d: { from: 'x', value: '{record.x}' },
              e: { value: '{cursor}' },
            },
          },
        },
      }),
      [
        'resources.items.fields.a.value: {parent.id} needs a parent section with params.id',
        'resources.items.fields.b.value: {window.start} needs an incremental section',
        'resources.items.fields.c.value: {record.x|shout}: unknown filter "shout": use iso, unix, unix-ms, date, a date pattern such as yyyy-MM-dd HH:mm, parse:<pattern>, tz:<zone>, plus:<duration>, minus:<duration>, default:<text>, upper, lower, trim, join:<separator>, nonempty, dq, sq, if:<a>:<b>, eq:<text>:<a>:<b>, or:<name>, split:<separator>:<index>, slice:<start>:<end>, replace:<from>:<to> or hash:<md5|sha1|sha256|sha512>',
        'resources.items.fields.d: give one of from, value or const',
        'resources.items.fields.e.value: {cursor}: unknown placeholder; use since, window.start, window.end, now, config.<field>, record.<path>',
      ],
    );
  });
});

describe('client-side incremental', () => {
  it('validate: no param needed; no windows or lag; descending needs clientSide', () => {
    const spec = (incremental: Record<string, unknown>) => ({
      id: 't',
      baseUrl: 'https://api.example.com',
      resources: { items: { request: { path: '/items' }, primaryKey: 'id', incremental } },
    });
    assert.deepEqual(problems(spec({ cursorField: 'updated', clientSide: true, order: 'descending' })), []);
    assert.deepEqual(
      problems(spec({ cursorField: 'updated', clientSide: true, step: '7d', lagSeconds: 5 })),
      [
        'resources.items.incremental.lagSeconds: clientSide reads everything the provider has: lagSeconds does not apply',
        'resources.items.incremental.step: a provider that cannot filter (clientSide) cannot be read in windows: remove step',
      ],
    );
    assert.deepEqual(problems(spec({ cursorField: 'updated', param: 'since', order: 'descending' })), [
      'resources.items.incremental.order: order: descending stops at the first old record, which needs clientSide: true',
    ]);
  });
});

describe('incremental without a filter (readsAll)', () => {
  it('validate: no param needed; nothing sent, skipped or ranged', () => {
    const spec = (incremental: Record<string, unknown>, query: Record<string, string> = {}) => ({
      id: 't',
      baseUrl: 'https://api.example.com',
      resources: { items: { request: { path: '/items', query }, primaryKey: 'id', incremental } },
    });
    assert.deepEqual(problems(spec({ cursorField: 'created', readsAll: true })), []);
    assert.deepEqual(
      problems(
        spec({
          cursorField: 'created',
          readsAll: true,
          clientSide: true,
          param: 'since',
          startDate: '2024-01-01',
          step: '7d',
        }),
      ),
      [
        'resources.items.incremental.clientSide: readsAll reads every record on every run: clientSide does not apply',
        'resources.items.incremental.param: readsAll reads every record on every run: param does not apply',
        'resources.items.incremental.startDate: readsAll reads every record on every run: startDate does not apply',
        'resources.items.incremental.step: a provider that cannot filter (clientSide) cannot be read in windows: remove step',
        'resources.items.incremental.step: readsAll reads every record on every run: step does not apply',
      ],
    );
    assert.deepEqual(problems(spec({ cursorField: 'created', readsAll: true }, { from: '{since}' })), [
      'resources.items.incremental.readsAll: readsAll sends no high-water mark: a request template uses {since} or {window.*}',
    ]);
    assert.deepEqual(problems(spec({ cursorField: 'created' })), [
      'resources.items.incremental.param: required: the query parameter of the high-water mark, unless a request template uses {since} or {window.start}, or clientSide: true or readsAll: true (the provider cannot filter)',
    ]);
  });
});

describe('append-only resources', () => {
  it('without a primaryKey the key is the sha256 of the mapped record, whatever its key order', () => {
    const a = mapRecord({ appendOnly: true } as never, { b: 1, a: 'x' });
    const b = mapRecord({ appendOnly: true } as never, { a: 'x', b: 1 });
    assert.ok(a.ok && b.ok);
    assert.match(a.key, /^[0-9a-f]{64}$/);
    assert.equal(a.key, b.key);
  });

  it('validate: a primaryKey or appendOnly; events on content-keyed records can only upsert', () => {
    assert.deepEqual(
      problems({
        id: 't',
        baseUrl: 'https://api.example.com',
        secrets: { s: 'webhook secret' },
        resources: {
          keyless: { request: { path: '/a' } },
          logs: { request: { path: '/logs' }, appendOnly: true },
        },
        webhooks: {
          signature: { scheme: 'github', secrets: ['s'] },
          eventId: { header: 'x-id' },
          eventType: { path: 'type' },
          events: {
            added: { action: 'upsert', resource: 'logs', record: 'entry' },
            removed: { action: 'delete', resource: 'logs', id: 'entry.id' },
          },
        },
      }),
      [
        'resources.keyless.primaryKey: required: the field(s) that identify a record; a resource without a natural key may say appendOnly: true (keyed by a hash of its content)',
        'webhooks.events.removed.action: resource "logs" is keyed by content (appendOnly without primaryKey): events can only upsert to it',
      ],
    );
  });
});

describe('session-token auth', () => {
  it('validate: login templates name declared secrets and config; one token source; the value places {token}', () => {
    assert.deepEqual(
      problems({
        id: 't',
        baseUrl: 'https://api.example.com',
        secrets: { username: 'login', password: 'password' },
        auth: {
          type: 'session-token',
          login: {
            path: '/login',
            headers: { 'x-org': '{config.org}' },
            body: { user: '{secrets.username}', pass: '{secrets.pasword}' },
          },
          tokenPath: 'token',
          tokenHeader: 'x-token',
          value: 'Session {tkn}',
        },
        resources: { items: { request: { path: '/items' }, primaryKey: 'id' } },
      }),
      [
        'auth.login.body: {secrets.pasword}: secret "pasword" is not declared in secrets (declared: username, password)',
        'auth.login.headers: {config.org}: "org" is not a connectionConfig field (declared: none)',
        'auth.tokenPath: give one of tokenPath (a path in the login answer) or tokenHeader',
        'auth.value: must place the token: {token}',
        'auth.value: {tkn}: only {token} is available here',
      ],
    );
  });
});
