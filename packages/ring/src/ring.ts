/**
 * The weighted consistent-hash ring placement uses: our weights size each node's points,
 * our hash places them, a radix sort orders them into typed arrays for the search, and a
 * direct-mapped table caches owners. It is the ring `hashring` builds from the same points
 * (the same owner for every id), built without an object per point.
 */
import { DEFAULT_OWNER_CACHE_SIZE, InvalidOptionError } from '@simplepool/core'
import { sortedContinuum } from './continuum.js'
import type { Continuum } from './continuum.js'
import { murmur3 } from './hash.js'
import { pointAtOrAfter } from './search.js'
import { fingerprintOf, normalizeWeights, pointUnit, pointsFor } from './weights.js'
import type { WeightsInput } from './weights.js'

/** Owner cache slots a ring starts with (see the cache's comment). */
const FIRST_CACHE_SLOTS = 1024

/** Options of a {@link WeightedRing}. */
export interface WeightedRingOptions {
  /**
   * Slots of the direct-mapped owner cache (rounded up to a power of two); 0 turns it off.
   * Defaults to {@link DEFAULT_OWNER_CACHE_SIZE}.
   */
  cacheSize?: number
}

/**
 * An immutable weighted consistent-hash ring over node ids.
 *
 * Each node with weight > 0 gets points labelled `${id}-0`, `${id}-1`, … hashed with
 * {@link murmur3}; how many follows {@link pointUnit}: proportional to weight, the heaviest
 * node between 2048 and 4095, and no node's count affected by another node joining or
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

  // The continuum in typed arrays: point positions, sorted, and the index in `nodes` of
  // each point's owner. A binary search over a Uint32Array touches a few cache lines;
  // hashring's array of point objects chased a pointer per step (at 100 nodes, 550 ns a
  // lookup against 250 ns), and building it took seconds at 1,000 nodes.
  //
  // Built at the first lookup, not with the ring: a node that hears members join one by
  // one (a cluster forming, 100 nodes) makes a placement per record, and most of them
  // are replaced before anything is placed by them.
  private continuum: Continuum | undefined
  private readonly perNode: readonly number[]
  private readonly pointCounts: ReadonlyMap<string, number>
  /** The one node whose going would move the ring's unit (see {@link pointUnit}): the heaviest, alone above the unit's power of two. */
  private readonly unitMover: string | undefined
  /** This ring without the unit mover, built when first asked for. */
  private withoutMover: WeightedRing | undefined
  /** Rings without two nodes whose going moves the unit, by their indexes (a worker's second successor asks on every turn). */
  private readonly withoutTwo = new Map<number, WeightedRing>()
  // Owners by the id's hash, direct-mapped: slot `hash & mask` holds a hash and its
  // owner's index + 1 (0: empty). The owner is a function of the hash alone, so two ids
  // with one hash share an entry correctly, and the table holds no strings: no string
  // compare on a hit, no GC write barrier on a miss. The ring never changes, so an entry
  // is never stale; a colliding hash simply replaces it. A hit costs the hash and one
  // slot; a miss adds the search. A new layout is a new ring with a new, empty cache.
  //
  // The table starts small and doubles as it fills, up to its size: a ring that answers a
  // handful of lookups before the next membership change (a claim's ring of a moment ago,
  // a client's) costs a few KiB, not 512.
  private cacheHashes: Uint32Array
  private cacheOwners: Uint32Array
  private cacheMask: number
  private readonly cacheSlots: number
  private filled = 0

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
    // a power of two, so the slot is a mask of the hash
    const slots = cacheSize === 0 ? 0 : 2 ** Math.ceil(Math.log2(cacheSize))
    this.cacheSlots = slots
    const first = Math.min(slots, FIRST_CACHE_SLOTS)
    this.cacheHashes = new Uint32Array(first)
    this.cacheOwners = new Uint32Array(first)
    this.cacheMask = first - 1

    const normalized = normalizeWeights(weights)
    this.nodes = normalized.map(([id]) => id)
    this.weights = new Map(normalized)
    this.fingerprint = fingerprintOf(normalized)

    const counts = new Map<string, number>()
    const perNode: number[] = []
    let total = 0
    let unitMover: string | undefined
    if (normalized.length > 0) {
      let max = 0
      for (const [, w] of normalized) if (w > max) max = w
      const unit = pointUnit(max)
      const heaviest = normalized.filter(([, w]) => w === max)
      let second = 0
      for (const [, w] of normalized) if (w < max && w > second) second = w
      if (heaviest.length === 1 && normalized.length > 1 && pointUnit(second) !== unit) unitMover = heaviest[0][0]
      for (const [id, weight] of normalized) {
        const n = pointsFor(weight, unit)
        counts.set(id, n)
        perNode.push(n)
        total += n
      }
    }
    this.pointCounts = counts
    this.unitMover = unitMover
    this.points = total
    this.perNode = perNode
  }

  /**
   * The node that owns `id`, or `undefined` when the ring has no nodes.
   *
   * @param id - Any string: a worker id, a key.
   */
  ownerOf (id: string): string | undefined {
    if (this.points === 0) return undefined
    const h = murmur3(id)
    if (this.cacheMask < 0) return this.nodes[this.search(h)]
    const slot = h & this.cacheMask
    const cached = this.cacheOwners[slot]
    if (cached !== 0 && this.cacheHashes[slot] === h) return this.nodes[cached - 1]
    const owner = this.search(h)
    // a quarter full: direct-mapped, a fuller table replaces more than it adds
    if (cached === 0 && ++this.filled > (this.cacheMask + 1) >>> 2 && this.cacheMask + 1 < this.cacheSlots) this.growCache()
    const at = h & this.cacheMask
    this.cacheHashes[at] = h
    this.cacheOwners[at] = owner + 1
    return this.nodes[owner]
  }

  /** Doubles the owner cache, keeping what it holds (each entry knows its hash). */
  private growCache (): void {
    const hashes = this.cacheHashes
    const owners = this.cacheOwners
    const size = hashes.length * 2
    this.cacheHashes = new Uint32Array(size)
    this.cacheOwners = new Uint32Array(size)
    this.cacheMask = size - 1
    this.filled = 0
    for (let i = 0; i < hashes.length; i++) {
      if (owners[i] === 0) continue
      const at = hashes[i] & this.cacheMask
      if (this.cacheOwners[at] === 0) this.filled++
      this.cacheHashes[at] = hashes[i]
      this.cacheOwners[at] = owners[i]
    }
  }

  /**
   * The owner of `id` on this ring with `node` taken off it: where `id` goes if that node
   * leaves (the next node on the ring: where a full owner spills, and who owned an id
   * before a node joined). Usually no new ring: a node's points depend only on its own
   * weight and the ring's unit, so taking one off leaves every other point in place, and
   * the owner is the first point at or after the id's that is not the node's. Only when
   * the node was the heaviest and its going moves the unit is the smaller ring built
   * (and kept on this one, which never changes). With `also`, that node is taken off too.
   */
  ownerWithout (id: string, node: string, also?: string): string | undefined {
    const index = this.nodes.indexOf(node)
    if (index < 0) return also === undefined ? this.ownerOf(id) : this.ownerWithout(id, also)
    const other = also === undefined || also === node ? -1 : this.nodes.indexOf(also)
    if (other >= 0) return this.ownerWithoutTwo(id, index, other)
    if (this.nodes.length === 1) return undefined
    if (node === this.unitMover) return this.ringWithout(node).ownerOf(id)
    return this.firstOtherThan(id, index, -1)
  }

  /** {@link ownerWithout} two nodes: a claim answered by a node back from being marked down, or a worker's second successor (`replicas: 2`). */
  private ownerWithoutTwo (id: string, a: number, b: number): string | undefined {
    if (this.nodes.length === 2) return undefined
    let max = 0
    let rest = 0
    for (const [n, w] of this.weights) {
      if (w > max) max = w
      if (n !== this.nodes[a] && n !== this.nodes[b] && w > rest) rest = w
    }
    if (pointUnit(rest) !== pointUnit(max)) {
      const key = Math.min(a, b) * this.nodes.length + Math.max(a, b)
      let ring = this.withoutTwo.get(key)
      if (ring === undefined) {
        const weights = new Map(this.weights)
        weights.delete(this.nodes[a])
        weights.delete(this.nodes[b])
        // pairs with a heaviest node: about one per other node; a bound all the same
        if (this.withoutTwo.size >= 2 * this.nodes.length + 16) this.withoutTwo.clear()
        this.withoutTwo.set(key, ring = new WeightedRing(weights))
      }
      return ring.ownerOf(id)
    }
    return this.firstOtherThan(id, a, b)
  }

  /** The owner of the first point at or after `id`'s that is neither node `a`'s nor `b`'s (indexes; -1 for none). */
  private firstOtherThan (id: string, a: number, b: number): string {
    const { positions, owners } = this.sortedPoints()
    const n = owners.length
    let i = pointAtOrAfter(positions, murmur3(id))
    // their points are at most all but one node's: a point of another is found within n steps
    for (let step = 0; step < n && (owners[i] === a || owners[i] === b); step++) i = i + 1 === n ? 0 : i + 1
    return this.nodes[owners[i]]
  }

  /** Points a node has on this ring; 0 for a node not on it. */
  pointsOf (node: string): number {
    return this.pointCounts.get(node) ?? 0
  }

  /** Owners now cached. */
  get cachedOwners (): number {
    return this.filled
  }

  private ringWithout (node: string): WeightedRing {
    // only ever the unit mover's: one ring at most
    if (this.withoutMover === undefined) {
      const weights = new Map(this.weights)
      weights.delete(node)
      this.withoutMover = new WeightedRing(weights)
    }
    return this.withoutMover
  }

  /** The sorted points, built at the first lookup. */
  private sortedPoints (): Continuum {
    this.continuum ??= sortedContinuum(this.nodes, this.perNode)
    return this.continuum
  }

  /** Index in `nodes` of the owner of `hash`. */
  private search (hash: number): number {
    // the typed arrays, never a cache keyed by the id itself (hashring's LRU keeps ids as
    // keys of a plain object, so an id such as `__proto__` would corrupt it)
    const { positions, owners } = this.sortedPoints()
    return owners[pointAtOrAfter(positions, hash)]
  }
}
