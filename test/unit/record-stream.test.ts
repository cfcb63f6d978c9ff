/** Streaming decoders: JSON Lines and CSV record by record, gzip/deflate files, bounds and truncation. */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { DecodeError, decoderSchema } from '../../src/http/decoders.js';
import { decodeRecordStream, type RecordIterator } from '../../src/http/record-stream.js';

const cfg = (c: Record<string, unknown>) => decoderSchema.parse(c);

/** A body arriving in chunks of `size` bytes (records split across chunks, multi-byte text too). */
async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) {
    await Promise.resolve();
    yield buf.subarray(i, i + size);
  }
}

async function all(it: RecordIterator): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value);
  return out;
}

describe('streaming decoders', () => {
  it('JSON Lines split anywhere across chunks, blank lines and CRLF, multi-byte characters', async () => {
    const body = Buffer.from('{"id":1,"t":"héllo"}\r\n\n{"id":2}\n{"id":3,"t":"日本"}');
    for (const size of [1, 3, 7, 1000])
      assert.deepEqual(await all(decodeRecordStream(chunks(body, size), cfg({ format: 'jsonl' }), 1e6)), [
        { id: 1, t: 'héllo' },
        { id: 2 },
        { id: 3, t: '日本' },
      ]);
    await assert.rejects(
      all(decodeRecordStream(chunks(Buffer.from('{"id":1}\n{oops\n'), 4), cfg({ format: 'jsonl' }), 1e6)),
      (e: unknown) => e instanceof DecodeError && /line 2 is not JSON/.test(e.message),
    );
  });

  it('CSV with quotes, embedded newlines and a BOM, gzip and deflate files', async () => {
    const csv = '\uFEFFId,Name,Note\r\n1,"Doe, Jane","said ""hi""\nthen left"\r\n2,Bob,\r\n';
    const want = [
      { Id: '1', Name: 'Doe, Jane', Note: 'said "hi"\nthen left' },
      { Id: '2', Name: 'Bob', Note: '' },
    ];
    assert.deepEqual(
      await all(decodeRecordStream(chunks(Buffer.from(csv), 5), cfg({ format: 'csv' }), 1e6)),
      want,
    );
    assert.deepEqual(
      await all(decodeRecordStream(chunks(zlib.gzipSync(csv), 9), cfg({ format: 'csv' }), 1e6)),
      want,
    );
    assert.deepEqual(
      await all(
        decodeRecordStream(
          chunks(zlib.deflateSync(csv), 9),
          cfg({ format: 'csv', compression: 'deflate' }),
          1e6,
        ),
      ),
      want,
    );
    await assert.rejects(
      all(decodeRecordStream(chunks(Buffer.from('a,b\n1,2,3\n'), 3), cfg({ format: 'csv' }), 1e6)),
      (e: unknown) => e instanceof DecodeError && /not valid CSV/.test(e.message),
    );
  });

  it('a truncated gzip file and a line longer than the bound are DecodeErrors', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i, pad: 'x'.repeat(50) })).join(
      '\n',
    );
    const gz = zlib.gzipSync(lines);
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    const it = decodeRecordStream(chunks(cut, 512), cfg({ format: 'jsonl' }), 1e6);
    await assert.rejects(all(it), (e: unknown) => e instanceof DecodeError && /truncated/.test(e.message));
    await assert.rejects(
      all(decodeRecordStream(chunks(Buffer.alloc(10_000, 'a'), 100), cfg({ format: 'jsonl' }), 1000)),
      (e: unknown) => e instanceof DecodeError && /longer than 1000 bytes/.test(e.message),
    );
    await assert.rejects(
      all(
        decodeRecordStream(
          chunks(Buffer.from(`a\n"${'b'.repeat(5000)}"\n`), 100),
          cfg({ format: 'csv' }),
          1000,
        ),
      ),
      DecodeError,
    );
  });

  it('pulls lazily: a consumer that stops early has not read the whole body', async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        await Promise.resolve();
        produced++;
        yield Buffer.from(`${JSON.stringify({ n: produced })}\n`.repeat(100));
      }
    }
    const it = decodeRecordStream(endless(), cfg({ format: 'jsonl' }), 1e6);
    for (let i = 0; i < 250; i++) await it.next();
    assert.ok(produced < 10, `read ${produced} chunks for 250 records`);
    await it.return?.(undefined);
  });
});
