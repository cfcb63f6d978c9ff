/**
 * A project board API for the tests of children that visit changed parents only: a real HTTP server
 * that answers only the exact requests of its API, with the bearer token, and counts them per path.
 * - `GET /projects`, or `GET /projects?updated_since=YYYY-MM-DDTHH:MM:SSZ` (those updated at or after);
 * - `GET /projects/{id}/tasks`, `GET /teams`, `GET /teams/{id}/members`, with no query.
 * Anything else is refused (400, or 404 for an unknown project or team).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const BOARDS_TOKEN = 'boards-token-5521';

export interface BoardProject {
  id: string;
  name: string;
  updated_at: string;
}
export interface BoardItem {
  id: string;
  title: string;
}

export interface BoardsApi {
  url: string;
  projects: BoardProject[];
  tasks: Map<string, BoardItem[]>;
  teams: { id: string; name: string }[];
  members: Map<string, BoardItem[]>;
  /** Requests per path (query left out) since the last call, in path order. */
  take(): Record<string, number>;
  close(): Promise<void>;
}

const SECONDS_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

export async function startBoardsApi(): Promise<BoardsApi> {
  const projects: BoardProject[] = [];
  const tasks = new Map<string, BoardItem[]>();
  const teams: { id: string; name: string }[] = [];
  const members = new Map<string, BoardItem[]>();
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.headers.authorization !== `Bearer ${BOARDS_TOKEN}`) return send(401, { error: 'unauthorized' });
      if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
      const query = [...u.searchParams.keys()];
      if (u.pathname === '/projects') {
        const since = u.searchParams.get('updated_since');
        if (!(query.length === 0 || (query.length === 1 && since !== null && SECONDS_UTC.test(since))))
          return send(400, { error: 'the only parameter is updated_since, as YYYY-MM-DDTHH:MM:SSZ' });
        count(counts, u.pathname);
        return send(200, { data: since === null ? projects : projects.filter((p) => p.updated_at >= since) });
      }
      if (query.length > 0) return send(400, { error: 'no parameters here' });
      count(counts, u.pathname);
      if (u.pathname === '/teams') return send(200, { data: teams });
      const m = /^\/(projects|teams)\/([a-z0-9]+)\/(tasks|members)$/.exec(u.pathname);
      const list =
        m?.[1] === 'projects' && m[3] === 'tasks'
          ? tasks.get(m[2]!)
          : m?.[1] === 'teams' && m[3] === 'members'
            ? members.get(m[2]!)
            : undefined;
      if (list) return send(200, { data: list });
      send(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    projects,
    tasks,
    teams,
    members,
    take() {
      const out = Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
      counts.clear();
      return out;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function count(counts: Map<string, number>, path: string): void {
  counts.set(path, (counts.get(path) ?? 0) + 1);
}
