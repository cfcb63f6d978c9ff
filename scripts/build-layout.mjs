// Where scripts/build.mjs puts the JavaScript build, and whether it is current. Shared by the build and
// bin/syncwright.js, which must decide in a few milliseconds whether to run dist/ or the TypeScript.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const SOURCE_DIRS = ['src', 'activities', 'workflows', 'migrations'];
export const BUILD_DIR = 'dist';
/** Written after a build completes; its time is the build's. */
export const BUILD_STAMP = '.built';

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * True when dist/ holds a completed build newer than every TypeScript source file (and package.json,
 * whose dependencies the build may no longer match); false when there is none or it is stale.
 */
export function buildIsCurrent(root) {
  let built;
  try {
    built = statSync(path.join(root, BUILD_DIR, BUILD_STAMP)).mtimeMs;
  } catch {
    return false;
  }
  if (statSync(path.join(root, 'package.json')).mtimeMs > built) return false;
  return SOURCE_DIRS.every((dir) => newestSource(path.join(root, dir)) <= built);
}
