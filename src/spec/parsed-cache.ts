/**
 * The data of YAML spec files, remembered by the hash of their text under the cache directory
 * (SYNCWRIGHT_CACHE_DIR): the CLI then starts without loading the YAML parser or running it (most of
 * `validate`'s time) while no spec changed. Only data that parsed without a problem is remembered, so
 * a mistake in a file is always reported from a fresh parse, with its line and column. Any failure to
 * read or write the cache just means parsing again.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

/** Bump when what is stored changes (the YAML parser's options, or its major version). */
const FORMAT = 'yaml-2-v1';

export async function parsedOnce(
  text: string,
  cacheDir: string | undefined,
  parse: (text: string) => Promise<unknown>,
): Promise<unknown> {
  if (!cacheDir) return parse(text);
  const key = createHash('sha256').update(text).digest('hex');
  const file = path.join(cacheDir, 'spec-data', FORMAT, `${key}.v8`);
  try {
    return v8.deserialize(await fs.readFile(file));
  } catch {
    // Not remembered yet (or unreadable): parse.
  }
  const data = await parse(text);
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Written whole under another name first: a reader never sees half a file.
    const partial = `${file}.${process.pid}.tmp`;
    await fs.writeFile(partial, v8.serialize(data));
    await fs.rename(partial, file);
  } catch {
    // A read-only or full cache directory only costs the next start a parse.
  }
  return data;
}
