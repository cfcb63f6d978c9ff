/**
 * A preload for a benchmark's worker (`node --import ./test/bench/memory-probe.mjs`): once a second it
 * appends a JSON line of where the process's memory is (process.memoryUsage(), V8's heap spaces, and
 * the anonymous/file-backed split of the RSS from /proc) to the file named by MEMORY_PROBE.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { setInterval, setTimeout } from 'node:timers';
import { threadId } from 'node:worker_threads';

const file = process.env.MEMORY_PROBE;
if (file) {
  // Collections so far by kind (PerformanceObserver's gc entries: minor, major, incremental, weakcb).
  const gcs = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      gcs[e.detail?.kind ?? e.kind] = (gcs[e.detail?.kind ?? e.kind] ?? 0) + 1;
  }).observe({ entryTypes: ['gc'] });
  const mib = (n) => Math.round((n / 1048576) * 10) / 10;
  const started = Date.now();
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (k) => mib(Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024);
    const spaces = {};
    for (const s of v8.getHeapSpaceStatistics())
      spaces[s.space_name.replace('_space', '')] = [mib(s.space_size), mib(s.space_used_size)];
    appendFileSync(
      file,
      `${JSON.stringify({
        t: Math.round((Date.now() - started) / 1000),
        thread: threadId,
        rss: mib(m.rss),
        anon: kb('RssAnon'),
        fileRss: kb('RssFile'),
        threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1]),
        heapTotal: mib(m.heapTotal),
        heapUsed: mib(m.heapUsed),
        external: mib(m.external),
        arrayBuffers: mib(m.arrayBuffers),
        spaces,
        gcs,
      })}\n`,
    );
  }, 1000);
  timer.unref();
}

/**
 * MEMORY_PROBE_PROFILE=<file>,<seconds>: a sampling heap profile of the objects that outlived the
 * young generation (promoted, whether or not a full GC later collected them), written after that long.
 */
const profile = process.env.MEMORY_PROBE_PROFILE;
if (profile && (await import('node:worker_threads')).isMainThread) {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const [out, seconds] = profile.split(',');
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
    );
  await post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env.MEMORY_PROBE_ALL === '1',
  });
  setTimeout(
    async () => {
      const { profile: p } = await post('HeapProfiler.stopSampling');
      writeFileSync(out, JSON.stringify(p));
    },
    Number(seconds) * 1000,
  ).unref();
}
