/**
 * The importer's resource auth (issue 20): a stream whose authenticator differs from the others' and
 * translates to a static type keeps it as its resource's own; other kinds are still left out.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { TODAY } from '../../src/import/airbyte/target.js';
import { parseSpec } from '../../src/spec/define.js';

const fixture = readFileSync('test/fixtures/airbyte/resource-auth.yaml', 'utf8');

describe('import airbyte: a stream with its own auth', () => {
  it('the most common auth is the spec’s; the other static one is the resource’s own', () => {
    const r = importAirbyteManifest(fixture, { id: 'tracker' });
    assert.deepEqual(r.issues, []);
    const spec = parseSpec(r.spec!, 'tracker');
    assert.deepEqual(spec.auth, {
      type: 'api-key',
      in: 'header',
      name: 'X-Tracker-Token',
      value: 'account_token',
    });
    assert.deepEqual(spec.resources.items!.auth, {
      type: 'api-key',
      in: 'header',
      name: 'X-Tracker-Token',
      value: 'project_token',
    });
    assert.equal(spec.resources.projects!.auth, undefined);
    assert.equal(spec.resources.teams!.auth, undefined);
    assert.deepEqual(Object.keys(spec.secrets).sort(), ['account_token', 'project_token']);
  });

  it('without the construct the stream is left out, as before', () => {
    const r = importAirbyteManifest(fixture, { id: 'tracker', constructs: TODAY });
    assert.deepEqual(Object.keys((r.spec as { resources: object }).resources).sort(), ['projects', 'teams']);
    assert.deepEqual(
      r.issues.map((i) => [i.stream, i.effect, i.message]),
      [
        [
          'items',
          'data',
          'it authenticates differently from the other streams (one auth per spec): the stream is left out',
        ],
      ],
    );
  });

  it('a stream with no auth among authenticated ones is still left out, saying why', () => {
    const text = fixture.replace(
      "authenticator: { $ref: '#/definitions/project_auth' }",
      'authenticator: { type: NoAuth }',
    );
    const r = importAirbyteManifest(text, { id: 'tracker' });
    assert.deepEqual(Object.keys((r.spec as { resources: object }).resources).sort(), ['projects', 'teams']);
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]!.stream, 'items');
    assert.match(r.issues[0]!.message, /with a none auth a resource cannot give as its own/);
  });
});
