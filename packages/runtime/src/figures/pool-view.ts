import { RATE_WINDOW_MS } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import type { LocalPool } from '../activation/local-pool.js'
import { poolStatus } from './health.js'
import type { PoolHealth } from './health.js'
import type { LatencyHistogram } from './latency.js'
import type { PoolCounters } from './pool-stats.js'

/**
 * One pool on this node as the node around the runtime may see it: its figures, read
 * when asked, and nothing it could change. Health, metrics, the admin API and the
 * command line read pools through this, never through the pool's own tables.
 */
export class PoolView {
  private readonly pool: LocalPool
  private readonly clock: Clock
  private readonly spilledCount: () => number

  constructor (pool: LocalPool, clock: Clock, spilledCount: () => number) {
    this.pool = pool
    this.clock = clock
    this.spilledCount = spilledCount
  }

  get name (): string {
    return this.pool.name
  }

  /** Workers active on this node now. */
  get size (): number {
    return this.pool.activations.size
  }

  /** This node's target for the pool (its ring weight follows it), and the limits derived from it. */
  get target (): number {
    return this.pool.target
  }

  get softLimit (): number {
    return this.pool.softLimit
  }

  get hardLimit (): number {
    return this.pool.hardLimit
  }

  /** Workers this node owns that live on the next node of the ring (this node was at its hard limit). */
  get spilled (): number {
    return this.spilledCount()
  }

  /** Cumulative counters since the pool started here. */
  get counters (): Readonly<PoolCounters> {
    return this.pool.stats.counters
  }

  /** Turn duration quantile (ms) over the last 30 to 60 seconds. */
  quantile (q: number): number {
    return this.pool.stats.quantile(q)
  }

  /** Turn durations since the pool started (a copy): see `PoolStats.cumulative`. */
  cumulativeLatency (): LatencyHistogram {
    return this.pool.stats.cumulative()
  }

  /** The epoch of worker `id` live here, or undefined. */
  epochOf (id: string): number | undefined {
    return this.pool.activations.get(id)?.epoch
  }

  /** The pool's health on this node: its figures and the status the pool's thresholds give them. */
  health (): PoolHealth {
    const s = this.pool.stats
    const now = this.clock.monotonic()
    const figures = {
      active: this.size,
      target: this.target,
      softLimit: this.softLimit,
      hardLimit: this.hardLimit,
      spawnsPerSec: s.ratePerSec('activations', now, RATE_WINDOW_MS),
      msgsPerSec: s.ratePerSec('turns', now, RATE_WINDOW_MS),
      failuresPerMin: s.perMinute('failures', now),
      timeoutsPerMin: s.perMinute('timeouts', now),
      overloadedPerMin: s.perMinute('overloaded', now),
      migratedOutPerMin: s.perMinute('migratedOut', now),
      migratedInPerMin: s.perMinute('migratedIn', now),
      spilled: this.spilled,
      p50Ms: s.quantile(0.5),
      p99Ms: s.quantile(0.99),
      turnsPerMin: s.perMinute('turns', now)
    }
    const judged = poolStatus(figures, this.pool.def.health)
    const { turnsPerMin: _, ...shown } = figures
    return { ...shown, ...judged }
  }
}
