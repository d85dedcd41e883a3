import type { Clock, TimerHandle } from '@simplepool/core'

/**
 * Things to look at again a fixed delay after they came, with one timer for all of them:
 * handoffs that failed whole (tried again later), workers taken in by a node that does not
 * own them (handed on once the ring settled). No timer per worker or per batch.
 */
export class Later<T> {
  /** In the order they came, so in the order they are due (one delay for all). */
  private waiting: Array<{ at: number, item: T }> = []
  private head = 0
  private timer: TimerHandle | undefined

  constructor (private readonly clock: Clock, private readonly delayMs: number, private readonly due: (items: T[]) => void) {}

  /** How many wait. */
  get size (): number {
    return this.waiting.length - this.head
  }

  /** Looks at `items` again `delayMs` from now. */
  add (items: readonly T[]): void {
    const at = this.clock.monotonic() + this.delayMs
    for (const item of items) this.waiting.push({ at, item })
    this.arm()
  }

  /** Forgets everything waiting. */
  stop (): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.waiting = []
    this.head = 0
  }

  private arm (): void {
    if (this.timer !== undefined || this.size === 0) return
    this.timer = this.clock.setTimeout(() => { this.fire() }, Math.max(0, this.waiting[this.head].at - this.clock.monotonic()))
  }

  private fire (): void {
    this.timer = undefined
    const now = this.clock.monotonic()
    const items: T[] = []
    while (this.head < this.waiting.length && this.waiting[this.head].at <= now) items.push(this.waiting[this.head++].item)
    if (this.head === this.waiting.length) {
      this.waiting = []
      this.head = 0
    }
    this.arm()
    if (items.length > 0) this.due(items)
  }
}
