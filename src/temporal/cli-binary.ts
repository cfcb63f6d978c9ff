/**
 * Finds or builds the official `temporal` CLI, which embeds the Temporal server and its Web UI.
 * Order: TEMPORAL_CLI → `temporal` on PATH → our cache → `go install` into the cache → the SDK's download.
 */
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../log.js';

const run = promisify(execFile);

/** Newer CLI versions carry a replace directive in go.mod and refuse `go install`. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type TemporalCli =
  | { kind: 'binary'; path: string; source: 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'go install' }
  /** No binary and no Go: let the SDK download its dev server (needs internet). */
  | { kind: 'sdk-download' };

export class TemporalCliError extends Error {
  override name = 'TemporalCliError';
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, envPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function cachedCliPath(cacheDir: string): string {
  return path.join(cacheDir, 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

export interface ResolveCliOptions {
  cliPath: string | undefined;
  cacheDir: string;
  log: Logger;
  /** Defaults to process.env.PATH; tests pass their own. */
  searchPath?: string;
}

export async function resolveTemporalCli(options: ResolveCliOptions): Promise<TemporalCli> {
  const { cliPath, cacheDir, log } = options;
  if (cliPath) {
    if (await isExecutable(cliPath))
      return { kind: 'binary', path: path.resolve(cliPath), source: 'TEMPORAL_CLI' };
    throw new TemporalCliError(
      `TEMPORAL_CLI=${cliPath} is not an executable file: point it at a temporal CLI binary or unset it`,
    );
  }
  const found = await onPath('temporal', options.searchPath);
  if (found) return { kind: 'binary', path: found, source: 'PATH' };

  const cached = cachedCliPath(cacheDir);
  if (await isExecutable(cached)) return { kind: 'binary', path: cached, source: 'cache' };

  const go = await onPath('go', options.searchPath);
  if (!go) {
    log.warn(
      'no temporal CLI and no Go toolchain: falling back to the Temporal SDK download (needs internet)',
    );
    return { kind: 'sdk-download' };
  }
  await goInstall(go, cached, log);
  return { kind: 'binary', path: cached, source: 'go install' };
}

/** Builds into a private directory and renames into place, so concurrent first runs never see half a file. */
async function goInstall(go: string, target: string, log: Logger): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmpBin = await fs.mkdtemp(path.join(dir, '.build-'));
  log.info(
    { module: `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`, into: dir },
    'building the Temporal CLI from its Go module (first run on this machine only; takes a few minutes)',
  );
  try {
    await run(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: tmpBin, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
      maxBuffer: 64 * 1024 * 1024,
    });
    await fs.rename(path.join(tmpBin, 'temporal'), target);
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-5).join('\n');
    throw new TemporalCliError(
      `building the Temporal CLI with \`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}\` failed` +
        (stderr ? `:\n${stderr}\n` : '. ') +
        'Set TEMPORAL_ADDRESS to an existing Temporal server, or TEMPORAL_CLI to a temporal binary',
      { cause: error },
    );
  } finally {
    await fs.rm(tmpBin, { recursive: true, force: true });
  }
}
