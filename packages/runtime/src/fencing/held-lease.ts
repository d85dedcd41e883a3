/** What a fence does for a lease (see `Fence`). */
export interface LeaseFence {
  readonly active: boolean
  isolate: () => void
  rejoined: (actedAlone: boolean) => void
}

/**
 * A lease the membership keeps itself (`MembershipLease`: witness membership), looked at
 * as `QuorumLease` is: lost, the fence isolates this node (once a fence for a stall is
 * over, if one is on) until it holds again; then the fence asks the membership whether
 * this node was held down meanwhile. A node without its lease marks nobody down alone
 * here (a member is down only once a majority of its own witnesses doubts it, and those
 * hold their leases), so it never acted alone.
 */
export class HeldLease {
  private readonly holds: () => boolean
  private readonly generation: (() => number) | undefined
  private lostNow = false
  private lastGeneration: number | undefined
  /** A new generation not yet isolated for: the old one's copies go at the next fence's end. */
  private renewed = false

  /**
   * `generation`: this node's generation in the membership. One that changed (it was held
   * down, or renewed) isolates the node once any fence under way ends, whatever the lease
   * says by then: a fence for a stall that had asked its question already would otherwise
   * end on the old answer, and the new generation's lease, held by the next beat, would
   * leave the old generation's copies serving.
   */
  constructor (holds: () => boolean, generation?: () => number) {
    this.holds = holds
    this.generation = generation
    this.lastGeneration = generation?.()
  }

  /** True while the lease is lost. */
  get lost (): boolean {
    return this.lostNow
  }

  beat (fence: LeaseFence): void {
    const g = this.generation?.()
    if (g !== this.lastGeneration) {
      // (from none yet, a negative one, to the first: nothing was held before it)
      if (this.lastGeneration !== undefined && this.lastGeneration >= 0) this.renewed = true
      this.lastGeneration = g
    }
    if (this.renewed && !fence.active) {
      this.renewed = false
      this.lostNow = true
      fence.isolate()
      return
    }
    const holds = this.holds()
    if (holds && this.lostNow && !this.renewed) {
      this.lostNow = false
      fence.rejoined(false)
    } else if (!holds) {
      this.lostNow = true
      if (!fence.active) fence.isolate()
    }
  }
}
