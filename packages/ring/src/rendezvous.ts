/**
 * Weighted rendezvous (highest random weight) hashing, as a baseline for the ring: no
 * points and perfect proportionality in expectation, but a lookup costs one hash per
 * node. Not used by placement.
 */
import { murmur3 } from './hash.js'
import { normalizeWeights } from './weights.js'
import type { WeightsInput } from './weights.js'

const TWO_POW_32 = 4294967296

/**
 * Reference implementation, not used by `Placement`: weighted rendezvous hashing.
 * Each node scores an id `-weight / ln(u)`, with `u = (murmur3(id, seed(node)) + 0.5) / 2^32`
 * uniform in (0, 1), and the highest score wins; a node then wins with probability
 * proportional to its weight, and adding or removing a node moves only ids won by, or
 * won from, that node. Ties go to the node that sorts first. Lookups are O(nodes).
 */
export class RendezvousHash {
  /** Nodes taking part (weight > 0), sorted by id. */
  readonly nodes: readonly string[]
  private readonly seeds: Int32Array
  private readonly weightOf: Float64Array

  /** @param weights - Node id → weight (>= 0; 0 leaves the node out). */
  constructor (weights: WeightsInput) {
    const normalized = normalizeWeights(weights)
    this.nodes = normalized.map(([id]) => id)
    this.seeds = new Int32Array(normalized.length)
    this.weightOf = new Float64Array(normalized.length)
    for (let i = 0; i < normalized.length; i++) {
      // The node's own hash seeds the id's hash: one hash per (node, id) pair without
      // building a combined string.
      this.seeds[i] = murmur3(normalized[i][0])
      this.weightOf[i] = normalized[i][1]
    }
  }

  /** The node that wins `id`, or `undefined` when there are no nodes. */
  ownerOf (id: string): string | undefined {
    const seeds = this.seeds
    const weightOf = this.weightOf
    let best = -1
    let bestScore = -Infinity
    for (let i = 0; i < seeds.length; i++) {
      const u = (murmur3(id, seeds[i]) + 0.5) / TWO_POW_32
      const score = -weightOf[i] / Math.log(u)
      if (score > bestScore) {
        bestScore = score
        best = i
      }
    }
    return best < 0 ? undefined : this.nodes[best]
  }
}
