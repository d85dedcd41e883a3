/**
 * A reference ring: the same points as the ring placement uses, ordered by a plain
 * comparison sort, to check that ring's radix sort against and to measure it. Not used by
 * placement.
 */
import { hashPoints } from './continuum.js'
import { murmur3 } from './hash.js'
import { pointAtOrAfter } from './search.js'
import { normalizeWeights, pointUnit, pointsFor } from './weights.js'
import type { WeightsInput } from './weights.js'

/**
 * Reference implementation, not used by `Placement`: the {@link WeightedRing}
 * point scheme (same labels, counts and hash) stored as a sorted `Uint32Array` of points
 * with a parallel array of node indexes, searched by binary search. It gives the same
 * owner as `WeightedRing` for every id (ties between equal points go to the node that
 * sorts first, then the lower label), with no per-point objects and no cache.
 */
export class SortedArrayRing {
  /** Nodes on the ring (weight > 0), sorted by id. */
  readonly nodes: readonly string[]
  /** Points on the ring, over all nodes. */
  readonly points: number
  private readonly positions: Uint32Array
  private readonly owners: Uint32Array

  /** @param weights - Node id → weight (>= 0; 0 leaves the node off the ring). */
  constructor (weights: WeightsInput) {
    const normalized = normalizeWeights(weights)
    this.nodes = normalized.map(([id]) => id)
    let max = 0
    for (const [, w] of normalized) if (w > max) max = w
    const unit = max > 0 ? pointUnit(max) : 1
    const counts = normalized.map(([, w]) => pointsFor(w, unit))
    let total = 0
    for (const n of counts) total += n
    this.points = total

    const { positions: hashes, owners: nodeOf } = hashPoints(this.nodes, counts)
    // Points are generated node by node, label by label, so sorting by (hash, index)
    // breaks ties the same way hashring's stable sort does.
    const order = new Uint32Array(total)
    for (let i = 0; i < total; i++) order[i] = i
    order.sort((a, b) => hashes[a] - hashes[b] || a - b)
    this.positions = new Uint32Array(total)
    this.owners = new Uint32Array(total)
    for (let i = 0; i < total; i++) {
      this.positions[i] = hashes[order[i]]
      this.owners[i] = nodeOf[order[i]]
    }
  }

  /** The node that owns `id`, or `undefined` when the ring has no nodes. */
  ownerOf (id: string): string | undefined {
    if (this.points === 0) return undefined
    return this.nodes[this.owners[pointAtOrAfter(this.positions, murmur3(id))]]
  }
}
