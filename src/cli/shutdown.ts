/**
 * Orderly shutdown for long-running commands: resources register how to stop, and a signal (or the end of
 * the command) stops them in reverse order of start. A second Ctrl-C exits at once; child processes are
 * still killed by their own exit handlers.
 */
export class ShutdownScope {
  private readonly stops: { name: string; stop: () => Promise<void> | void }[] = [];
  private closing: Promise<void> | undefined;
  private signalled = false;
  private readonly stopped: Promise<NodeJS.Signals>;
  private resolveStopped!: (signal: NodeJS.Signals) => void;

  constructor(private readonly onError: (name: string, error: unknown) => void = () => undefined) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  add(name: string, stop: () => Promise<void> | void): void {
    this.stops.push({ name, stop });
  }

  /** Stops everything registered, last first; errors are reported and do not stop the rest. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const { name, stop } of this.stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          this.onError(name, error);
        }
      }
    })();
    return this.closing;
  }

  /** On SIGINT/SIGTERM: close, then exit with 128+signal. */
  handleSignals(): void {
    const handler = (signal: NodeJS.Signals) => {
      if (this.signalled) process.exit(130);
      this.signalled = true;
      // Work cut short by the shutdown (a pending workflow result on a closed connection) is expected now.
      process.on('unhandledRejection', () => undefined);
      this.resolveStopped(signal);
      void this.close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }

  /** Resolves when a signal arrives (for commands that stay up until Ctrl-C). */
  untilSignal(): Promise<NodeJS.Signals> {
    return this.stopped;
  }
}
