/** Stopping the servers the stack starts as child processes (Temporal dev server, embedded Postgres). */
import type { ChildProcess } from 'node:child_process';

/**
 * Sends `signal` (the server's own clean-shutdown signal) and waits for the exit, with SIGKILL after
 * `graceMs`; `killOnExit` (the process 'exit' hook that kills the child if we die first) is removed.
 */
export async function stopChild(
  child: ChildProcess,
  killOnExit: () => void,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  process.off('exit', killOnExit);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
