#!/usr/bin/env node
// Transpiles the TypeScript of src/, activities/, workflows/ and migrations/ to JavaScript in dist/, one
// file for one file (no bundling), so `npx syncwright` starts without compiling TypeScript. Run by
// `npm install`/`npm ci` (the prepare script) and `npm run build`; bin/syncwright.js uses dist/ only while
// it is newer than every source file. Type checking stays with `npm run typecheck`.
// Usage: node scripts/build.mjs
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUILD_DIR, BUILD_STAMP, SOURCE_DIRS } from './build-layout.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(rel);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [rel] : [];
  });
}

const started = Date.now();
const entryPoints = SOURCE_DIRS.flatMap(sources);
rmSync(path.join(root, BUILD_DIR), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: BUILD_DIR,
  outbase: '.',
  outExtension: { '.js': '.js' },
  format: 'esm',
  platform: 'node',
  target: 'node20',
  bundle: false,
  sourcemap: false,
  logLevel: 'warning',
});
// Written last: a build cut short leaves no stamp, and the CLI then runs the TypeScript.
writeFileSync(path.join(root, BUILD_DIR, BUILD_STAMP), `${new Date().toISOString()}\n`);
console.log(`built ${entryPoints.length} files into ${BUILD_DIR}/ in ${Date.now() - started} ms`);
