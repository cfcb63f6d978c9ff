/** Imports the Airbyte manifests of test/fixtures/airbyte for the integration tests that sync them. */
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { BLOCKING } from '../../src/import/airbyte/report.js';
import { importAirbyteManifest } from '../../src/import/airbyte/translate.js';
import { loadSpec } from '../../src/spec/load.js';
import type { IntegrationSpec } from '../../src/spec/schema.js';

/**
 * Imports a fixture with its url_base (every match of `urlBase`) pointed at a simulator, asserts nothing
 * is lost, and loads the spec back through a YAML file in `dir`, as `validate` would.
 */
export async function importFixture(
  dir: string,
  name: string,
  id: string,
  base: string,
  urlBase: RegExp,
): Promise<IntegrationSpec> {
  return importFixtureHosts(dir, name, id, [[urlBase, base]]);
}

/** importFixture with several hosts pointed at servers (a login or token host beside the API's). */
export async function importFixtureHosts(
  dir: string,
  name: string,
  id: string,
  hosts: [RegExp | string, string][],
): Promise<IntegrationSpec> {
  let text = readFileSync(path.join('test/fixtures/airbyte', `${name}.yaml`), 'utf8');
  for (const [from, to] of hosts)
    text = typeof from === 'string' ? text.split(from).join(to) : text.replace(from, to);
  const result = importAirbyteManifest(text, { id });
  assert.deepEqual(
    result.issues.filter((i) => BLOCKING.has(i.effect)),
    [],
    `${name}: nothing lost`,
  );
  const file = path.join(dir, `${id}.yaml`);
  await fs.writeFile(file, stringify(result.spec));
  return loadSpec(file);
}
