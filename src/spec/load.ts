/** Loads specs from TypeScript/JavaScript modules, JSON and YAML files, or a directory of them. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { parseSpec } from './define.js';
import { SpecError } from './errors.js';
import type { IntegrationSpec } from './schema.js';

const SPEC_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json', '.yaml', '.yml'];

async function readData(file: string): Promise<unknown> {
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
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}` : 'YAML'}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return doc.toJS();
}

let typeScriptLoader: Promise<void> | undefined;

/**
 * Imports a spec module. Plain Node (the CLI's JavaScript build, where this file is load.js) cannot
 * import TypeScript: tsx's loader is then registered, once, before the first TypeScript spec, so only
 * those who use one pay for it. (A failed import is cached by Node, so it must come first.)
 */
async function importModule(file: string): Promise<unknown> {
  if (/\.m?ts$/.test(file) && !import.meta.url.endsWith('.ts')) {
    typeScriptLoader ??= import('tsx/esm/api').then(({ register }) => void register());
    await typeScriptLoader;
  }
  return import(pathToFileURL(path.resolve(file)).href);
}

/** Loads one spec file; every problem is reported in one SpecError naming the file. */
export async function loadSpec(file: string): Promise<IntegrationSpec> {
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
  return parseSpec(await readData(file), file);
}

/** Loads a spec file, or every spec file in a directory (not recursive). Duplicate ids are an error. */
export async function loadSpecs(fileOrDir: string): Promise<Map<string, IntegrationSpec>> {
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
      const spec = await loadSpec(file);
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
