import { FIGURE_SAMPLES, LATENCY_ROTATE_MS } from '@simplepool/core'
import { LatencyHistogram } from './latency.js'

/** Cumulative counters of one pool on one node. The hot path only increments these. */
export interface PoolCounters {
  /** Activations started (spawned, or brought back after passivation). */
  activations: number
  /** Turns run: calls, casts and ticks. */
  turns: number
  /** Ticks queued by the timing wheel. */
  ticks: number
  /** Turns whose handler threw, and activations whose `load`/`init` threw. */
  failures: number
  /** Calls that ran past their deadline, in the mailbox or in their turn. */
  timeouts: number
  /** Workers saved and deactivated after being idle, or on request. */
  passivations: number
  /** Messages refused because a mailbox was full. */
  overloaded: number
  /** Casts lost in a mailbox: their worker failed to activate, or the node stopped. */
  droppedCasts: number
  /** Workers handed to another node, and taken from one. */
  migratedOut: number
  migratedIn: number
  /** New workers this node owned but sent to the next node on the ring, being at its hard limit. */
  spilled: number
  /** Activations dropped unsaved because a newer copy of the worker lives elsewhere (fencing). */
  fenced: number
  /** Writes a store refused with `StaleWriteError` (a newer copy's epoch holds the row); each dropped its activation. */
  staleWrites: number
  /** Messages for ids this node does not own, sent on to the owner it sees. */
  forwarded: number
}

/**
 * A pool's figures on one node: cumulative counters, sampled once a second into a ring
 * so rates over the last second and minute need no work per message, and turn latency in
 * two alternating histograms so quantiles cover the last 30 to 60 seconds.
 */
export class PoolStats {
  readonly counters: PoolCounters = { activations: 0, turns: 0, ticks: 0, failures: 0, timeouts: 0, passivations: 0, overloaded: 0, droppedCasts: 0, migratedOut: 0, migratedIn: 0, fenced: 0, staleWrites: 0, spilled: 0, forwarded: 0 }
  private readonly samples: Array<{ at: number, c: PoolCounters }> = []
  private current = new LatencyHistogram()
  private previous = new LatencyHistogram()
  /** Every turn before `previous`: with it and `current`, the histogram since the pool started. */
  private readonly retired = new LatencyHistogram()
  private rotatedAt = -Infinity

  /** Records one turn's duration. */
  latency (ms: number): void {
    this.current.record(ms)
  }

  /** Takes a one-second sample; the node calls this from its one stats timer. */
  sample (now: number): void {
    this.samples.push({ at: now, c: { ...this.counters } })
    if (this.samples.length > FIGURE_SAMPLES) this.samples.shift()
    if (now - this.rotatedAt >= LATENCY_ROTATE_MS) {
      const t = this.previous
      this.previous = this.current
      this.current = t
      this.retired.add(this.current)
      this.current.reset()
      this.rotatedAt = now
    }
  }

  /** Per second, over the last `windowMs` (as far back as samples go). */
  ratePerSec (key: keyof PoolCounters, now: number, windowMs: number): number {
    const base = this.sampleAtOrBefore(now - windowMs)
    if (base === undefined) return 0
    const dt = (now - base.at) / 1000
    return dt > 0 ? (this.counters[key] - base.c[key]) / dt : 0
  }

  /** Count over the last minute (or since the first sample, when younger). */
  perMinute (key: keyof PoolCounters, now: number): number {
    const base = this.sampleAtOrBefore(now - 60_000)
    return base === undefined ? this.counters[key] : this.counters[key] - base.c[key]
  }

  /** Turn latency quantile (ms) over the last 30 to 60 seconds. */
  quantile (q: number): number {
    const h = new LatencyHistogram()
    h.add(this.previous)
    h.add(this.current)
    return h.quantile(q)
  }

  /**
   * Turn latencies since the pool started: two snapshots' difference is the histogram of
   * the turns between them, which merges across nodes (the dashboard's p50/p99). Costs
   * nothing per turn; the counts are added up only when asked.
   */
  cumulative (): LatencyHistogram {
    const h = new LatencyHistogram()
    h.add(this.retired)
    h.add(this.previous)
    h.add(this.current)
    return h
  }

  /** The newest sample taken at or before `at`, or else the oldest sample (undefined before the first). */
  private sampleAtOrBefore (at: number): { at: number, c: PoolCounters } | undefined {
    let best: { at: number, c: PoolCounters } | undefined
    for (let i = this.samples.length - 1; i >= 0; i--) {
      best = this.samples[i]
      if (best.at <= at) break
    }
    return best
  }
}
