import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/syncwright.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '', SYNCWRIGHT_HOME: os.tmpdir(), ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('syncwright CLI', () => {
  it('lists its commands', () => {
    const r = cli(['--help']);
    assert.equal(r.code, 0);
    for (const c of [
      'demo',
      'up',
      'worker',
      'migrate',
      'validate',
      'connection',
      'sync',
      'schedule',
      'runs',
      'run',
      'records',
    ]) {
      assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`), c);
    }
  });

  it('validate: prints every problem with its path and exits non-zero', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-cli-'));
    const file = path.join(dir, 'bad.json');
    await fs.writeFile(
      file,
      JSON.stringify({
        id: 'x',
        baseUrl: 'http://x',
        resources: { a: { request: { path: 'no-slash' }, primaryKey: 'id', pagination: { type: 'cursr' } } },
      }),
    );
    const r = cli(['validate', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /resources\.a\.request\.path: must start with "\/"/);
    assert.match(r.stdout, /resources\.a\.pagination\.type: expected one of "none", "page"/);
    assert.equal(r.stderr.trim(), 'syncwright: 2 problem(s) in the specs');
  });

  it('validate: the shipped example specs are valid', () => {
    const r = cli(['validate', 'integrations']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /example-tracker: 1 resource\(s\) OK/);
    // Every spec of the catalog (one file per provider) is checked and reported.
    for (const file of readdirSync('integrations').filter((f) => f.endsWith('.yaml')))
      assert.match(r.stdout, new RegExp(`^${path.basename(file, '.yaml')}: \\d resource\\(s\\) OK$`, 'm'));
  });

  it('says in one line, without a stack trace, what is missing', () => {
    const r = cli(['runs']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'syncwright: no database: set DATABASE_URL, or start the local stack with `syncwright up` in another terminal',
    );
    const bad = cli(['sync', 'tracker', '--connection', 'acme']);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stderr.trim(), "syncwright: missing required argument 'resource'");
    const unreachable = cli(['runs'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^syncwright: cannot connect to DATABASE_URL \(127\.0\.0\.1:1\/x\): /);
    assert.equal(unreachable.stderr.trim().split('\n').length, 1);
  });

  async function specFile(spec: unknown): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sw-cli-'));
    const file = path.join(dir, 'spec.json');
    await fs.writeFile(file, JSON.stringify(spec));
    return file;
  }

  it('validate: reports field and cross-field mistakes in one pass, none as a bare "Invalid input"', async () => {
    const file = await specFile({
      id: 'x',
      baseUrl: 'http://x/{tenant}',
      auth: { type: 'bearer', token: 'token' },
      resources: { a: { request: { path: '/a/{project}' }, primaryKey: 5 } },
    });
    const r = cli(['validate', file]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stdout, /Invalid input/);
    assert.match(
      r.stdout,
      /baseUrl: only \{config\.name\} placeholders \(or choices [^)]*\) may appear in baseUrl/,
    );
    assert.match(r.stdout, /resources\.a\.primaryKey: expected a field name or a list of field names/);
    assert.match(r.stdout, /auth\.token: secret "token" is not declared in secrets/);
    assert.match(r.stdout, /resources\.a\.request\.path: \{project\} is not a connectionConfig field/);
    assert.equal(r.stderr.trim(), 'syncwright: 4 problem(s) in the specs');
  });

  it('sync --mode incremental is refused for a resource without an incremental section', async () => {
    const file = await specFile({
      id: 'plain',
      baseUrl: 'http://127.0.0.1:1',
      resources: { things: { request: { path: '/things' }, primaryKey: 'id' } },
    });
    const r = cli([
      '--specs',
      file,
      'sync',
      'plain',
      'things',
      '--connection',
      'acme',
      '--mode',
      'incremental',
    ]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'syncwright: --mode incremental: resource plain/things has no incremental section in its spec (sync it with --mode full)',
    );
  });

  it('temporal-cli --json prints the path alone', () => {
    // Any executable stands in for the CLI: TEMPORAL_CLI is taken as given when it can be run.
    const binary = path.resolve(process.execPath);
    const r = cli(['temporal-cli', '--json'], { TEMPORAL_CLI: binary });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${binary}\n`);
    const human = cli(['temporal-cli'], { TEMPORAL_CLI: binary });
    assert.equal(human.stdout, `${binary} (TEMPORAL_CLI)\n`);
  });
});
