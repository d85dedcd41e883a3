/**
 * What a harness child measures about itself over a benchmark window: how busy it was,
 * and how its transport framed what it sent. The bare transport nodes and the SimplePool
 * nodes share these.
 */
import type { TransportStats } from '@simplepool/transport'

/** Transport counters that say how envelopes were framed. */
export type StatsDelta = Pick<TransportStats, 'framesOut' | 'framesIn' | 'envelopesOut' | 'envelopesIn'>

/** Anything with a transport: a bare test node or a SimplePool node. */
interface HasTransport { transport: { stats: TransportStats } }

/** The framing counters now. */
export function statsNow (node: HasTransport): StatsDelta {
  const s = node.transport.stats
  return { framesOut: s.framesOut, framesIn: s.framesIn, envelopesOut: s.envelopesOut, envelopesIn: s.envelopesIn }
}

/** The framing counters moved since `before`. */
export function statsSince (node: HasTransport, before: StatsDelta): StatsDelta {
  const now = statsNow(node)
  return {
    framesOut: now.framesOut - before.framesOut,
    framesIn: now.framesIn - before.framesIn,
    envelopesOut: now.envelopesOut - before.envelopesOut,
    envelopesIn: now.envelopesIn - before.envelopesIn
  }
}

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
