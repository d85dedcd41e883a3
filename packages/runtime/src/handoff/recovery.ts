import { WORKERS_PER_YIELD, nextTurn } from '@simplepool/core'
import type { Clock, Logger, Member } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { LocalPool } from '../activation/local-pool.js'
import { MAX_ID_LENGTH } from '../protocol/ops.js'
import type { Owners } from '../routing/owners.js'

/** What eager recovery needs of the node. */
export interface RecoveryComponents {
  readonly clock: Clock
  readonly logger: Logger
  readonly owners: Owners
  self: () => string
  pools: () => Iterable<LocalPool>
  members: () => ReadonlyArray<Readonly<Member>>
  placement: () => Placement
  running: () => boolean
}

/**
 * Eager recovery: pools with `recovery: 'eager'` bring back, at once, the workers of nodes
 * that left their ring because they are down (not those draining or leaving: those hand
 * theirs over). Each node activates, from `load`, the ids the pool's `liveIds` lists that
 * the lost node owned and it owns now. Other pools bring them back on their next message.
 */
export class Recovery {
  private readonly c: RecoveryComponents
  private readonly delayMs: number
  /** Aborted when the node stops: `liveIds` lists no more ids. */
  private readonly stopping = new AbortController()

  /** @param delayMs - A node that comes back within this long (it flapped) is not recovered: the rebalance delay. */
  constructor (components: RecoveryComponents, delayMs: number) {
    this.c = components
    this.delayMs = delayMs
  }

  /** The ring moved from `previous` to `current`: recovers, after the delay, what nodes lost to failure owned. */
  ringChanged (previous: Placement, current: Placement): void {
    const c = this.c
    const lostNow = (peer: string): boolean => c.members().find(m => m.peerId === peer)?.liveness !== 'alive'
    for (const local of c.pools()) {
      if (local.def.recovery !== 'eager') continue
      const now = new Set(current.ring(local.name)?.nodes ?? [])
      const lost = (previous.ring(local.name)?.nodes ?? []).filter(peer => !now.has(peer) && lostNow(peer))
      if (lost.length === 0) continue
      c.clock.setTimeout(() => {
        const still = new Set(lost.filter(lostNow))
        if (still.size > 0 && c.running()) void this.recover(local, still, previous)
      }, this.delayMs)
    }
  }

  /** The node stops: recoveries under way stop listing ids. */
  stop (): void {
    this.stopping.abort()
  }

  private async recover (local: LocalPool, lost: Set<string>, previous: Placement): Promise<void> {
    const c = this.c
    const signal = this.stopping.signal
    let looked = 0
    let started = 0
    try {
      for await (const id of (local.def.liveIds as (signal: AbortSignal) => Iterable<string> | AsyncIterable<string>)(signal)) {
        if (signal.aborted || !c.running()) return
        if ((++looked % WORKERS_PER_YIELD) === 0) await nextTurn(c.clock)
        if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || local.activations.has(id)) continue
        try {
          const was = c.owners.ownerIn(local.name, id, local, previous)
          if (was === undefined || !lost.has(was) || c.owners.ownerIn(local.name, id, local, c.placement()) !== c.self()) continue
          local.ensure(id)
          started++
        } catch {
          // a custom placement that named no serving node, or a failed activation (counted and reported by the pool)
        }
      }
      c.logger.info(`${local.name}: brought back ${started} workers of ${[...lost].join(', ')} (of ${looked} ids listed)`)
    } catch (err) {
      const e = err as Error
      c.logger.warn(`${local.name}: eager recovery stopped after ${started} workers: liveIds failed: ${e.name}: ${e.message}`)
    }
  }
}
