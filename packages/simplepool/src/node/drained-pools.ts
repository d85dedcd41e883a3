/**
 * A drained node's own side of a drain: its target for each drained pool goes to 0, so
 * the rings give its workers to the other nodes, which the handoff moves there with
 * their state while this node keeps routing; the target it had comes back with an
 * undrain. Whoever asked for the drain polls {@link DrainedPools.held} until nothing is
 * left (see drain.ts).
 */
import type { AdminEventLog } from '../admin/event-log.js'

/** What a node's own drain changes and reads. */
export interface DrainedPoolsComponents {
  /** This node's peer id, which its drain events name. */
  self: () => string
  /** This node's target per pool. */
  targets: () => Record<string, number>
  setTarget: (pool: string, target: number) => void
  /** Workers of `pool` on this node now. */
  sizeOf: (pool: string) => number
  /** Announces this node's targets as they are now: the rings (and the handoff) follow. */
  announceTargets: () => void
  /** This node's status in its membership record. */
  setStatus: (status: 'up' | 'draining') => void
  /** Hands over, now, every worker whose owner moved. */
  rebalance: () => void
  /** Where the drain's start and undoing are logged for watchers. */
  events: Pick<AdminEventLog, 'add'>
}

/** Which of this node's pools are drained, with the targets they had: see the file's comment. */
export class DrainedPools {
  /** Per drained pool, the target this node had before; a pool is drained while it is here. */
  private readonly before = new Map<string, number>()

  constructor (private readonly c: DrainedPoolsComponents) {}

  /** Drains `pools` (each one of this node's); `all`: every pool, and the node's status goes to `draining`. */
  drain (pools: string[], all: boolean): void {
    const c = this.c
    c.events.add('drain:start', { member: c.self(), pools: all ? null : pools })
    const targets = c.targets()
    for (const pool of pools) {
      // drained twice: the target to come back to is the one before the first
      if (!this.before.has(pool)) this.before.set(pool, targets[pool])
      c.setTarget(pool, 0)
    }
    // the mesh folds this node's own record into its view at once: the ring change (and
    // the handoff) follows through `membership:change`
    c.announceTargets()
    if (all) c.setStatus('draining')
    // an operator's drain: hand over now, without the settling delay meant for churn
    c.rebalance()
  }

  /** Gives `pools` back the targets they had before their drain; a pool not drained is left alone. */
  undrain (pools: string[]): void {
    const c = this.c
    c.events.add('drain:undo', { member: c.self(), pools })
    for (const pool of pools) {
      const target = this.before.get(pool)
      if (target === undefined) continue
      this.before.delete(pool)
      c.setTarget(pool, target)
    }
    c.announceTargets()
    if (this.before.size === 0) c.setStatus('up')
  }

  /** Workers of `pools` still here; -1 when one of them is not drained (undrained since), which ends the asker's wait. */
  held (pools: string[]): number {
    if (pools.some(pool => !this.before.has(pool))) return -1
    return pools.reduce((n, pool) => n + this.c.sizeOf(pool), 0)
  }
}
