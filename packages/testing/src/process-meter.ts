/**
 * How busy a harness child was over a measured window: the same two commands serve the
 * bare transport nodes and the SimplePool nodes.
 */
let mark: { at: number, elu: ReturnType<typeof performance.eventLoopUtilization>, cpu: NodeJS.CpuUsage } | undefined

/** Marks the start of a measured window: event-loop utilisation and process CPU time from here are what `benchRead` reports. */
export function benchMark (): true {
  mark = { at: performance.now(), elu: performance.eventLoopUtilization(), cpu: process.cpuUsage() }
  return true
}

/**
 * Since `benchMark`: the share of wall time the event loop was busy (1 means this
 * process's main thread was the bottleneck) and CPU milliseconds of all its threads
 * (GC and libuv too).
 */
export function benchRead (): { wallMs: number, elu: number, cpuUserMs: number, cpuSystemMs: number } {
  if (mark == null) throw new Error('benchRead before benchMark')
  const elu = performance.eventLoopUtilization(mark.elu)
  const cpu = process.cpuUsage(mark.cpu)
  return { wallMs: performance.now() - mark.at, elu: elu.utilization, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 }
}
