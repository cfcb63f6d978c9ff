/**
 * An authenticator named only by its Python class (Fastbill's, `type` left out) is reported as custom
 * code, not as an unknown `undefined` type.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';

const fixture = readFileSync('test/fixtures/airbyte/response-success.yaml', 'utf8');

describe('import airbyte: a custom authenticator', () => {
  it('without a type, says it is Python code', () => {
    const text = fixture.replace(
      / {4}authenticator:\n {6}type: ApiKeyAuthenticator\n[^\n]*\n[^\n]*\n/,
      '    authenticator:\n      class_name: source_declarative_manifest.components.CustomAuthenticator\n      username: "{{ config[\'api_key\'] }}"\n',
    );
    assert.notEqual(text, fixture);
    const r = importAirbyteManifest(text, { id: 'reports' });
    assert.ok(r.issues.length > 0);
    for (const i of r.issues.filter((x) => x.path.endsWith('authenticator')))
      assert.match(
        i.message,
        /^the custom authenticator source_declarative_manifest\.components\.CustomAuthenticator is Python code, which Syncwright does not run/,
      );
    assert.ok(r.issues.some((x) => x.path.endsWith('authenticator')));
  });
});
