/**
 * A provider whose times are written as `dd/MM/yyyy HH:mm` and `yyyyMMdd` (as some real APIs do), for
 * the import test of test/fixtures/airbyte/cursor-formats.yaml: visits read in `from`/`to` windows
 * (from inclusive, to exclusive, refused unless both are in that form) and daily rates read from a
 * `since` day on. Its own formatting and parsing, independent of the engine's.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const VISITS_KEY = 'visits-key-7731';

export interface Visit {
  id: string;
  logged_at: string;
  page: string;
}
export interface Rate {
  day: string;
  rate: number;
}

export interface VisitsApi {
  url: string;
  visits: Visit[];
  rates: Rate[];
  requests: URL[];
  close(): Promise<void>;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `15/03/2026 12:34` for a time (UTC). */
export function dmy(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** `20260315` for a time (UTC). */
export function ymd(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

/** The time of a `dd/MM/yyyy HH:mm` text, or NaN. */
export function fromDmy(text: string): number {
  const m = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d)$/.exec(text);
  return m ? Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1]), Number(m[4]), Number(m[5])) : Number.NaN;
}

export async function startVisitsApi(visits: Visit[], rates: Rate[]): Promise<VisitsApi> {
  const requests: URL[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      requests.push(u);
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers['x-visits-key'] !== VISITS_KEY) return send(401, { error: 'unauthorized' });
      if (u.pathname === '/visits') {
        const from = fromDmy(u.searchParams.get('from') ?? '');
        const to = fromDmy(u.searchParams.get('to') ?? '');
        if (Number.isNaN(from) || Number.isNaN(to))
          return send(400, { error: 'from and to must be dd/mm/yyyy hh:mm' });
        const inRange = visits.filter((v) => fromDmy(v.logged_at) >= from && fromDmy(v.logged_at) < to);
        return send(200, { data: inRange });
      }
      if (u.pathname === '/rates') {
        const since = u.searchParams.get('since') ?? '';
        if (!/^\d{8}$/.test(since)) return send(400, { error: 'since must be yyyymmdd' });
        // yyyymmdd sorts as it reads.
        return send(200, { data: rates.filter((r) => r.day >= since) });
      }
      send(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    visits,
    rates,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
