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
  let { positions, owners } = hashPoints(nodes, counts)
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
