/**
 * A ring's points, sorted: every node's labelled points hashed, then ordered by position
 * with a stable radix sort (ties keep the order the points were made in: node by node,
 * label by label, as `hashring`'s stable sort of the same points did). Linear in the
 * points: at 1,000 nodes, two to three million points, where `hashring`'s object per
 * point and comparison sort took seconds.
 */
import { murmur3 } from './hash.js'
import { pointLabel } from './weights.js'

/** Bits sorted per pass: three passes of 11 cover 32-bit positions with small count tables. */
const RADIX_BITS = 11
const BUCKETS = 1 << RADIX_BITS
const MASK = BUCKETS - 1

/** Sorted point positions and, for each, the index of its node in `nodes`. */
export interface Continuum {
  positions: Uint32Array
  owners: Uint32Array
}

/**
 * The hashed positions of nodes' points, by node id, labels 0 to n - 1. A point's position
 * depends on its node and label alone, so every ring this process builds (every member's
 * view of every pool, after every change) reuses them: hashing was nine tenths of a build
 * (55 of 62 ms at 100 nodes). Kept up to {@link POINT_CACHE_BYTES}, least recently used out.
 */
const pointCache = new Map<string, Uint32Array>()
let pointCacheBytes = 0
/** 32 MiB: every point of some 2,000 nodes at the most points a node gets (4,095). */
const POINT_CACHE_BYTES = 32 * 1024 * 1024

/** The positions of `node`'s first `count` points (or more): from the cache, hashing only what it lacks. */
export function pointsOf (node: string, count: number): Uint32Array {
  const known = pointCache.get(node)
  if (known !== undefined) pointCache.delete(node)
  let points = known
  if (points === undefined || points.length < count) {
    points = new Uint32Array(count)
    const from = known === undefined ? 0 : known.length
    if (known !== undefined) {
      points.set(known)
      pointCacheBytes -= known.byteLength
    }
    for (let i = from; i < count; i++) points[i] = murmur3(pointLabel(node, i))
    pointCacheBytes += points.byteLength
  }
  // most recently used last: the first key is the one to go
  pointCache.set(node, points)
  for (const [oldest, p] of pointCache) {
    if (pointCacheBytes <= POINT_CACHE_BYTES || oldest === node) break
    pointCache.delete(oldest)
    pointCacheBytes -= p.byteLength
  }
  return points
}

/**
 * Every node's points, unsorted, in the order they are made: node by node, label by label.
 * @param nodes - Node ids.
 * @param counts - Points of each node, by the same index.
 */
export function hashPoints (nodes: readonly string[], counts: readonly number[]): Continuum {
  let total = 0
  for (const c of counts) total += c
  const positions = new Uint32Array(total)
  const owners = new Uint32Array(total)
  let k = 0
  for (let node = 0; node < nodes.length; node++) {
    const count = counts[node]
    positions.set(pointsOf(nodes[node], count).subarray(0, count), k)
    owners.fill(node, k, k + count)
    k += count
  }
  return { positions, owners }
}

/**
 * @param nodes - Node ids in the order their points are made (ties go to the earlier).
 * @param counts - Points of each node, by the same index.
 */
export function buildContinuum (nodes: readonly string[], counts: readonly number[]): Continuum {
  return radixSort(hashPoints(nodes, counts))
}

/** Points sorted by position with a stable radix sort: ties keep the order they came in. */
function radixSort (points: Continuum): Continuum {
  let { positions, owners } = points
  const total = positions.length
  let spareP: Uint32Array = new Uint32Array(total)
  let spareO: Uint32Array = new Uint32Array(total)
  const count = new Uint32Array(BUCKETS)
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    count.fill(0)
    for (let i = 0; i < total; i++) count[(positions[i] >>> shift) & MASK]++
    let sum = 0
    for (let b = 0; b < BUCKETS; b++) {
      const c = count[b]
      count[b] = sum
      sum += c
    }
    for (let i = 0; i < total; i++) {
      const at = count[(positions[i] >>> shift) & MASK]++
      spareP[at] = positions[i]
      spareO[at] = owners[i]
    }
    const p = positions
    const o = owners
    positions = spareP
    owners = spareO
    spareP = p
    spareO = o
  }
  return { positions, owners }
}

/** Past this share of a ring's points made anew, deriving it from another ring costs about what sorting it does. */
const DERIVE_AT_MOST = 0.25

/** A ring's layout: its nodes (sorted by id, as every ring's are), points per node, and its continuum. */
export interface Layout {
  readonly nodes: readonly string[]
  readonly counts: readonly number[]
}

