#!/usr/bin/env node
// Some registries (like the one our CI machines use) serve only the platform packages they need, so npm
// leaves other platforms' optional native bindings out of package-lock.json, and `npm ci` then refuses
// the lock as "Missing: <pkg>@ from lock file". This records each such binding as an optional,
// platform-restricted entry (os/cpu from its name), which npm skips on other platforms.
// Usage: node scripts/lockfile-platform-stubs.mjs   (after `npm install` changed the lockfile)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const OS = [
  'darwin',
  'linux',
  'win32',
  'freebsd',
  'android',
  'openharmony',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    const nested = `${key}/node_modules/${name}`;
    if (lock.packages[at] || lock.packages[nested]) continue;
    const parts = name.split('/').pop().split('-');
    const os = OS.find((o) => parts.includes(o));
    const cpu = CPU.find((c) => parts.includes(c));
    if (!os || !cpu) {
      console.error(`cannot tell the platform of ${name}; add it to the lockfile by hand`);
      process.exitCode = 1;
      continue;
    }
    lock.packages[at] = { version, optional: true, os: [os], cpu: [cpu] };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`recorded ${added} platform-restricted optional packages`);
if (process.argv.includes('--check')) execFileSync('npm', ['ci', '--dry-run'], { stdio: 'inherit' });
