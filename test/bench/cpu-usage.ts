/**
 * CPU time spent by what a benchmark runs, read from /proc (Linux): this process, its descendants (the
 * Temporal dev server when the bench started it) and the Postgres backends serving a database. On a
 * machine shared with other jobs wall time follows their load; CPU time per record follows it far less,
 * so the benches print both. Elsewhere (no /proc) the figures are absent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

export interface CpuSnapshot {
  /** This process (user + system), ms. */
  self: number;
  /** Per pid, ms: descendants of this process (the Temporal dev server when the bench started it). */
  children: Map<number, number>;
  /** Per pid, ms: the database's Postgres backends. */
  backends: Map<number, number>;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux.

/** utime + stime (ms) and the parent pid of a process, or undefined when it is gone or unreadable. */
function procStat(pid: number): { cpu: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields count from the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) * TICK_MS };
  } catch {
    return undefined;
  }
}

function descendants(root: number): number[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const s = procStat(pid);
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const todo = [...(children.get(root) ?? [])];
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * The CPU counters now. `databases` names the databases whose backends count (a local Postgres only:
 * their pids must be this machine's).
 */
export async function cpuSnapshot(pool: pg.Pool, databases: string[]): Promise<CpuSnapshot> {
  const backends = await pool.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = any($1::text[])',
    [databases],
  );
  const read = (pids: number[]) => {
    const out = new Map<number, number>();
    for (const pid of pids) {
      const s = procStat(pid);
      if (s) out.set(pid, s.cpu);
    }
    return out;
  };
  const u = process.cpuUsage();
  return {
    self: (u.user + u.system) / 1000,
    children: read(descendants(process.pid)),
    backends: read(backends.rows.map((r) => r.pid)),
  };
}

/**
 * CPU ms between two snapshots: this process, its descendants and the Postgres backends (a process that appeared meanwhile counts
 * from zero; one that ended meanwhile is lost, which pools that keep their connections avoid).
 */
export function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
): { self: number; children: number; postgres: number } {
  const sum = (x: Map<number, number>, y: Map<number, number>) => {
    let total = 0;
    for (const [pid, ms] of y) total += ms - (x.get(pid) ?? 0);
    return total;
  };
  return {
    self: b.self - a.self,
    children: sum(a.children, b.children),
    postgres: sum(a.backends, b.backends),
  };
}
