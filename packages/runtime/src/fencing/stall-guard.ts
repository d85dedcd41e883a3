import { STALL_BEAT_MS } from '@simplepool/core'
import type { Clock, TimerHandle } from '@simplepool/core'

/**
 * Notices that this node's event loop stood still (SIGSTOP, a long GC, a blocked loop)
 * for longer than `thresholdMs`: long enough that the others may have marked the node
 * down and started its workers elsewhere. One timer per node notes each turn; the hot
 * paths (a message from the network, a drain of the run queue) only compare the clock
 * with that note, so whichever runs first after the pause trips the guard, before any
 * turn runs on what may be a stale activation.
 */
export class StallGuard {
  private last: number
  private timer: TimerHandle | undefined
  private readonly clock: Clock
  private readonly thresholdMs: number
  private readonly onStall: (pausedMs: number) => void
  private readonly onBeat: (() => void) | undefined

  /** `onBeat` runs on every beat, after the check: what else a node looks at every {@link STALL_BEAT_MS} (its lease on a majority). */
  constructor (clock: Clock, thresholdMs: number, onStall: (pausedMs: number) => void, onBeat?: () => void) {
    this.clock = clock
    this.thresholdMs = thresholdMs > 0 ? thresholdMs : Infinity
    this.onStall = onStall
    this.onBeat = onBeat
    this.last = clock.monotonic()
  }

  start (): void {
    if (this.timer !== undefined || this.thresholdMs === Infinity) return
    this.last = this.clock.monotonic()
    const beat = (): void => {
      this.check(this.clock.monotonic())
      this.last = this.clock.monotonic()
      this.onBeat?.()
      this.timer = this.clock.setTimeout(beat, STALL_BEAT_MS)
    }
    this.timer = this.clock.setTimeout(beat, STALL_BEAT_MS)
  }

  /** Looks at what the beat looks at now (the lease), between beats. */
  beatNow (): void {
    if (this.timer !== undefined) this.onBeat?.()
  }

  stop (): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Trips the guard when the loop stood still since the last beat for longer than the threshold. */
  check (now: number): void {
    const gap = now - this.last
    if (gap <= this.thresholdMs) return
    this.last = now
    this.onStall(gap)
  }
}
