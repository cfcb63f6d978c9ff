/**
 * `syncwright import airbyte <manifest.yaml> [--out file] [--id id]`: translates an Airbyte declarative
 * manifest into a spec (src/import/airbyte), writes it, and reports every component it could not
 * translate with its manifest path. Exits non-zero when a stream would lose data or incremental
 * behaviour. The written spec is loaded back through the spec loader, so it passes `validate`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ManifestError } from '../../import/airbyte/manifest.js';
import { BLOCKING, formatReport, importedFully } from '../../import/airbyte/report.js';
import { importAirbyteManifest } from '../../import/airbyte/translate.js';
import { parseSpec } from '../../spec/define.js';
import { SpecError } from '../../spec/errors.js';
import { UsageError, type CliContext } from '../context.js';

/** An integration id from the manifest's place: `…/source-pokeapi/manifest.yaml` → `pokeapi`. */
export function idFromPath(file: string): string {
  const base = path.basename(file).replace(/\.(ya?ml|json)$/i, '');
  const name = base === 'manifest' ? path.basename(path.dirname(path.resolve(file))) : base;
  const slug = name
    .replace(/^source-/, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return slug || 'imported';
}

export async function importAirbyteCommand(
  ctx: CliContext,
  file: string,
  opts: { out?: string; id?: string },
): Promise<void> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UsageError(`${file}: cannot read the manifest`);
  }
  const id = opts.id ?? idFromPath(file);
  let result;
  try {
    result = importAirbyteManifest(text, { id });
  } catch (error) {
    if (error instanceof ManifestError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  const { spec, issues, resources } = result;
  const blocking = issues.filter((i) => BLOCKING.has(i.effect));
  const yamlText = spec
    ? `# Imported from ${path.basename(file)} by \`syncwright import airbyte\`.\n${stringify(spec, { lineWidth: 0 })}`
    : undefined;
  if (spec) {
    // The same check `validate` makes: what is written loads.
    try {
      parseSpec(spec, opts.out ?? file);
    } catch (error) {
      if (error instanceof SpecError)
        throw new Error(`the imported spec is not valid: ${error.problems.join('; ')}`);
      throw error;
    }
  }
  if (opts.out && yamlText) await fs.writeFile(opts.out, yamlText);
  const summary = spec
    ? `${Object.keys(resources).length} of ${Object.keys(resources).length + new Set(issues.filter((i) => i.effect === 'data' && /left out/.test(i.message)).map((i) => i.stream)).size} stream(s) imported${opts.out ? ` into ${opts.out}` : ''}; ${importedFully(issues) ? 'imported fully' : `${issues.filter((i) => i.effect !== 'note').length} component(s) not translated exactly`}`
    : 'no stream could be imported: nothing written';
  if (ctx.json) {
    ctx.out(
      JSON.stringify(
        {
          file: opts.out ?? null,
          spec: opts.out ? undefined : spec,
          resources,
          importedFully: importedFully(issues),
          issues,
        },
        null,
        2,
      ),
    );
  } else {
    if (!opts.out && yamlText) ctx.out(yamlText.trimEnd());
    // With the spec on stdout, the report goes to stderr so the YAML can be piped.
    const say = (line: string) => (opts.out ? ctx.out(line) : ctx.note(line));
    say(summary);
    for (const line of formatReport(issues)) say(line);
  }
  if (blocking.length > 0 || !spec) {
    const streams = new Set(blocking.map((i) => i.stream ?? i.path));
    throw new UsageError(
      spec
        ? `${streams.size} stream(s) would lose data or incremental behaviour (see the report)`
        : 'no stream could be imported',
    );
  }
}
