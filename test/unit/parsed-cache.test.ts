import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SpecError } from '../../src/spec/errors.js';
import { loadSpecs } from '../../src/spec/load.js';
import { parsedOnce } from '../../src/spec/parsed-cache.js';

describe('parsed YAML spec data remembered by content', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-parsed-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses a text once, then answers from the cache; another text is parsed', async () => {
    let parses = 0;
    const parse = (text: string) => {
      parses++;
      return Promise.resolve({ text, nested: { list: [1, 'two', null] } });
    };
    const first = await parsedOnce('a: 1', dir, parse);
    const again = await parsedOnce('a: 1', dir, parse);
    assert.deepEqual(again, first);
    assert.equal(parses, 1);
    await parsedOnce('a: 2', dir, parse);
    assert.equal(parses, 2);
  });

  it('never remembers a text that failed to parse', async () => {
    let parses = 0;
    const failing = () => {
      parses++;
      return Promise.reject(new SpecError('x.yaml', ['line 1, column 1: bad']));
    };
    await assert.rejects(parsedOnce('bad: [', dir, failing), SpecError);
    await assert.rejects(parsedOnce('bad: [', dir, failing), SpecError);
    assert.equal(parses, 2);
  });

  it('loads the same specs from the cache as from a parse, and still reports a broken file by line', async () => {
    const cache = path.join(dir, 'cache');
    const fresh = await loadSpecs('integrations');
    const cold = await loadSpecs('integrations', { cacheDir: cache });
    const warm = await loadSpecs('integrations', { cacheDir: cache });
    assert.deepEqual(cold, fresh);
    assert.deepEqual(warm, fresh);
    assert.ok(readdirSync(path.join(cache, 'spec-data'), { recursive: true }).length > 0);

    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'id: broken\nresources: [\n');
    for (let i = 0; i < 2; i++)
      await assert.rejects(loadSpecs(broken, { cacheDir: cache }), (e: unknown) => {
        assert.ok(e instanceof SpecError);
        assert.match(e.problems.join('\n'), /line 3, column 1/);
        return true;
      });
  });
});
