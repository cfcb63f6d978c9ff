/**
 * Downloads kept open between the chunks of a run, one per run. `take` hands one over exclusively (a
 * concurrent attempt of the same run cannot share it); one left unclaimed for a minute is closed.
 */

/** How long an open download waits for its run's next chunk before it is closed. */
const OPEN_STREAM_IDLE_MS = 60_000;

export function openStreamCache<T extends { records: { close(): void } }>() {
  const open = new Map<string, { stream: T; timer: NodeJS.Timeout }>();
  return {
    take(runId: string): T | undefined {
      const entry = open.get(runId);
      if (!entry) return undefined;
      open.delete(runId);
      clearTimeout(entry.timer);
      return entry.stream;
    },
    keep(runId: string, stream: T): void {
      const timer = setTimeout(() => {
        if (open.get(runId)?.stream === stream) open.delete(runId);
        stream.records.close();
      }, OPEN_STREAM_IDLE_MS);
      timer.unref();
      open.set(runId, { stream, timer });
    },
  };
}
