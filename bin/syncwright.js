#!/usr/bin/env node
// Runs the CLI's JavaScript build (dist/, made by `npm install`/`npm ci` or `npm run build`) when it is
// newer than every source file: starting then compiles no TypeScript. Otherwise (no build, or a source
// edited since) it runs the TypeScript through tsx's loader, so a checkout never runs stale code.
import { fileURLToPath } from 'node:url';
import { buildIsCurrent } from '../scripts/build-layout.mjs';

if (
  process.env.SYNCWRIGHT_NO_BUILD !== '1' &&
  buildIsCurrent(fileURLToPath(new URL('..', import.meta.url)))
) {
  await import('../dist/src/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
