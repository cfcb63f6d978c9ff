/**
 * How `sync --wait` and the demo show a running sync: a cli-progress bar on a terminal (pages, records,
 * rate, ETA; a bar when the provider tells the total), plain lines otherwise (logs, CI, pipes).
 */
import cliProgress from 'cli-progress';
import type { SyncProgress } from '../../workflows/definitions.js';

export interface ProgressDisplay {
  update(p: SyncProgress): void;
  stop(): void;
}

export function createProgressDisplay(options: {
  tty: boolean;
  out: (line: string) => void;
}): ProgressDisplay {
  if (!options.tty) {
    let last = '';
    return {
      update(p) {
        const total = p.total !== null ? `/${p.total}` : '';
        const eta = p.etaSeconds !== null ? `, ETA ${p.etaSeconds}s` : '';
        const line = `${p.status}: ${p.pages} pages, ${p.records}${total} records, ${p.ratePerSecond}/s${eta}`;
        if (line !== last) options.out(line);
        last = line;
      },
      stop: () => undefined,
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(p) {
      const payload = { pages: p.pages, rate: p.ratePerSecond, status: p.status, eta: p.etaSeconds ?? '?' };
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format:
              p.total !== null
                ? '{status} {bar} {percentage}% | {value}/{total} records | {pages} pages | {rate}/s | ETA {eta}s'
                : '{status} {value} records | {pages} pages | {rate}/s',
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total ?? 0, p.records, payload);
      }
      if (p.total !== null) bar.setTotal(p.total);
      bar.update(p.records, payload);
    },
    stop: () => bar?.stop(),
  };
}