/**
 * The continuum of `next` made from `base`'s, as {@link buildContinuum} would make it:
 * the points of nodes that keep their count on both stay where they are (one pass), and
 * the points of nodes new to the ring or whose count changed, sorted, are merged in (one
 * more). Membership moves one or two nodes at a time, so this is two passes over the ring
 * where a build hashes nothing but sorts everything in three: at 100 nodes, a few times
 * faster. Undefined when too many points are new for it to pay (see {@link DERIVE_AT_MOST}).
 *
 * Ties: a ring orders equal positions by node (in `nodes` order, by id) and then by label.
 * Kept points keep their order (both rings order nodes by id); new points are sorted
 * stably in node and label order; the merge puts the earlier node first.
 */
export function deriveContinuum (base: Layout & { readonly continuum: Continuum }, next: Layout): Continuum | undefined {
  const index = new Map<string, number>()
  for (let i = 0; i < next.nodes.length; i++) index.set(next.nodes[i], i)
  // each of the base's nodes: its index in next when its points stay, -1 when they go
  const remap = new Int32Array(base.nodes.length)
  const kept = new Uint8Array(next.nodes.length)
  for (let i = 0; i < base.nodes.length; i++) {
    const j = index.get(base.nodes[i])
    const stays = j !== undefined && next.counts[j] === base.counts[i]
    remap[i] = stays ? j : -1
    if (stays) kept[j] = 1
  }
  let total = 0
  let fresh = 0
  for (let j = 0; j < next.nodes.length; j++) {
    total += next.counts[j]
    if (kept[j] === 0) fresh += next.counts[j]
  }
  if (fresh > total * DERIVE_AT_MOST) return undefined
  const freshNodes: string[] = []
  const freshCounts: number[] = []
  const freshIndex: number[] = []
  for (let j = 0; j < next.nodes.length; j++) {
    if (kept[j] === 1) continue
    freshNodes.push(next.nodes[j])
    freshCounts.push(next.counts[j])
    freshIndex.push(j)
  }
  const added = radixSort(hashPoints(freshNodes, freshCounts))
  const addedOwners = added.owners
  for (let k = 0; k < addedOwners.length; k++) addedOwners[k] = freshIndex[addedOwners[k]]
  const positions = new Uint32Array(total)
  const owners = new Uint32Array(total)
  const from = base.continuum
  const n = from.positions.length
  let i = 0
  let k = 0
  let out = 0
  for (;;) {
    // the next point of the base that stays
    while (i < n && remap[from.owners[i]] < 0) i++
    if (i === n) break
    const p = from.positions[i]
    const o = remap[from.owners[i]]
    // new points before it (at an equal position, the earlier node first)
    while (k < added.positions.length && (added.positions[k] < p || (added.positions[k] === p && addedOwners[k] < o))) {
      positions[out] = added.positions[k]
      owners[out++] = addedOwners[k++]
    }
    positions[out] = p
    owners[out++] = o
    i++
  }
  for (; k < added.positions.length; k++) {
    positions[out] = added.positions[k]
    owners[out++] = addedOwners[k]
  }
  return { positions, owners }
}

/**
 * Continuums sorted lately in this process, newest last: what the next one is made from.
 * Membership moves a node or two at a time, so the ring before (this node's, or another's
 * in the same process) almost always shares most of its points with the next.
 */
const lately: Array<Layout & { readonly continuum: Continuum }> = []
/** At most this many kept, */
const LATELY_RINGS = 8
/** and at most this many points over them (64 MiB of positions and owners): rings stay alive here a little longer than their placements. */
const LATELY_POINTS = 8 * 1024 * 1024

/** Forgets the continuums sorted lately: the next is sorted from nothing (for a benchmark that times that). */
export function forgetSortedRings (): void {
  lately.length = 0
}

/**
 * The sorted continuum of `nodes` and `counts`: made from the continuum sorted lately
 * that shares the most points with it (see {@link deriveContinuum}), or sorted anew when
 * none shares enough.
 */
export function sortedContinuum (nodes: readonly string[], counts: readonly number[]): Continuum {
  const next: Layout = { nodes, counts }
  const want = new Map<string, number>()
  for (let i = 0; i < nodes.length; i++) want.set(nodes[i], counts[i])
  let best: (typeof lately)[number] | undefined
  let bestKept = 0
  for (const candidate of lately) {
    let kept = 0
    for (let i = 0; i < candidate.nodes.length; i++) if (want.get(candidate.nodes[i]) === candidate.counts[i]) kept += candidate.counts[i]
    if (kept > bestKept) {
      best = candidate
      bestKept = kept
    }
  }
  const continuum = (best !== undefined ? deriveContinuum(best, next) : undefined) ?? buildContinuum(nodes, counts)
  lately.push({ nodes, counts, continuum })
  let points = 0
  for (const l of lately) points += l.continuum.positions.length
  while (lately.length > LATELY_RINGS || (lately.length > 1 && points > LATELY_POINTS)) points -= (lately.shift() as (typeof lately)[number]).continuum.positions.length
  return continuum
}
