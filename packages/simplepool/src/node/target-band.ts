/**
 * The targets a node announces, which the rings follow. A change within 5% of the
 * announced target keeps the announced one, so nudging a target moves no worker, and a
 * target that drifts by small steps moves them once per 5%, not on every step.
 */
import { TARGET_BAND } from '@simplepool/core'

/** What this node has announced per pool, and the rule for announcing again. */
export class TargetBand {
  private readonly announced: Record<string, number> = {}

  /**
   * The targets to announce for `targets` (this node's own, per pool): each pool's
   * target where it left the band around the announced one, else the announced one.
   * Remembers what it returns: call it only for what is announced.
   */
  announce (targets: Record<string, number>): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [pool, t] of Object.entries(targets)) {
      const prev = this.announced[pool]
      // 0 in or out is always announced: a drain and an undrain must move workers
      if (prev === undefined || t === 0 || prev === 0 || Math.abs(t - prev) > TARGET_BAND * prev) this.announced[pool] = t
      out[pool] = this.announced[pool]
    }
    return out
  }
}
