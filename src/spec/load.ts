/** Loads specs from TypeScript/JavaScript modules, JSON and YAML files, or a directory of them. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureTypeScriptLoader } from '../typescript-loader.js';
import { parseSpec } from './define.js';
import { parsedOnce } from './parsed-cache.js';
import { SpecError } from './errors.js';
import type { IntegrationSpec } from './schema.js';

const SPEC_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json', '.yaml', '.yml'];

async function readData(file: string, options: LoadOptions): Promise<unknown> {
  const text = await fs.readFile(file, 'utf8');
  const ext = path.extname(file);
  if (ext === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new SpecError(file, [
        `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      ]);
    }
  }
  // The YAML parser is loaded only when a spec's data is not remembered (parsed-cache.ts).
  return parsedOnce(text, options.cacheDir, async (yamlText) =>
    (await import('./yaml-data.js')).yamlData(file, yamlText),
  );
}

/** Imports a spec module; a TypeScript one from the CLI's JavaScript build needs tsx's loader first. */
async function importModule(file: string): Promise<unknown> {
  if (/\.m?ts$/.test(file)) await ensureTypeScriptLoader();
  return import(pathToFileURL(path.resolve(file)).href);
}

export interface LoadOptions {
  /** Where the parsed data of YAML specs is remembered (the CLI's cache directory); none: not at all. */
  cacheDir?: string;
}

/** Loads one spec file; every problem is reported in one SpecError naming the file. */
export async function loadSpec(file: string, options: LoadOptions = {}): Promise<IntegrationSpec> {
  const ext = path.extname(file);
  if (!SPEC_EXTENSIONS.includes(ext)) {
    throw new SpecError(file, [`unsupported spec file type "${ext}" (use ${SPEC_EXTENSIONS.join(', ')})`]);
  }
  try {
    await fs.access(file);
  } catch {
    throw new SpecError(file, ['file not found']);
  }
  if (['.ts', '.mts', '.js', '.mjs'].includes(ext)) {
    const mod = (await importModule(file)) as {
      default?: unknown;
      integration?: unknown;
    };
    const value = mod.default ?? mod.integration;
    if (value === undefined)
      throw new SpecError(file, ['exports no spec: use `export default defineIntegration({...})`']);
    // A spec from defineIntegration is already parsed and is returned as it is; a plain object is parsed.
    return parseSpec(value, file);
  }
  return parseSpec(await readData(file, options), file);
}

/** Loads a spec file, or every spec file in a directory (not recursive). Duplicate ids are an error. */
export async function loadSpecs(
  fileOrDir: string,
  options: LoadOptions = {},
): Promise<Map<string, IntegrationSpec>> {
  let files: string[];
  const stat = await fs.stat(fileOrDir).catch(() => undefined);
  if (!stat) throw new SpecError(fileOrDir, ['no such file or directory']);
  if (stat.isDirectory()) {
    files = (await fs.readdir(fileOrDir))
      .filter(
        (f) => SPEC_EXTENSIONS.includes(path.extname(f)) && !f.endsWith('.d.ts') && !f.includes('.test.'),
      )
      .sort()
      .map((f) => path.join(fileOrDir, f));
  } else {
    files = [fileOrDir];
  }
  const specs = new Map<string, IntegrationSpec>();
  const problems: string[] = [];
  const origin = new Map<string, string>();
  for (const file of files) {
    try {
      const spec = await loadSpec(file, options);
      const seen = origin.get(spec.id);
      if (seen) {
        problems.push(`${file}: id "${spec.id}" is also used by ${seen}`);
        continue;
      }
      origin.set(spec.id, file);
      specs.set(spec.id, spec);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      problems.push(...error.problems.map((p) => `${error.source}: ${p}`));
    }
  }
  if (problems.length > 0) throw new SpecError(fileOrDir, problems);
  return specs;
}
