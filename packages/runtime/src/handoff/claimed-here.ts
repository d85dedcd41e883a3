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
  /** By pool, then id: who claimed, and when (monotonic ms). Two levels: an activation's look builds no key. */
  private readonly claimed = new Map<string, Map<string, { claimer: string, at: number }>>()
  private size = 0
  /** When the newest claim was noted: once every one is older than the span, all are forgotten at once. */
  private newestAt = -Infinity

  /** `claimer` claimed worker `id` of `pool` from here at `now`, when this node had no copy. */
  note (pool: string, id: string, claimer: string, now: number): void {
    if (this.size >= MAX_CLAIMED_HERE) {
      for (const ids of this.claimed.values()) {
        for (const [key, c] of ids) {
          if (now - c.at > CLAIMED_HERE_MS) this.drop(ids, key)
        }
      }
      // still full: a burst of claims within the span; the oldest of each pool go first
      for (const ids of this.claimed.values()) {
        for (const key of ids.keys()) {
          if (this.size < MAX_CLAIMED_HERE) break
          this.drop(ids, key)
        }
      }
    }
    let ids = this.claimed.get(pool)
    if (ids === undefined) {
      ids = new Map()
      this.claimed.set(pool, ids)
    }
    if (ids.delete(id)) this.size--
    ids.set(id, { claimer, at: now })
    this.size++
    this.newestAt = Math.max(this.newestAt, now)
  }

  /** The node that claimed `id` from here lately, when this node had no copy. */
  by (pool: string, id: string, now: number): string | undefined {
    if (this.size === 0) return undefined
    if (now - this.newestAt > CLAIMED_HERE_MS) {
      // every claim noted is past its span: none can answer, and an activation no longer looks
      this.claimed.clear()
      this.size = 0
      return undefined
    }
    const c = this.claimed.get(pool)?.get(id)
    return c !== undefined && now - c.at <= CLAIMED_HERE_MS ? c.claimer : undefined
  }

  private drop (ids: Map<string, unknown>, id: string): void {
    if (ids.delete(id)) this.size--
  }
}
