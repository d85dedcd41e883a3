import type { HealthThresholds } from '../pool.js'

/** A pool's or a node's state, worst first: `critical`, `degraded`, `online`. */
export type HealthStatus = 'online' | 'degraded' | 'critical'

/** One pool on one node. */
export interface PoolHealth {
  /** Workers active on this node now. */
  active: number
  /** This node's target for the pool, and the limits derived from it. */
  target: number
  softLimit: number
  hardLimit: number
  /** Activations per second over the last 10 s. */
  spawnsPerSec: number
  /** Turns (calls, casts, ticks) per second over the last 10 s. */
  msgsPerSec: number
  /** Over the last minute. */
  failuresPerMin: number
  timeoutsPerMin: number
  overloadedPerMin: number
  /** Workers handed to other nodes, and taken from them, over the last minute (ring changes, drains). */
  migratedOutPerMin: number
  migratedInPerMin: number
  /** Workers this node owns that live on the next node on the ring, because this node was at its hard limit when they started. */
  spilled: number
  /** Turn duration quantiles over the last 30 to 60 s, in ms. */
  p50Ms: number
  p99Ms: number
  status: HealthStatus
  /** Why the status is not `online`, one phrase per rule that fired. */
  reasons: string[]
}

/** One node. */
export interface NodeHealth {
  node: string
  status: HealthStatus
  /** Event-loop delay p99 over the last sampling window, in ms. */
  eventLoopDelayP99Ms: number
  /** Workers this node still has to hand to their new owners: a migration in progress when above 0. */
  migrationBacklog: number
  /** Replicas this node keeps of workers owned elsewhere (see `PoolDefinition.replicas`), and their bytes of state. */
  replicas?: { count: number, bytes: number }
  pools: Record<string, PoolHealth>
  reasons: string[]
}

/** The defaults of {@link HealthThresholds}. */
export const DEFAULT_HEALTH_THRESHOLDS: Required<HealthThresholds> = {
  degradedErrorRatio: 0.01,
  criticalErrorRatio: 0.1,
  minErrorsPerMin: 5,
  degradedP99Ms: 250
}

/** The figures a pool's status is judged on. */
export type PoolHealthFigures = Omit<PoolHealth, 'status' | 'reasons'> & { turnsPerMin: number }

const RANK: Record<HealthStatus, number> = { online: 0, degraded: 1, critical: 2 }

/** The worse of two statuses. */
export function worse (a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[b] > RANK[a] ? b : a
}

/**
 * A pool's status on one node. Errors are weighted by kind: a timeout counts twice (it
 * held a caller for its whole deadline), a failure or a refusal once. The rules:
 * - `critical`: active workers at the hard limit, or weighted errors at `criticalErrorRatio`
 *   of the minute's turns (once they reach `minErrorsPerMin`);
 * - `degraded`: active at the soft limit (or any active with target 0: waiting to be handed
 *   over), errors at `degradedErrorRatio`, or turn p99 over `degradedP99Ms`;
 * - `online` otherwise.
 */
export function poolStatus (f: PoolHealthFigures, thresholds: HealthThresholds = {}): { status: HealthStatus, reasons: string[] } {
  const t = { ...DEFAULT_HEALTH_THRESHOLDS, ...thresholds }
  const reasons: string[] = []
  let status: HealthStatus = 'online'
  const flag = (s: HealthStatus, why: string): void => {
    status = worse(status, s)
    reasons.push(why)
  }
  // target 0 (a node drained, or one that only sends): the workers it still holds are
  // being handed over, which is a state to show, not an overload
  if (f.target === 0) {
    if (f.active > 0) flag('degraded', `${f.active} active with target 0, to be handed to other nodes`)
  } else if (f.active >= f.hardLimit) {
    flag('critical', `${f.active} active at or over the hard limit ${f.hardLimit}`)
  } else if (f.active >= f.softLimit) {
    flag('degraded', `${f.active} active at or over the soft limit ${f.softLimit}`)
  }
  const errors = f.failuresPerMin + 2 * f.timeoutsPerMin + f.overloadedPerMin
  if (errors >= t.minErrorsPerMin) {
    const ratio = errors / Math.max(1, f.turnsPerMin)
    if (ratio >= t.criticalErrorRatio) flag('critical', `errors at ${(ratio * 100).toFixed(1)}% of turns`)
    else if (ratio >= t.degradedErrorRatio) flag('degraded', `errors at ${(ratio * 100).toFixed(1)}% of turns`)
  }
  if (f.p99Ms > t.degradedP99Ms) flag('degraded', `turn p99 ${f.p99Ms.toFixed(1)} ms over ${t.degradedP99Ms} ms`)
  return { status, reasons }
}
