/**
 * A real HTTP server serving one large export file (JSON Lines or CSV, optionally gzip), streamed in
 * slices so a client can read it with flat memory, with faults: the connection dropped mid-body, a
 * truncated gzip file. Used by the streamed-export tests and the export benchmark.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';

export type ExportFormat = 'jsonl' | 'csv';

export interface ExportFileOptions {
  records: number;
  /** Bytes of padding text per record, to reach a file size (default 0). */
  pad?: number;
}

/** Record `i` of the export, as JSON. */
export function exportRecord(i: number, pad = 0) {
  return {
    id: i + 1,
    name: `Record ${i + 1}`,
    email: `user${i + 1}@example.com`,
    amount: ((i * 7919) % 100_000) / 100,
    updated_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    note: pad ? 'x'.repeat(pad) : 'plain, "quoted"',
  };
}

export const CSV_HEADER = 'id,name,email,amount,updated_at,note\n';

function csvLine(r: ReturnType<typeof exportRecord>): string {
  return `${r.id},${r.name},${r.email},${r.amount},${r.updated_at},"${r.note.replace(/"/g, '""')}"\n`;
}

/** The export's text, generated lazily in slices of 1,000 records. */
export function* exportText(format: ExportFormat, opts: ExportFileOptions): Generator<string> {
  if (format === 'csv') yield CSV_HEADER;
  for (let start = 0; start < opts.records; start += 1000) {
    let out = '';
    for (let i = start; i < Math.min(opts.records, start + 1000); i++) {
      const r = exportRecord(i, opts.pad);
      out += format === 'csv' ? csvLine(r) : `${JSON.stringify(r)}\n`;
    }
    yield out;
  }
}

export interface ExportFileServer {
  url: string;
  /** Requests per path. */
  requests: Map<string, number>;
  /** The next request of a path breaks off after this many body bytes (once). */
  dropAfter(path: string, bytes: number): void;
  /** Bytes sent for a path's body, per request. */
  close(): Promise<void>;
}

/**
 * Serves `/<name>.jsonl`, `/<name>.csv`, `/<name>.jsonl.gz`, `/<name>.csv.gz`, and `/truncated.jsonl.gz`
 * (a gzip file cut in half). Gzip files are compressed once and kept; plain files are generated per
 * request.
 */
export async function startExportFileServer(opts: ExportFileOptions): Promise<ExportFileServer> {
  const requests = new Map<string, number>();
  const drops = new Map<string, number>();
  const gz = new Map<string, Buffer>();
  const gzipOf = async (format: ExportFormat): Promise<Buffer> => {
    let b = gz.get(format);
    if (!b) {
      const parts: Buffer[] = [];
      const z = Readable.from(exportText(format, opts)).pipe(zlib.createGzip({ level: 1 }));
      for await (const c of z) parts.push(c as Buffer);
      b = Buffer.concat(parts);
      gz.set(format, b);
    }
    return b;
  };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const m = /^\/(?:export|truncated)\.(jsonl|csv)(\.gz)?$/.exec(path);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const format = m[1] as ExportFormat;
    const drop = drops.get(path);
    drops.delete(path);
    void (async () => {
      let source: Readable;
      if (m[2]) {
        let file = await gzipOf(format);
        if (path.startsWith('/truncated')) file = file.subarray(0, Math.floor(file.length / 2));
        source = Readable.from(
          (function* () {
            for (let i = 0; i < file.length; i += 64 * 1024) yield file.subarray(i, i + 64 * 1024);
          })(),
        );
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(file.length) });
      } else {
        source = Readable.from(exportText(format, opts));
        res.writeHead(200, { 'content-type': format === 'csv' ? 'text/csv' : 'application/jsonl' });
      }
      let sent = 0;
      for await (const chunk of source) {
        const buf = Buffer.from(chunk as Buffer | string);
        if (drop !== undefined && sent + buf.length > drop) {
          res.write(buf.subarray(0, Math.max(0, drop - sent)));
          res.destroy();
          return;
        }
        sent += buf.length;
        if (!res.write(buf)) await new Promise((r) => res.once('drain', r));
        if (res.destroyed) return;
      }
      res.end();
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    dropAfter: (path, bytes) => drops.set(path, bytes),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
