/** `syncwright validate`: checks spec files and lists their problems. */
import { SpecError } from '../../spec/errors.js';
import { loadSpecs } from '../../spec/load.js';
import { UsageError, type CliContext } from '../context.js';
import { print } from '../output.js';

export async function validateCommand(ctx: CliContext, files: string[]): Promise<void> {
  const targets = files.length ? files : [ctx.config.specsPath];
  const problems: string[] = [];
  const ok: string[] = [];
  for (const file of targets) {
    try {
      const specs = await loadSpecs(file, { cacheDir: ctx.config.cacheDir });
      for (const [id, spec] of specs) ok.push(`${id}: ${Object.keys(spec.resources).length} resource(s) OK`);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      problems.push(...error.problems.map((p) => (p.startsWith(error.source) ? p : `${error.source}: ${p}`)));
    }
  }
  print(ctx, { ok, problems }, () => [...ok, ...problems]);
  if (problems.length) throw new UsageError(`${problems.length} problem(s) in the specs`);
}
