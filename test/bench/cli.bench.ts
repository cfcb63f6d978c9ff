/**
 * CLI start-up benchmark: wall time of `syncwright --help`, `validate` and `connection list` (against
 * the benchmark's database) as separate processes, from the JavaScript build (what `npm install` makes)
 * and through tsx (what runs when there is no current build), next to a bare `node -e ''` on the same
 * machine at the same moment. Each command runs REPEATS times, interleaved; the median is reported.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createScratchDatabase, resolvePostgres } from '../../src/stack/postgres.js';
import { createDb } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { uniqueId } from '../helpers/stack.js';

const REPEATS = 9;
const TARGET_S = 0.4;
const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/syncwright.js', import.meta.url));

function timed(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
      else resolve((performance.now() - start) / 1000);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A migrated scratch database (DATABASE_URL's server, or an embedded one) for `connection list`. */
async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const config = loadConfig();
  const postgres = await resolvePostgres(config, createLogger('warn', 'bench'), { port: 0 });
  const database = await createScratchDatabase(postgres.adminUrl, uniqueId('sw_cli').replaceAll('-', '_'));
  const db = createDb(database.url);
  await migrateToLatest(db);
  await db.destroy();
  return {
    url: database.url,
    drop: async () => {
      await database.drop();
      await postgres.stop();
    },
  };
}

export async function cliBenchmark(): Promise<void> {
  const database = await scratchDatabase();
  try {
    await measure(database.url);
  } finally {
    await database.drop();
  }
}

async function measure(databaseUrl: string): Promise<void> {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  // No LOG_LEVEL, SYNCWRIGHT_* or TEMPORAL_* from the calling shell: only the database to list.
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl };
  const commands: [string, string[]][] = [
    ['--help', ['--help']],
    ['validate', ['validate']],
    ['connection list', ['connection', 'list']],
  ];
  const cases = [
    { label: 'bare node', env: base, argv: (): string[][] => [['-e', '']] },
    { label: 'build', env: base, argv: () => commands.map(([, a]) => [bin, ...a]) },
    {
      label: 'tsx',
      env: { ...base, SYNCWRIGHT_NO_BUILD: '1' },
      argv: () => commands.map(([, a]) => [bin, ...a]),
    },
  ];
  const times = new Map<string, number[]>();
  for (let i = 0; i < REPEATS + 1; i++) {
    for (const c of cases) {
      const all = c.argv();
      for (let k = 0; k < all.length; k++) {
        const key = c.label === 'bare node' ? 'bare node' : `${c.label} ${commands[k]![0]}`;
        const s = await timed(all[k]!, c.env);
        if (i > 0) times.set(key, [...(times.get(key) ?? []), s]); // the first pass warms the OS cache
      }
    }
  }
  const bare = median(times.get('bare node')!);
  console.log(`cli: wall time per process, median of ${REPEATS} (bare \`node -e ''\`: ${bare.toFixed(2)} s)`);
  for (const [name] of commands) {
    const built = median(times.get(`build ${name}`)!);
    const tsx = median(times.get(`tsx ${name}`)!);
    console.log(
      `  ${name.padEnd(16)} build ${built.toFixed(2)} s${built <= TARGET_S ? '' : ' (over target)'}   tsx ${tsx.toFixed(2)} s   build/tsx ${(built / tsx).toFixed(2)}x  (target <= ${TARGET_S} s)`,
    );
  }
}
