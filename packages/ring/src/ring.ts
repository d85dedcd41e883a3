/**
 * The weighted consistent-hash ring placement uses: `hashring` builds and searches the
 * continuum, our hash places the points, our weights rule sizes them, and a plain bounded
 * map caches owners.
 */
import HashRing from 'hashring'
import { InvalidOptionError } from '@simplepool/core'
import { murmur3, murmur3Digest } from './hash.js'
import { fingerprintOf, normalizeWeights, pointUnit, pointsFor } from './weights.js'
import type { WeightsInput } from './weights.js'

/** Owners a ring caches by default before it starts over. */
export const DEFAULT_OWNER_CACHE_SIZE = 65_536

/** Options of a {@link WeightedRing}. */
export interface WeightedRingOptions {
  /**
   * Owners to cache before the cache is cleared and refilled; 0 turns the cache off.
   * Defaults to {@link DEFAULT_OWNER_CACHE_SIZE}.
   */
  cacheSize?: number
}

/**
 * An immutable weighted consistent-hash ring over node ids.
 *
 * Each node with weight > 0 gets points labelled `${id}-0`, `${id}-1`, … hashed with
 * {@link murmur3}; how many follows {@link pointUnit}: proportional to weight, the heaviest
 * node between 1024 and 2047, and no node's count affected by another node joining or
 * leaving unless the largest weight crosses a power of two. An id belongs to the node of
 * the first point at or after `murmur3(id)`, wrapping around.
 *
 * @example
 * ```ts
 * const ring = new WeightedRing(new Map([['a', 1], ['b', 2]]))
 * ring.ownerOf('user:42') // 'a' or 'b', 'b' twice as often
 * ```
 */
export class WeightedRing {
  /** Nodes on the ring (weight > 0), sorted by id. */
  readonly nodes: readonly string[]
  /** Weight of each node on the ring; nodes of weight 0 are left out. */
  readonly weights: ReadonlyMap<string, number>
  /** `id:weight` pairs, sorted by id: equal fingerprints mean identical rings. */
  readonly fingerprint: string
  /** Points on the ring, over all nodes. */
  readonly points: number

  private readonly continuum: HashRing
  private readonly pointCounts: ReadonlyMap<string, number>
  // Owners by id. The ring never changes, so an entry is never stale: the only rule is
  // size. When full it is cleared outright rather than evicted entry by entry, which
  // keeps a hit at one `Map.get` and a miss at one `Map.set`; a hot id is back after
  // one lookup. A new layout is a new ring with a new, empty cache.
  private readonly cache = new Map<string, string>()
  private readonly cacheSize: number

  /**
   * @param weights - Node id → weight (>= 0; 0 leaves the node off the ring).
   * @param options - See {@link WeightedRingOptions}.
   * @throws InvalidOptionError on an invalid id, weight or cache size.
   */
  constructor (weights: WeightsInput, options: WeightedRingOptions = {}) {
    const cacheSize = options.cacheSize ?? DEFAULT_OWNER_CACHE_SIZE
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
      throw new InvalidOptionError('cacheSize must be an integer >= 0', { cacheSize })
    }
    this.cacheSize = cacheSize

    const normalized = normalizeWeights(weights)
    this.nodes = normalized.map(([id]) => id)
    this.weights = new Map(normalized)
    this.fingerprint = fingerprintOf(normalized)

    const counts = new Map<string, number>()
    // `vnodes` fixes each node's point count; hashring's own weight arithmetic is not
    // used. A default `vnode count` of 0 matters: hashring ignores a node's `vnodes`
    // when it equals the default, and no node here ever has 0.
    const servers: Record<string, { vnodes: number }> = {}
    let total = 0
    if (normalized.length > 0) {
      let max = 0
      for (const [, w] of normalized) if (w > max) max = w
      const unit = pointUnit(max)
      for (const [id, weight] of normalized) {
        const n = pointsFor(weight, unit)
        counts.set(id, n)
        servers[id] = { vnodes: n }
        total += n
      }
    }
    this.pointCounts = counts
    this.points = total
    // `replicas: 1` makes one point per hash, read from the four bytes the digest
    // writes; hashring's own cache is kept at its minimum (0 crashes it) and bypassed.
    this.continuum = new HashRing(servers, murmur3Digest, {
      'vnode count': 0,
      replicas: 1,
      'max cache size': 1
    })
  }

  /**
   * The node that owns `id`, or `undefined` when the ring has no nodes.
   *
   * @param id - Any string: a worker id, a key.
   */
  ownerOf (id: string): string | undefined {
    const hit = this.cache.get(id)
    if (hit !== undefined) return hit
    if (this.points === 0) return undefined
    const owner = this.lookup(id)
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.clear()
      this.cache.set(id, owner)
    }
    return owner
  }

  /** Points a node has on this ring; 0 for a node not on it. */
  pointsOf (node: string): number {
    return this.pointCounts.get(node) ?? 0
  }

  /** Owners now cached. */
  get cachedOwners (): number {
    return this.cache.size
  }

  private lookup (id: string): string {
    // Straight to the continuum: `hashring.get` would go through its LRU, which keeps
    // ids as keys of a plain object, so an id such as `constructor` or `__proto__`
    // would corrupt it. `murmur3(id)` equals `hashValue(id)` by construction of the digest.
    const ring = this.continuum
    return ring.ring[ring.find(murmur3(id))].server
  }
}
