/**
 * A node's health: each pool's, as the runtime's view of the pool judges it, and the
 * node's own event-loop delay. A node is as bad as its worst pool, and `degraded`
 * (`critical`) when its event-loop delay p99 passes 200 ms (1 s). See the README.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Clock } from '@simplepool/core'
import { worse } from '@simplepool/runtime'
import type { HealthStatus, NodeHealth, PoolHealth, PoolView } from '@simplepool/runtime'
import { LOOP_WINDOW_MS, NODE_CRITICAL_LOOP_DELAY_MS, NODE_DEGRADED_LOOP_DELAY_MS } from '@simplepool/core'

/** How often the event loop's delay is sampled, in ms. */
const LOOP_SAMPLE_MS = 20

/**
 * A delay the loop monitor recorded (ns), as the delay past the sampling interval in ms.
 * Node's histogram records the whole time between two samples: an idle loop reads the
 * interval itself (about 20 ms), which the health figure added to every node's delay.
 */
export function loopDelayMs (recordedNs: number, sampleMs = LOOP_SAMPLE_MS): number {
  return Math.max(0, recordedNs / 1e6 - sampleMs)
}

/** What a node's health reads. */
export interface NodeHealthComponents {
  /** The loop-delay window is measured on it. */
  clock: Clock
  /** This node's peer id. */
  self: () => string
  /** This node's pools, as the runtime shows them. */
  pools: () => readonly PoolView[]
  /** Workers still to hand over or to look at. */
  migrationBacklog: () => number
  /** Replicas kept here, and their bytes. */
  replicas: () => { replicas: number, bytes: number }
}

/** Reads a node's health when asked; between two questions it only samples the event loop's delay. */
export class NodeHealthMonitor {
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS })
  private loopWindowStart = 0
  private lastLoopP99 = 0

  constructor (private readonly c: NodeHealthComponents) {}

  /** Starts measuring the event loop's delay. */
  start (): void {
    this.loopDelay.enable()
  }

  stop (): void {
    this.loopDelay.disable()
  }

  /** The node's health now, per pool and as a whole. */
  health (): NodeHealth {
    const loopP99 = this.loopDelayP99(this.c.clock.monotonic())
    const pools: Record<string, PoolHealth> = {}
    let status: HealthStatus = 'online'
    const reasons: string[] = []
    for (const view of this.c.pools()) {
      const judged = view.health()
      pools[view.name] = judged
      status = worse(status, judged.status)
      for (const r of judged.reasons) reasons.push(`${view.name}: ${r}`)
    }
    if (loopP99 >= NODE_CRITICAL_LOOP_DELAY_MS) {
      status = 'critical'
      reasons.push(`event-loop delay p99 ${loopP99.toFixed(0)} ms`)
    } else if (loopP99 >= NODE_DEGRADED_LOOP_DELAY_MS) {
      status = worse(status, 'degraded')
      reasons.push(`event-loop delay p99 ${loopP99.toFixed(0)} ms`)
    }
    const r = this.c.replicas()
    return { node: this.c.self(), status, eventLoopDelayP99Ms: loopP99, migrationBacklog: this.c.migrationBacklog(), replicas: { count: r.replicas, bytes: r.bytes }, pools, reasons }
  }

  /**
   * The loop delay's p99: the larger of the window now open and the last one closed. A
   * window lasts {@link LOOP_WINDOW_MS}, so a stall shows for 10 to 20 s, then is forgotten.
   */
  private loopDelayP99 (now: number): number {
    if (now - this.loopWindowStart >= LOOP_WINDOW_MS) {
      if (this.loopDelay.count > 0) this.lastLoopP99 = loopDelayMs(this.loopDelay.percentile(99))
      this.loopDelay.reset()
      this.loopWindowStart = now
    }
    return this.loopDelay.count > 0 ? Math.max(this.lastLoopP99, loopDelayMs(this.loopDelay.percentile(99))) : this.lastLoopP99
  }
}
