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
  private lostNow = false

  constructor (holds: () => boolean) {
    this.holds = holds
  }

  /** True while the lease is lost. */
  get lost (): boolean {
    return this.lostNow
  }

  beat (fence: LeaseFence): void {
    const holds = this.holds()
    if (holds && this.lostNow) {
      this.lostNow = false
      fence.rejoined(false)
    } else if (!holds) {
      this.lostNow = true
      if (!fence.active) fence.isolate()
    }
  }
}
