/** Decoders: JSON Lines, CSV (quotes, embedded newlines, BOM), gzip and deflate files, bounded output. */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { decodeBody, DecodeError, decoderSchema } from '../../src/http/decoders.js';

const cfg = (c: Record<string, unknown>) => decoderSchema.parse(c);

describe('decoders', () => {
  it('JSON Lines: one value per line, blank lines skipped, a bad line named', () => {
    const body = Buffer.from('{"id":1}\r\n\n{"id":2,"t":"a\\nb"}\n');
    assert.deepEqual(decodeBody(body, cfg({ format: 'jsonl' }), 1e6), [{ id: 1 }, { id: 2, t: 'a\nb' }]);
    assert.throws(
      () => decodeBody(Buffer.from('{"id":1}\n{oops\n'), cfg({ format: 'jsonl' }), 1e6),
      (e: unknown) => e instanceof DecodeError && /line 2 is not JSON/.test(e.message),
    );
  });

  it('CSV: header row, quoted fields with commas, quotes and newlines, a BOM, other delimiters', () => {
    const csv = '\uFEFFId,Name,Note\r\n1,"Doe, Jane","said ""hi""\nthen left"\r\n2,Bob,\r\n';
    assert.deepEqual(decodeBody(Buffer.from(csv), cfg({ format: 'csv' }), 1e6), [
      { Id: '1', Name: 'Doe, Jane', Note: 'said "hi"\nthen left' },
      { Id: '2', Name: 'Bob', Note: '' },
    ]);
    assert.deepEqual(decodeBody(Buffer.from('a;b\n1;2\n'), cfg({ format: 'csv', delimiter: ';' }), 1e6), [
      { a: '1', b: '2' },
    ]);
    assert.throws(() => decodeBody(Buffer.from('a,b\n1,2,3\n'), cfg({ format: 'csv' }), 1e6), DecodeError);
  });

  it('gzip (recognised by its magic bytes) and deflate files', () => {
    const lines = '{"id":1}\n{"id":2}\n';
    assert.deepEqual(decodeBody(zlib.gzipSync(lines), cfg({ format: 'jsonl' }), 1e6), [{ id: 1 }, { id: 2 }]);
    assert.deepEqual(decodeBody(zlib.deflateSync('[1,2]'), cfg({ compression: 'deflate' }), 1e6), [1, 2]);
    assert.throws(() => decodeBody(Buffer.from('nope'), cfg({ compression: 'gzip' }), 1e6), /not valid gzip/);
  });

  it('a small compressed body cannot expand past the size limit', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(5_000_000, 'a'));
    assert.ok(bomb.length < 10_000);
    assert.throws(
      () => decodeBody(bomb, cfg({ format: 'jsonl' }), 1_000_000),
      /decompresses to more than 1000000 bytes/,
    );
  });
});
