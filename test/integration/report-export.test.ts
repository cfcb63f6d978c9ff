/**
 * A "report" export of the generic kind (spec `export` with `results.urlsPath`): the status answer
 * lists several gzip CSV files on another host, and asks for its next poll with Retry-After. Through
 * the real engine: the suggested wait is kept, each file is streamed and committed in chunks, and the
 * files' URLs (signed) never reach workflow history.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { integrationSpecSchema } from '../../src/spec/schema.js';
import { startEngine, type EngineHarness } from '../helpers/engine.js';
import { testEnv, uniqueId, type TestEnv } from '../helpers/stack.js';

const PER_FILE = 1500;
const FILES = 3;

interface Server {
  url: string;
  filesUrl: string;
  polls: number[];
  downloads: string[];
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The report API and a file host (another origin) serving part k as records k·PER_FILE+1 …. */
async function startReportServer(): Promise<Server> {
  const polls: number[] = [];
  const downloads: string[] = [];
  const part = (k: number) => {
    let text = 'id,name,amount\n';
    for (let i = 1; i <= PER_FILE; i++) {
      const id = k * PER_FILE + i;
      text += `${id},"Row ${id}, part ${k}",${(id * 7) % 1000}.5\n`;
    }
    return zlib.gzipSync(text);
  };
  const files = await listen((req, res) => {
    const m = /^\/parts\/(\d+)\.csv\.gz$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    downloads.push(req.url ?? '');
    if (!m || !/sig=ok/.test(req.url ?? '')) return void res.writeHead(403).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(part(Number(m[1])));
  });
  const api = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/reports') {
      res.writeHead(201, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ report: { id: 'r-1' } }));
    }
    if (url.pathname === '/reports/r-1') {
      polls.push(Date.now());
      const done = polls.length >= 3;
      res.writeHead(200, { 'content-type': 'application/json', ...(done ? {} : { 'retry-after': '2' }) });
      return void res.end(
        JSON.stringify(
          done
            ? {
                status: 'ready',
                rows: FILES * PER_FILE,
                files: Array.from({ length: FILES }, (_, k) => ({
                  url: `${files.url}/parts/${k}.csv.gz?sig=ok`,
                })),
              }
            : { status: 'processing', rows: null, files: [] },
        ),
      );
    }
    res.writeHead(404).end();
  });
  return {
    url: api.url,
    filesUrl: files.url,
    polls,
    downloads,
    close: async () => {
      for (const s of [api.server, files.server]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}

describe('report export: several gzip CSV files listed by the status answer', { timeout: 300_000 }, () => {
  let env: TestEnv;
  let server: Server;
  let engine: EngineHarness;

  before(async () => {
    env = await testEnv();
    server = await startReportServer();
    const spec = integrationSpecSchema.parse({
      id: 'reports',
      baseUrl: server.url,
      // The file host: another origin, which gets no credentials.
      allowedOrigins: [server.filesUrl],
      resources: {
        rows: {
          primaryKey: 'id',
          fields: { id: { type: 'integer' }, name: 'name', amount: { type: 'number' } },
          export: {
            submit: {
              request: { method: 'POST', path: '/reports', body: { format: 'csv' } },
              jobIdPath: 'report.id',
            },
            status: {
              request: { path: '/reports/{job.id}' },
              statePath: 'status',
              states: {
                pending: ['queued'],
                running: ['processing'],
                completed: ['ready'],
                failed: ['error'],
              },
              recordCountPath: 'rows',
              interval: { initialSeconds: 0.5, minSeconds: 0.5, maxSeconds: 5, backoff: 1 },
            },
            results: { urlsPath: 'files.*.url' },
            download: { format: 'csv', chunkRecords: 400 },
          },
        },
      },
    });
    engine = await startEngine(env, [spec]);
  });
  after(async () => {
    await engine?.close();
    await server?.close();
    await env?.close();
  });

  it('waits as Retry-After says, reads every file in chunks, keeps signed URLs out of history', async () => {
    const conn = uniqueId('r');
    await engine.addConnection('reports', conn);
    const handle = await engine.run(engine.input('reports', conn, 'rows'));
    const r = await handle.result();
    assert.equal(r.status, 'completed');
    assert.equal(r.inserted, FILES * PER_FILE);
    assert.equal(r.fetched, FILES * PER_FILE);
    assert.equal(r.pages, FILES * Math.ceil(PER_FILE / 400));
    // Retry-After: 2 wins over the spec's 0.5 s interval.
    const gaps = server.polls.slice(1, 3).map((t, i) => t - server.polls[i]!);
    for (const g of gaps) assert.ok(g >= 1900, `waits ${gaps.join(', ')} ms`);
    assert.equal(server.downloads.length, FILES, 'each file once');
    assert.ok(!historyToJSON(await handle.fetchHistory()).includes('sig=ok'), 'no signed URL in history');
    const row = await env.db
      .selectFrom('records')
      .select('data')
      .where('connection', '=', conn)
      .where('record_key', '=', String(2 * PER_FILE + 7))
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.data, {
      id: 2 * PER_FILE + 7,
      name: `Row ${2 * PER_FILE + 7}, part 2`,
      amount: (((2 * PER_FILE + 7) * 7) % 1000) + 0.5,
    });
  });
});
