/**
 * Measures `import airbyte` on a sample of real manifest-only connectors: every Nth connector by name
 * that has a top-level manifest.yaml, read from a git snapshot of the airbyte repository (or a folder of
 * `<connector>/manifest.yaml`). Prints how many import fully, partly or not at all, and what blocks them.
 *
 *   npx tsx scripts/airbyte-sample.ts --git /path/to/airbyte.git [--every 5] [--offset 0] [--verbose]
 *   npx tsx scripts/airbyte-sample.ts --dir /path/to/connectors
 *
 * Manifests are read, never copied into this repository.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importAirbyteManifest } from '../src/import/airbyte/translate.js';
import { importedFully, type ImportIssue } from '../src/import/airbyte/report.js';
import { ISSUE_20, TODAY } from '../src/import/airbyte/target.js';

const { values } = parseArgs({
  options: {
    git: { type: 'string' },
    dir: { type: 'string' },
    every: { type: 'string', default: '5' },
    offset: { type: 'string', default: '0' },
    verbose: { type: 'boolean', default: false },
    // `today`: only the grammar from before issue 20, to measure what its constructs bought.
    constructs: { type: 'string', default: 'issue-20' },
  },
});
const every = Number(values.every);
const offset = Number(values.offset);
const CONNECTORS = 'airbyte-integrations/connectors';

function listManifests(): { name: string; read: () => string }[] {
  if (values.git) {
    const gitDir = values.git;
    const files = execFileSync(
      'git',
      ['--git-dir', gitDir, 'ls-tree', '-r', '--name-only', 'HEAD', CONNECTORS],
      {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      },
    )
      .split('\n')
      .filter((f) => /^airbyte-integrations\/connectors\/source-[^/]+\/manifest\.yaml$/.test(f));
    return files.map((f) => ({
      name: f.split('/')[2]!,
      read: () =>
        execFileSync('git', ['--git-dir', gitDir, 'show', `HEAD:${f}`], {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        }),
    }));
  }
  if (values.dir) {
    const dir = values.dir;
    return readdirSync(dir)
      .filter((d) => existsSync(path.join(dir, d, 'manifest.yaml')))
      .map((d) => ({ name: d, read: () => readFileSync(path.join(dir, d, 'manifest.yaml'), 'utf8') }));
  }
  throw new Error('give --git <airbyte git dir> or --dir <folder of connectors>');
}

/** A blocker's class: the component and its message without the quoted specifics. */
function blockerClass(i: ImportIssue): string {
  const message = i.message
    .replace(/: the stream is (left out|imported for full syncs only)$/, '')
    .replace(
      /: (only the first page would be read|records it would skip are kept|the field "[^"]*" is not added)$/,
      '',
    )
    .replace(/\{\{[\s\S]*?\}\}/g, '…')
    .replace(/"[^"]*"/g, '…')
    .replace(/\([^)]*\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return `${i.effect}: ${i.component}: ${message}`;
}

const all = listManifests().sort((a, b) => a.name.localeCompare(b.name));
const sample = all.filter((_, i) => i % every === offset);
let full = 0;
let partial = 0;
let none = 0;
let streamsTotal = 0;
let streamsImported = 0;
const blockers = new Map<string, Set<string>>();
const fullNames: string[] = [];
for (const c of sample) {
  let result;
  try {
    result = importAirbyteManifest(c.read(), {
      id: c.name.replace(/^source-/, ''),
      constructs: values.constructs === 'today' ? TODAY : ISSUE_20,
    });
  } catch (error) {
    none++;
    const key = `error: ${error instanceof Error ? error.message.slice(0, 80) : String(error)}`;
    (blockers.get(key) ?? blockers.set(key, new Set()).get(key)!).add(c.name);
    continue;
  }
  const left = new Set(result.issues.filter((i) => /left out/.test(i.message)).map((i) => i.stream));
  streamsImported += Object.keys(result.resources).length;
  streamsTotal += Object.keys(result.resources).length + left.size;
  if (result.spec && importedFully(result.issues)) {
    full++;
    fullNames.push(c.name);
  } else if (result.spec) partial++;
  else none++;
  const seen = new Set<string>();
  for (const i of result.issues) {
    if (i.effect === 'note') continue;
    const key = blockerClass(i);
    if (seen.has(key)) continue;
    seen.add(key);
    (blockers.get(key) ?? blockers.set(key, new Set()).get(key)!).add(c.name);
  }
  if (values.verbose)
    console.log(
      `${c.name}: ${result.spec && importedFully(result.issues) ? 'full' : result.spec ? 'partial' : 'none'}`,
    );
}
const pct = (n: number) => `${((100 * n) / sample.length).toFixed(1)}%`;
console.log(
  `${all.length} manifest-only connectors; sample: every ${every}th by name from #${offset} → ${sample.length}`,
);
console.log(
  `imported fully: ${full} (${pct(full)}); partly: ${partial} (${pct(partial)}); not at all: ${none} (${pct(none)})`,
);
console.log(`streams imported: ${streamsImported} of ${streamsTotal}`);
console.log(`\nconnectors affected per blocker (a connector may have several):`);
for (const [k, v] of [...blockers].sort((a, b) => b[1].size - a[1].size))
  console.log(
    `${String(v.size).padStart(4)}  ${k}${values.verbose ? `  [${[...v].slice(0, 6).join(', ')}]` : ''}`,
  );
if (values.verbose) console.log(`\nfully imported: ${fullNames.join(', ')}`);
