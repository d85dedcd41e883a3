/**
 * Bytes a process allocated over a stretch of work, and the collections it paid for them.
 * V8 counts no allocations, but every byte allocated is either still in the heap at the end
 * or was freed by a collection: the growth of the heap in use plus what each collection in
 * between took away (from `GCProfiler`, which reports the heap before and after each).
 */
import { GCProfiler, getHeapStatistics } from 'node:v8'

/** What {@link AllocationMeter.stop} reports. */
export interface Allocation {
  /** Bytes allocated on the JavaScript heap since the meter started. */
  bytes: number
  /** Young-generation collections (scavenges) and their pause in all, in ms. */
  scavenges: number
  scavengeMs: number
  /** Every other collection (mark-compact and incremental marking steps) and its pause in all, in ms. */
  majors: number
  majorMs: number
}

/** A running measurement; {@link startAllocationMeter} makes one. */
export interface AllocationMeter {
  stop: () => Allocation
}

/** Starts counting this process's allocations and collections. One meter at a time per process. */
export function startAllocationMeter (): AllocationMeter {
  const profiler = new GCProfiler()
  const usedAtStart = getHeapStatistics().used_heap_size
  profiler.start()
  return {
    stop: () => {
      const usedAtEnd = getHeapStatistics().used_heap_size
      const out: Allocation = { bytes: usedAtEnd - usedAtStart, scavenges: 0, scavengeMs: 0, majors: 0, majorMs: 0 }
      for (const gc of profiler.stop().statistics) {
        out.bytes += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize
        // `cost` is in microseconds
        if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkCompact') {
          out.scavenges++
          out.scavengeMs += gc.cost / 1000
        } else {
          out.majors++
          out.majorMs += gc.cost / 1000
        }
      }
      return out
    }
  }
}
