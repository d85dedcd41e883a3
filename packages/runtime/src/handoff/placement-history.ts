import type { Placement } from '@simplepool/ring'
import type { LocalPool } from '../activation/local-pool.js'
import type { Owners } from '../routing/owners.js'

/** Placements before ring changes that a claim still asks the owners of, at most: several changes can come within one handoff's delay. */
const CLAIM_HISTORY = 8

/**
 * A placement replaced within this many ms of coming was one step of records read
 * together (a node back from a pause, or a joining node learning the members, reads many
 * at once), a view no worker was placed by: over {@link CLAIM_HISTORY}, such steps go first.
 */
const FLEETING_MS = 10

/**
 * Per pool, the placements before the last changes of its ring (at most
 * {@link CLAIM_HISTORY}, replaced within the claim window), and when each was replaced:
 * two changes within one handoff's delay (a target change, then a drain) leave the worker
 * on the owner before the first, which a claim must still ask. Per pool, so that changes
 * of other pools' rings (target changes) do not push out the one placement in which the
 * holder owned the worker (seed 30482).
 */
export class PlacementHistory {
  /** `fleeting`: it was replaced within {@link FLEETING_MS} of coming. */
  private readonly history = new Map<string, Array<{ placement: Placement, replacedAt: number, fleeting: boolean }>>()
  /** Per pool, when its ring took its current form. */
  private readonly ringSince = new Map<string, number>()

  constructor (private readonly owners: Owners, private readonly windowMs: number) {}

  /**
   * The placement moved from `previous` to `current` at `now`: each of `pools` whose ring
   * changed keeps `previous` (every one with a `custom` placement, which may name other
   * owners with the same ring).
   */
  note (previous: Placement | undefined, current: Placement, now: number, pools: Iterable<string>, custom: (pool: string) => boolean): void {
    for (const pool of pools) {
      const history = (this.history.get(pool) ?? []).filter(h => now - h.replacedAt <= this.windowMs)
      if (previous !== undefined && (custom(pool) || previous.ring(pool)?.fingerprint !== current.ring(pool)?.fingerprint)) {
        // fleeting by this pool's ring: another pool's change a moment before (a restore
        // setting every pool's target in turn) says nothing of how long this one lasted (seed 95313)
        history.push({ placement: previous, replacedAt: now, fleeting: now - (this.ringSince.get(pool) ?? -Infinity) < FLEETING_MS })
        this.ringSince.set(pool, now)
      }
      // over the cap, the steps of a burst go before the oldest placement that lasted: the six
      // records a node read at once after a pause pushed out the one placement in which the
      // worker's holder owned it, the claim asked nobody, and a fresh copy beat its handoff
      while (history.length > CLAIM_HISTORY) {
        const i = history.findIndex(h => h.fleeting)
        history.splice(i >= 0 ? i : 0, 1)
      }
      if (history.length > 0) this.history.set(pool, history)
      else this.history.delete(pool)
    }
  }

  /** Whether `peer` was on the ring of `pool` in a placement replaced within `withinMs` of `now`. */
  onRingWithin (pool: string, peer: string, withinMs: number, now: number): boolean {
    return (this.history.get(pool) ?? []).some(h => now - h.replacedAt <= withinMs && h.placement.ring(pool)?.nodes.includes(peer) === true)
  }

  /** The owners of `id` in the placements of its pool replaced within `withinMs` of `now`, each once. */
  ownersWithin (pool: string, id: string, local: LocalPool | undefined, withinMs: number, now: number): string[] {
    const out: string[] = []
    for (const h of this.history.get(pool) ?? []) {
      if (now - h.replacedAt > withinMs) continue
      let owner: string | undefined
      try {
        owner = this.owners.ownerIn(pool, id, local, h.placement)
      } catch {
        // a custom placement that named a node not serving the pool then
      }
      if (owner !== undefined && !out.includes(owner)) out.push(owner)
    }
    return out
  }
}
