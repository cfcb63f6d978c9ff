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
});
