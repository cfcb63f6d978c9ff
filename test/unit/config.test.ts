import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has embedded defaults when nothing is set', () => {
    const c = loadConfig({ HOME: '/home/u' }, '/work/x');
    assert.equal(c.temporal.address, undefined);
    assert.equal(c.postgres.url, undefined);
    assert.equal(c.temporal.taskQueue, 'syncwright');
    assert.equal(c.homeDir, path.resolve('/work/x/.syncwright'));
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.temporal));
  });
  it('treats blank variables as unset', () => {
    assert.equal(loadConfig({ TEMPORAL_ADDRESS: '  ', DATABASE_URL: '' }).temporal.address, undefined);
  });
  it('uses the cache dir from XDG_CACHE_HOME or SYNCWRIGHT_CACHE_DIR', () => {
    assert.equal(loadConfig({ XDG_CACHE_HOME: '/c' }).cacheDir, '/c/syncwright');
    assert.equal(loadConfig({ XDG_CACHE_HOME: '/c', SYNCWRIGHT_CACHE_DIR: '/d' }).cacheDir, '/d');
  });
  it('lists every bad variable by name', () => {
    assert.throws(
      () => loadConfig({ SYNCWRIGHT_PG_PORT: 'abc', LOG_LEVEL: 'loud' }),
      (e: unknown) =>
        e instanceof ConfigError && /SYNCWRIGHT_PG_PORT: /.test(e.message) && /LOG_LEVEL: /.test(e.message),
    );
  });
});
