// Loaded into the edge with `node --require` for the bench's peak row: the
// edge's event-loop delay, its garbage collections and the JS heap bytes it
// allocates over the measured window, without changing the edge. The bench
// sends SIGUSR2 when the window opens and again when it closes; on the second
// it writes what it saw to `$BENCH_RUNTIME_STATS.<pid>.json`. Outside the
// window nothing is sampled.
//
// Event-loop delay: perf_hooks.monitorEventLoopDelay, a 1 ms libuv timer whose
// lateness is recorded (node records the whole interval, so the resolution is
// subtracted). GC: v8.GCProfiler, one record per collection with its pause
// (cost, microseconds) and the heap used before and after it. JS heap bytes
// allocated over the window = heap used at the end - heap used at the start +
// what every collection freed; the bytes of Buffers and other memory outside
// the JS heap are not in it.
import * as fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as v8 from 'node:v8';

const RESOLUTION_MS = 1;

export interface RuntimeStats {
  windowMs: number;
  loopDelayMs: { p50: number; p99: number; max: number; mean: number; samples: number };
  gc: { count: number; totalPauseMs: number; maxPauseMs: number; byType: Record<string, { count: number; totalPauseMs: number }> };
  heapAllocatedBytes: number;
  heapUsedBytes: { start: number; end: number };
}

interface GcRecord {
  gcType: string;
  cost: number;
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

const out = process.env.BENCH_RUNTIME_STATS;
if (out !== undefined && out !== '') {
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let window: { t0: number; heap0: number; profiler: v8.GCProfiler } | undefined;
  process.on('SIGUSR2', () => {
    if (window === undefined) {
      loop.reset();
      loop.enable();
      const profiler = new v8.GCProfiler();
      profiler.start();
      window = { t0: performance.now(), heap0: v8.getHeapStatistics().used_heap_size, profiler };
      return;
    }
    const { t0, heap0, profiler } = window;
    window = undefined;
    loop.disable();
    const records = (profiler.stop()?.statistics ?? []) as GcRecord[];
    const heap1 = v8.getHeapStatistics().used_heap_size;
    const delay = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    const byType: RuntimeStats['gc']['byType'] = {};
    let freed = 0;
    let totalPauseMs = 0;
    let maxPauseMs = 0;
    for (const r of records) {
      const pauseMs = r.cost / 1000;
      freed += r.beforeGC.heapStatistics.usedHeapSize - r.afterGC.heapStatistics.usedHeapSize;
      totalPauseMs += pauseMs;
      maxPauseMs = Math.max(maxPauseMs, pauseMs);
      const t = (byType[r.gcType] ??= { count: 0, totalPauseMs: 0 });
      t.count++;
      t.totalPauseMs += pauseMs;
    }
    const stats: RuntimeStats = {
      windowMs: performance.now() - t0,
      loopDelayMs: { p50: delay(loop.percentile(50)), p99: delay(loop.percentile(99)), max: delay(loop.max), mean: delay(loop.mean), samples: loop.count },
      gc: { count: records.length, totalPauseMs, maxPauseMs, byType },
      heapAllocatedBytes: heap1 - heap0 + freed,
      heapUsedBytes: { start: heap0, end: heap1 },
    };
    const file = `${out}.${process.pid}.json`;
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(stats));
    fs.renameSync(`${file}.tmp`, file);
  });
}
