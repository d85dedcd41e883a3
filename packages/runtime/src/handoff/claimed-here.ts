/** How long a claim this node answered with no copy makes its own activation of that id ask the claimer, in ms: a moment of views that disagree. */
const CLAIMED_HERE_MS = 5_000

/** Claims remembered for {@link CLAIMED_HERE_MS} at most: a bound on memory, not a budget. */
const MAX_CLAIMED_HERE = 100_000

/**
 * Claims for workers this node had no copy of: for {@link CLAIMED_HERE_MS}, an activation
 * of such a worker here asks its claimer too. Two nodes whose views disagreed for a moment
 * as they came up each took itself for the owner; the one that claimed first found nothing
 * and started it, and the other started it too (seed 102139).
 */
export class ClaimedHere {
  /** By `pool\nid`: who claimed, and when (monotonic ms). */
  private readonly claimed = new Map<string, { claimer: string, at: number }>()

  /** `claimer` claimed worker `id` of `pool` from here at `now`, when this node had no copy. */
  note (pool: string, id: string, claimer: string, now: number): void {
    if (this.claimed.size >= MAX_CLAIMED_HERE) {
      for (const [key, c] of this.claimed) if (now - c.at > CLAIMED_HERE_MS) this.claimed.delete(key)
      // still full: a burst of claims within the span; the oldest go
      for (const key of this.claimed.keys()) {
        if (this.claimed.size < MAX_CLAIMED_HERE) break
        this.claimed.delete(key)
      }
    }
    const key = `${pool}\n${id}`
    this.claimed.delete(key)
    this.claimed.set(key, { claimer, at: now })
  }

  /** The node that claimed `id` from here lately, when this node had no copy. */
  by (pool: string, id: string, now: number): string | undefined {
    if (this.claimed.size === 0) return undefined
    const c = this.claimed.get(`${pool}\n${id}`)
    return c !== undefined && now - c.at <= CLAIMED_HERE_MS ? c.claimer : undefined
  }
}
