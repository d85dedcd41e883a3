/**
 * Placement: for one membership snapshot, which node owns each worker id of each pool.
 * Pure: no I/O, no timers; the same snapshot gives the same answers on every node.
 */
import { isServing } from '@simplepool/core'
import type { MembershipSnapshot } from '@simplepool/core'
import { WeightedRing } from './ring.js'
import { fingerprintOf, normalizeWeights } from './weights.js'

/**
 * One weighted ring per pool, built from a {@link MembershipSnapshot}. A member is on a
 * pool's ring when it is serving (`up` and not `down`) and its target for that pool is
 * > 0; the target is its weight. Immutable: a new snapshot makes a new `Placement`.
 *
 * @example
 * ```ts
 * let placement = Placement.fromSnapshot(snapshot)
 * placement.ownerOf('chat', 'room:7') // a peer id, or undefined when nobody serves 'chat'
 * // on the next snapshot, keep the rings (and their caches) whose members did not change
 * placement = Placement.fromSnapshot(next, placement)
 * ```
 */
export class Placement {
  /** The version of the snapshot this placement was built from. */
  readonly version: number
  private readonly rings: ReadonlyMap<string, WeightedRing>

  private constructor (version: number, rings: ReadonlyMap<string, WeightedRing>) {
    this.version = version
    this.rings = rings
  }

  /**
   * Builds the placement of a snapshot. With `previous`, a pool whose ring would be
   * identical (same fingerprint) keeps the previous ring object, so its owner cache
   * survives snapshot changes that move nothing in that pool: new addresses, a restart,
   * a suspect peer, or changes to another pool or to members that do not serve it.
   *
   * Pools are every pool name any member lists, serving or not: a pool nobody serves
   * now has an empty ring rather than no ring.
   *
   * @param snapshot - The membership view to place against.
   * @param previous - The placement of an earlier snapshot, to reuse rings from.
   * @param mayHost - Whether a member may hold workers of a pool (a node's access rules):
   *   one that may not is left off that pool's ring whatever target it announces. Every
   *   node must be given the same answers to place alike.
   */
  static fromSnapshot (snapshot: MembershipSnapshot, previous?: Placement, mayHost?: (peerId: string, pool: string) => boolean): Placement {
    const weights = new Map<string, Map<string, number>>()
    for (const m of snapshot.members) {
      const serving = isServing(m)
      for (const pool of Object.keys(m.pools)) {
        let w = weights.get(pool)
        if (w === undefined) {
          w = new Map()
          weights.set(pool, w)
        }
        const target = m.pools[pool]?.target
        // Records come from peers: a target that is not a finite positive number
        // counts as 0 here rather than failing the whole placement.
        if (serving && typeof target === 'number' && Number.isFinite(target) && target > 0 && mayHost?.(m.peerId, pool) !== false) {
          w.set(m.peerId, target)
        }
      }
    }
    const rings = new Map<string, WeightedRing>()
    for (const pool of [...weights.keys()].sort()) {
      const w = weights.get(pool) as Map<string, number>
      const fingerprint = fingerprintOf(normalizeWeights(w))
      const old = previous?.rings.get(pool)
      rings.set(pool, old !== undefined && old.fingerprint === fingerprint ? old : recentRing(fingerprint, w))
    }
    return new Placement(snapshot.version, rings)
  }

  /**
   * The node that owns worker `id` of `pool`: a peer id, or `undefined` when the pool is
   * unknown or no member serves it.
   */
  ownerOf (pool: string, id: string): string | undefined {
    return this.rings.get(pool)?.ownerOf(id)
  }

  /** The ring of `pool`, or `undefined` for a pool no member lists. */
  ring (pool: string): WeightedRing | undefined {
    return this.rings.get(pool)
  }

  /** True when some member of the snapshot lists `pool`. */
  has (pool: string): boolean {
    return this.rings.has(pool)
  }

  /** Every pool of the snapshot, sorted. */
  pools (): string[] {
    return [...this.rings.keys()]
  }
}

/**
 * Rings built lately in this process, by fingerprint: nodes that share a process (tests,
 * the simulator, a client beside a server) build each ring once, and a ring that comes
 * back (a target changed and changed back) is not built again. A ring is a pure function
 * of its members' weights, so one object serves every node. Bounded: the oldest goes.
 */
const recent = new Map<string, WeightedRing>()
const RECENT_RINGS = 16

function recentRing (fingerprint: string, weights: Map<string, number>): WeightedRing {
  let ring = recent.get(fingerprint)
  if (ring !== undefined) {
    // most recently used last
    recent.delete(fingerprint)
  } else {
    ring = new WeightedRing(weights)
    if (recent.size >= RECENT_RINGS) recent.delete(recent.keys().next().value as string)
  }
  recent.set(fingerprint, ring)
  return ring
}
