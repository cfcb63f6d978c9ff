/** The spec of the sync-memory benchmark (shared by the bench and its worker process). */
import { defineIntegration } from '../../src/spec/define.js';

export const MEMORY_BENCH_PAGE_SIZE = 1000;

export function memoryBenchSpec(baseUrl: string) {
  return defineIntegration({
    id: 'bench',
    baseUrl,
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
        pagination: {
          type: 'page',
          pageParam: 'page',
          sizeParam: 'per_page',
          pageSize: MEMORY_BENCH_PAGE_SIZE,
        },
      },
    },
  });
}
