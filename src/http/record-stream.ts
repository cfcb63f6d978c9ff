/**
 * Streaming decoders: JSON Lines and CSV bodies (optionally a gzip or deflate file) decoded record by
 * record as the bytes arrive, so an export of any size is read with flat memory. Only one record is
 * bounded (`maxRecordBytes`): a line or CSV row longer than that is a DecodeError, so a body without
 * line breaks cannot grow a buffer without limit. Backpressure is the stream's own: nothing is read
 * ahead of the consumer beyond the streams' small buffers.
 */
import { Readable, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { DecodeError, type DecoderConfig } from './decoders.js';

/** A pull-based stream of decoded records (JSON values for JSON Lines, objects of text for CSV). */
export type RecordIterator = AsyncIterator<unknown, undefined>;

/** Formats decoded as a stream; JSON (one document) is decoded whole. */
export function isStreamingFormat(config: DecoderConfig | undefined): boolean {
  return config?.format === 'jsonl' || config?.format === 'csv';
}

/** A chunk as a Buffer, without copying its bytes (Buffer.from of a Buffer copies it). */
const asBuffer = (v: Buffer | Uint8Array | string): Buffer =>
  typeof v === 'string'
    ? Buffer.from(v)
    : Buffer.isBuffer(v)
      ? v
      : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** The bytes of `source`, with any file-level compression undone (gzip recognised by its magic bytes). */
async function decompressed(
  source: AsyncIterable<Buffer | string>,
  config: DecoderConfig,
): Promise<AsyncIterable<Buffer>> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : asBuffer(first.value);
  const mode =
    config.compression === 'auto'
      ? head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b
        ? 'gzip'
        : 'none'
      : config.compression;
  const all = (async function* () {
    if (head.length) yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield asBuffer(next.value);
    }
  })();
  if (mode === 'none') return all;
  const replay = Readable.from(all, { objectMode: false });
  const inflater = mode === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
  const out = pipeline(replay, inflater, () => undefined);
  return (async function* () {
    try {
      for await (const chunk of out) yield chunk as Buffer;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (typeof code === 'string' && code.startsWith('Z_'))
        throw new DecodeError(
          code === 'Z_BUF_ERROR'
            ? `the ${mode} body ends early (a truncated file)`
            : `the body is not valid ${mode} data (${(error as Error).message})`,
        );
      throw error;
    }
  })();
}

async function* jsonLines(bytes: AsyncIterable<Buffer>, maxRecordBytes: number): AsyncGenerator<unknown> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  const parse = (raw: string) => {
    line++;
    const t = raw.trim();
    if (t === '') return undefined;
    try {
      return { value: JSON.parse(t) as unknown };
    } catch {
      throw new DecodeError(`line ${line} is not JSON (starts with ${JSON.stringify(t.slice(0, 60))})`);
    }
  };
  for await (const chunk of bytes) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const parsed = parse(text.slice(start, nl));
      start = nl + 1;
      if (parsed) yield parsed.value;
    }
    rest = text.slice(start);
    if (rest.length > maxRecordBytes)
      throw new DecodeError(`line ${line + 1} is longer than ${maxRecordBytes} bytes`);
  }
  const parsed = parse(rest + decoder.end());
  if (parsed) yield parsed.value;
}

async function* csvRows(
  bytes: AsyncIterable<Buffer>,
  config: DecoderConfig,
  maxRecordBytes: number,
): AsyncGenerator<unknown> {
  const parser = parseCsv({
    columns: true,
    bom: true,
    delimiter: config.delimiter,
    skip_empty_lines: true,
    relax_quotes: false,
    max_record_size: maxRecordBytes,
  });
  const rows = pipeline(Readable.from(bytes), parser, () => undefined);
  try {
    for await (const row of rows) yield row;
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    if ((error as CsvError).code?.startsWith('CSV_'))
      throw new DecodeError(`not valid CSV: ${(error as Error).message}`);
    throw error;
  }
}

/**
 * Records decoded from a body as it streams. Errors: DecodeError for content that is not what the
 * decoder expects (a bad line, a truncated gzip file); the source's own errors (a dropped connection)
 * pass through unchanged.
 */
export function decodeRecordStream(
  source: AsyncIterable<Buffer | string>,
  config: DecoderConfig,
  maxRecordBytes: number,
): RecordIterator {
  const gen = (async function* () {
    const bytes = await decompressed(source, config);
    if (config.format === 'csv') yield* csvRows(bytes, config, maxRecordBytes);
    else yield* jsonLines(bytes, maxRecordBytes);
  })();
  return gen as RecordIterator;
}
