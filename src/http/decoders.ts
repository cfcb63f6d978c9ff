/**
 * Decoding a provider's answer into JSON values: JSON (the default), JSON Lines and CSV (a header row;
 * values are text until `fields` types them), optionally gzip or deflate compressed as a file (a
 * Content-Encoding is undone by the transport already). Decompressed size is bounded like the answer,
 * so a small compressed body cannot expand without limit.
 */
import zlib from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';

export const decoderSchema = z.strictObject({
  format: z.enum(['json', 'jsonl', 'csv']).default('json'),
  /** `auto` recognises gzip by its magic bytes. */
  compression: z.enum(['auto', 'none', 'gzip', 'deflate']).default('auto'),
  /** CSV only: the field delimiter (default ","). */
  delimiter: z.string().length(1).default(','),
  /**
   * JSON Lines and CSV answers are streamed and committed in chunks of this many records, each a page
   * with its own checkpoint (record-stream.ts).
   */
  chunkRecords: z.number().int().positive().max(100_000).default(2000),
});
export type DecoderConfig = z.infer<typeof decoderSchema>;

export class DecodeError extends Error {
  override name = 'DecodeError';
}

function isGzip(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** The body with any file-level compression undone, at most `maxBytes` long. */
export function decompress(buf: Buffer, config: DecoderConfig, maxBytes: number): Buffer {
  const mode = config.compression === 'auto' ? (isGzip(buf) ? 'gzip' : 'none') : config.compression;
  try {
    if (mode === 'gzip') return zlib.gunzipSync(buf, { maxOutputLength: maxBytes });
    if (mode === 'deflate') return zlib.inflateSync(buf, { maxOutputLength: maxBytes });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new DecodeError(
      code === 'ERR_BUFFER_TOO_LARGE'
        ? `the ${mode} body decompresses to more than ${maxBytes} bytes`
        : `the body is not valid ${mode} data (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return buf;
}

/** JSON Lines: one JSON value per non-blank line; a bad line is named by its number. */
export function decodeJsonLines(text: string): unknown[] {
  const out: unknown[] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const t = raw.trim();
    if (t === '') continue;
    try {
      out.push(JSON.parse(t));
    } catch {
      throw new DecodeError(`line ${line} is not JSON (starts with ${JSON.stringify(t.slice(0, 60))})`);
    }
  }
  return out;
}

/** CSV with a header row: one object per row, keyed by the header's names. */
export function decodeCsv(text: string, delimiter: string): Record<string, string>[] {
  try {
    return parseCsv<Record<string, string>>(text, {
      columns: true,
      bom: true,
      delimiter,
      skip_empty_lines: true,
      relax_quotes: false,
    });
  } catch (error) {
    throw new DecodeError(`not valid CSV: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The decoded body: a JSON value (json), or an array of records (jsonl, csv). */
export function decodeBody(buf: Buffer, config: DecoderConfig, maxBytes: number): unknown {
  const text = decompress(buf, config, maxBytes).toString('utf8');
  if (config.format === 'jsonl') return decodeJsonLines(text);
  if (config.format === 'csv') return decodeCsv(text, config.delimiter);
  return decodeJson(text);
}

/** A JSON text (empty is null); the error quotes its start. */
export function decodeJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new DecodeError(`not JSON (starts with ${JSON.stringify(text.slice(0, 80))})`);
  }
}
