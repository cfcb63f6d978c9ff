import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { cachedCliPath, resolveTemporalCli, TemporalCliError } from '../../src/temporal/cli-binary.js';
import { devServerArgs } from '../../src/temporal/dev-server.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';

const log = createLogger('silent');

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'sw-cli-'));
}

async function fakeBinary(dir: string, name: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await fs.writeFile(file, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return file;
}

describe('resolveTemporalCli', () => {
  it('uses TEMPORAL_CLI first, and says what is wrong when it is not executable', async () => {
    const dir = await tempDir();
    const bin = await fakeBinary(dir, 'my-temporal');
    assert.deepEqual(await resolveTemporalCli({ cliPath: bin, cacheDir: dir, log, searchPath: '' }), {
      kind: 'binary',
      path: bin,
      source: 'TEMPORAL_CLI',
    });
    await assert.rejects(
      resolveTemporalCli({ cliPath: path.join(dir, 'missing'), cacheDir: dir, log, searchPath: '' }),
      (e: unknown) =>
        e instanceof TemporalCliError && /TEMPORAL_CLI=.*missing is not an executable file/.test(e.message),
    );
  });

  it('then a temporal on PATH, then the cache', async () => {
    const dir = await tempDir();
    const onPath = await fakeBinary(path.join(dir, 'bin'), 'temporal');
    const cached = await fakeBinary(path.dirname(cachedCliPath(dir)), 'temporal');
    const viaPath = await resolveTemporalCli({
      cliPath: undefined,
      cacheDir: dir,
      log,
      searchPath: path.join(dir, 'bin'),
    });
    assert.deepEqual(viaPath, { kind: 'binary', path: onPath, source: 'PATH' });
    const viaCache = await resolveTemporalCli({ cliPath: undefined, cacheDir: dir, log, searchPath: '' });
    assert.deepEqual(viaCache, { kind: 'binary', path: cached, source: 'cache' });
  });

  it('falls back to the SDK download when there is neither a binary nor Go', async () => {
    const dir = await tempDir();
    assert.deepEqual(await resolveTemporalCli({ cliPath: undefined, cacheDir: dir, log, searchPath: dir }), {
      kind: 'sdk-download',
    });
  });

  it('reports a failed go install with the step and what to do', async () => {
    const dir = await tempDir();
    const goDir = path.join(dir, 'go-bin');
    await fs.mkdir(goDir);
    await fs.writeFile(path.join(goDir, 'go'), '#!/bin/sh\necho "no network" >&2\nexit 1\n', { mode: 0o755 });
    await assert.rejects(
      resolveTemporalCli({ cliPath: undefined, cacheDir: dir, log, searchPath: goDir }),
      (e: unknown) =>
        e instanceof TemporalCliError &&
        /go install github.com\/temporalio\/cli\/cmd\/temporal@v1.5.1` failed/.test(e.message) &&
        /no network/.test(e.message) &&
        /Set TEMPORAL_ADDRESS/.test(e.message),
    );
  });
});

describe('devServerArgs', () => {
  it('persists to SQLite, serves the UI and registers our search attributes', () => {
    const args = devServerArgs({
      cli: { kind: 'binary', path: '/x/temporal', source: 'cache' },
      port: 7233,
      uiPort: 8233,
      namespace: 'default',
      dbFile: '/w/.syncwright/temporal.sqlite',
      searchAttributes: SEARCH_ATTRIBUTES,
      cacheDir: '/c',
    });
    const joined = args.join(' ');
    assert.match(joined, /^server start-dev --ip 127\.0\.0\.1 --port 7233/);
    assert.match(joined, /--ui-port 8233/);
    assert.match(joined, /--db-filename \/w\/\.syncwright\/temporal\.sqlite/);
    for (const name of ['SyncIntegration', 'SyncConnection', 'SyncResource', 'SyncKind']) {
      assert.ok(args.includes(`${name}=Keyword`), name);
    }
    assert.ok(!args.includes('--headless'));
  });
  it('runs headless and in memory when asked', () => {
    const args = devServerArgs({
      cli: { kind: 'binary', path: '/x', source: 'cache' },
      port: 1,
      namespace: 'ns',
      searchAttributes: [],
      dynamicConfig: { 'limit.x': 5 },
      cacheDir: '/c',
    });
    assert.ok(args.includes('--headless'));
    assert.ok(!args.includes('--db-filename'));
    assert.ok(args.includes('limit.x=5'));
  });
  it("lifts the single history shard's queue-read limits and turns on eager activities; a caller overrides them", () => {
    const base = {
      cli: { kind: 'binary', path: '/x', source: 'cache' },
      port: 1,
      namespace: 'ns',
      searchAttributes: [],
      cacheDir: '/c',
    } as const;
    const values = (args: string[]) => args.filter((_, i) => args[i - 1] === '--dynamic-config-value');
    const defaults = values(devServerArgs(base));
    assert.ok(defaults.includes('history.transferProcessorMaxPollRPS=1000'), defaults.join(' '));
    assert.ok(defaults.includes('system.enableActivityEagerExecution=true'), defaults.join(' '));
    const overridden = values(
      devServerArgs({ ...base, dynamicConfig: { 'history.transferProcessorMaxPollRPS': 20 } }),
    );
    assert.ok(overridden.includes('history.transferProcessorMaxPollRPS=20'));
    assert.ok(!overridden.includes('history.transferProcessorMaxPollRPS=1000'));
  });
});
