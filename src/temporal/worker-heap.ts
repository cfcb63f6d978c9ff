/**
 * The worker process's heap growth. With Node's default heap limit (a quarter of the machine's memory,
 * 4 GiB here) V8 lets the old generation grow to several times what is live before a full collection:
 * a worker streaming a large export holds ~50 MiB live but reached ~300 MiB RSS, all of it garbage
 * waiting for a collection (README, Benchmarks: export-job). A fixed growth factor makes V8 collect
 * sooner without capping the heap, so a page as large as the engine accepts still fits.
 *
 * Applied once at the start of a worker process (`syncwright worker`, `up`), never by the library:
 * the flag is process-wide, and an embedding application owns its own process.
 */
import v8 from 'node:v8';

/** Default growth: the old generation may grow by half of itself before the next full collection. */
export const DEFAULT_HEAP_GROWING_PERCENT = 50;

/**
 * Sets V8's heap growing factor to 1 + percent/100 for this process (0 leaves V8's own adaptive
 * factor). The factor is read at every collection, so setting it at start-up takes effect.
 */
export function applyWorkerHeapGrowth(percent: number = DEFAULT_HEAP_GROWING_PERCENT): number {
  if (!Number.isInteger(percent) || percent < 0 || percent > 400)
    throw new RangeError(`heap growing percent must be an integer from 0 to 400, got ${percent}`);
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
