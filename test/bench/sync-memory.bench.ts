/**
 * Memory of a long sync: the engine syncs 1,000,000 records (1,000 per page) through the testing kit's
 * stack while the process's RSS is sampled. The pages come from a small server in this process that
 * makes each page from its number, so the provider's data does not weigh on the figure: what grows is
 * the engine's (the worker, its workflow sandbox, its pools and the pages in flight).
 *   npm run bench -- sync-memory [records]      (about a minute per million records on 2 cores)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineIntegration } from '../../src/spec/define.js';
import { createTestStack } from '../../src/testing/test-stack.js';

const LIMIT_MIB = 256;

function pageServer(count: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bench');
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = Number(url.searchParams.get('per_page') ?? 100);
    const data = [];
    for (let i = (page - 1) * size; i < Math.min(count, page * size); i++) {
      data.push({
        id: i + 1,
        title: `Issue ${i + 1}`,
        state: i % 3 === 0 ? 'closed' : 'open',
        priority: (i % 5) + 1,
        assignee: i % 4 === 0 ? null : `user${i % 97}`,
        created_at: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
        updated_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      });
    }
    const body = JSON.stringify({ data, total: count, next_page: page * size < count ? page + 1 : null });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => {
          server.closeAllConnections();
          return new Promise<void>((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

export async function syncMemoryBenchmark(records: number): Promise<void> {
  const server = await pageServer(records);
  const spec = defineIntegration({
    id: 'bench',
    baseUrl: server.url,
    resources: {
      issues: {
        request: { path: '/issues' },
        recordsPath: 'data',
        primaryKey: 'id',
        fields: {
          id: { from: 'id', type: 'integer' },
          title: 'title',
          state: 'state',
          priority: { type: 'integer' },
          assignee: 'assignee',
          created_at: { type: 'timestamp' },
          updated_at: { type: 'timestamp' },
        },
        pagination: { type: 'page', pageParam: 'page', sizeParam: 'per_page', pageSize: 1000 },
      },
    },
  });
  const stack = await createTestStack({ specs: [spec] });
  try {
    await stack.addConnection('bench', 'memory');
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const start = performance.now();
    const summary = await stack.sync('bench', 'issues', { connection: 'memory' });
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    if (summary.inserted !== records)
      throw new Error(`the engine inserted ${summary.inserted} of ${records} records`);
    const mib = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(`sync-memory: ${records.toLocaleString('en')} records, 1,000 per page, one process`);
    console.log(`  ${(records / seconds).toFixed(0)} records/s (${seconds.toFixed(1)} s)`);
    console.log(
      `  RSS before ${mib(before)} MiB, peak ${mib(peak)} MiB (target <= ${LIMIT_MIB} MiB): ` +
        (peak <= LIMIT_MIB * 2 ** 20 ? 'ok' : 'OVER'),
    );
  } finally {
    await stack.close();
    await server.close();
  }
}
