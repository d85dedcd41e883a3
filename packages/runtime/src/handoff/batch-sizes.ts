import { HANDOFF_BATCH } from '@simplepool/core'

/**
 * Workers per handoff message, per pool: `HANDOFF_BATCH`, halved after a message failed
 * whole (too big for a frame, say), and doubled back towards it after each that went
 * through at the smaller size.
 */
export class BatchSizes {
  private readonly sizes = new Map<string, number>()

  /** The batch size of `pool` now. */
  of (pool: string): number {
    return this.sizes.get(pool) ?? HANDOFF_BATCH
  }

  /** A message of `sent` workers of `pool` failed whole. */
  failed (pool: string, sent: number): void {
    if (sent > 1) this.sizes.set(pool, Math.max(1, sent >> 1))
  }

  /** A message of `sent` workers of `pool` went through. */
  went (pool: string, sent: number): void {
    const size = this.sizes.get(pool)
    if (size === undefined || sent < size) return
    if (size * 2 >= HANDOFF_BATCH) this.sizes.delete(pool)
    else this.sizes.set(pool, size * 2)
  }
}
