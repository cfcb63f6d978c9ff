/**
 * Streamed-export benchmark: a large JSON Lines export, a CSV export and their gzip files synced through
 * the engine (Temporal workflow + activities, chunks of 2,000 records committed with their checkpoint)
 * against a hand-written loop over the same files and the same Postgres: fetch → gunzip → split lines
 * or csv-parse → a batched `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE` into a plain
 * key/jsonb table. Reports records/s and this process's peak RSS for each; the files are served by a
 * child process, so its memory is not counted.
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';
import { sql } from 'kysely';
import { createActivities } from '../../activities/index.js';
import { integrationSpecSchema } from '../../src/spec/schema.js';
import { saveConnection } from '../../src/store/connections.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { startSync } from '../../src/temporal/sync-client.js';
import { startWorker } from '../../src/temporal/worker.js';
import { TEST_KEY } from '../helpers/engine.js';
import { testEnv, uniqueId } from '../helpers/stack.js';

/** Padding per record: about 200 bytes of JSON each, so 1,000,000 records make a ~200 MB JSONL file. */
const PAD = 40;

async function startFileServer(records: number): Promise<{ url: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv.filter((a) => !a.startsWith('--max-old-space-size')),
      new URL('./export-server.ts', import.meta.url).pathname,
      String(records),
      String(PAD),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`export server exited (${code})`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

const FILES = ['jsonl', 'jsonlgz', 'csv', 'csvgz'];

export async function exportBenchmark(records: number, only: string[] = FILES): Promise<void> {
  const unknown = only.filter((f) => !FILES.includes(f));
  if (unknown.length) throw new Error(`unknown export file ${unknown.join(', ')}: use ${FILES.join(', ')}`);
  const env = await testEnv();
  const files = await startFileServer(records);
  const resource = (path: string, format: 'jsonl' | 'csv') => ({
    request: { path },
    decoder: { format },
    primaryKey: 'id',
    fields: {
      id: { type: 'integer' },
      name: 'name',
      email: 'email',
      amount: { type: 'number' },
      updated_at: { type: 'timestamp' },
      note: 'note',
    },
  });
  const spec = integrationSpecSchema.parse({
    id: 'bench-export',
    baseUrl: files.url,
    resources: {
      jsonl: resource('/export.jsonl', 'jsonl'),
      jsonlgz: resource('/export.jsonl.gz', 'jsonl'),
      csv: resource('/export.csv', 'csv'),
      csvgz: resource('/export.csv.gz', 'csv'),
    },
  });
  const box = SecretBox.fromKey(TEST_KEY);
  const specs = new Map([[spec.id, spec]]);
  const taskQueue = uniqueId('bench-export');
  const worker = await startWorker({
    address: env.temporalAddress,
    namespace: env.namespace,
    taskQueue,
    activities: createActivities({ db: env.db, specs, secretBox: box, env: {} }),
    workflowBundle: env.workflowBundle,
  });
  await sql`create table if not exists bench_export_baseline (key text primary key, data jsonb not null)`.execute(
    env.db,
  );

  const engine = async (name: string): Promise<number> => {
    const connection = uniqueId('bench');
    await saveConnection(env.db, box, { integration: spec.id, id: connection, config: {}, secrets: {} });
    const handle = await startSync(
      env.client,
      { integration: spec.id, connection, resource: name, kind: 'full', pagesPerActivity: 20 },
      { taskQueue },
    );
    return (await handle.result()).inserted;
  };

  /** The hand-written loop: what a user would write without the engine. */
  const baseline = async (name: string): Promise<number> => {
    await sql`truncate bench_export_baseline`.execute(env.db);
    const path = spec.resources[name]!.request.path;
    const res = await fetch(`${files.url}${path}`);
    if (!res.ok || !res.body) throw new Error(`baseline: ${res.status}`);
    let body: Readable = Readable.fromWeb(res.body);
    if (path.endsWith('.gz')) body = body.pipe(zlib.createGunzip());
    const rows: AsyncIterable<Record<string, unknown>> = path.includes('.csv')
      ? body.pipe(parseCsv({ columns: true }))
      : (async function* () {
          for await (const line of readline.createInterface({ input: body, crlfDelay: Infinity }))
            if (line) yield JSON.parse(line) as Record<string, unknown>;
        })();
    let keys: string[] = [];
    let datas: string[] = [];
    let n = 0;
    const flush = async () => {
      if (!keys.length) return;
      await sql`insert into bench_export_baseline (key, data)
        select * from unnest(${keys}::text[], ${datas}::jsonb[])
        on conflict (key) do update set data = excluded.data`.execute(env.db);
      n += keys.length;
      keys = [];
      datas = [];
    };
    for await (const r of rows) {
      keys.push(String(r.id));
      datas.push(
        JSON.stringify({
          id: Number(r.id),
          name: r.name,
          email: r.email,
          amount: Number(r.amount),
          updated_at: new Date(String(r.updated_at)).toISOString(),
          note: r.note,
        }),
      );
      if (keys.length >= 2000) await flush();
    }
    await flush();
    return n;
  };

  const measure = async (label: string, fn: () => Promise<number>) => {
    global.gc?.();
    const startRss = process.memoryUsage().rss;
    let peak = startRss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const start = performance.now();
    const inserted = await fn();
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    if (inserted !== records) throw new Error(`${label} inserted ${inserted} of ${records} records`);
    return {
      label,
      seconds,
      perSecond: records / seconds,
      peakMb: peak / 2 ** 20,
      startMb: startRss / 2 ** 20,
    };
  };

  try {
    console.log(
      `exports: ${records.toLocaleString('en')} records (~${Math.round((records * 205) / 1e6)} MB as JSON Lines), engine chunks of 2,000`,
    );
    for (const name of only) {
      const base = await measure('hand-written', () => baseline(name));
      const eng = await measure('engine', () => engine(name));
      const fmt = (r: typeof base) =>
        `    ${r.label.padEnd(12)} ${r.perSecond.toFixed(0).padStart(7)} records/s  (${r.seconds.toFixed(1)} s, peak RSS ${r.peakMb.toFixed(0)} MiB, ${r.startMb.toFixed(0)} MiB before)`;
      console.log(`  ${name}`);
      console.log(fmt(base));
      console.log(fmt(eng));
      console.log(`    ratio engine/hand-written: ${(eng.perSecond / base.perSecond).toFixed(2)}x`);
    }
  } finally {
    await worker.shutdown();
    files.stop();
    await sql`drop table if exists bench_export_baseline`.execute(env.db);
  }
}
