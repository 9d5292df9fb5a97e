/**
 * Bytes this thread's JS heap allocated over a stretch of time: what its garbage collections
 * freed, plus what it grew by. Unlike a rate or a latency, this does not move with the machine's
 * speed, so a change to the hub's hot path shows in it from one run to the next. Buffers' bytes
 * outside the heap are not counted.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';

export function measureHeapAllocation(): { stop(): number } {
  const profiler = new GCProfiler();
  const usedBefore = getHeapStatistics().used_heap_size;
  profiler.start();
  return {
    stop() {
      const usedAfter = getHeapStatistics().used_heap_size;
      let freed = 0;
      for (const gc of profiler.stop().statistics) {
        freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      }
      return freed + usedAfter - usedBefore;
    },
  };
}
