import type { Clock, TimerHandle } from './clock.js'
import { MAX_TIMER_MS } from './constants/time.js'

/**
 * One coarse timer for many deadlines: entries fall into buckets of `resolutionMs`, and a
 * single timer fires the due buckets; it is armed when an entry is added and lapses when
 * it finds nothing left. Adding and removing
 * are O(1); a deadline fires up to one resolution late, never early. This replaces a timer
 * per call or per worker, which costs an allocation and a heap insert each.
 */
export class DeadlineWheel<T> {
  private readonly buckets = new Map<number, Set<T>>()
  private readonly bucketOf = new Map<T, number>()
  private timer: TimerHandle | undefined
  private armedFor = Infinity
  private readonly clock: Clock
  private readonly resolutionMs: number
  private readonly onExpire: (item: T) => void

  constructor (clock: Clock, resolutionMs: number, onExpire: (item: T) => void) {
    this.clock = clock
    this.resolutionMs = Math.max(1, resolutionMs)
    this.onExpire = onExpire
  }

  /** Entries now held. */
  get size (): number {
    return this.bucketOf.size
  }

  /** Schedules `item` to expire at `deadline` (monotonic ms). Re-adding moves it. */
  add (item: T, deadline: number): void {
    this.delete(item)
    const slot = Math.ceil(deadline / this.resolutionMs)
    let bucket = this.buckets.get(slot)
    if (bucket == null) {
      bucket = new Set()
      this.buckets.set(slot, bucket)
    }
    bucket.add(item)
    this.bucketOf.set(item, slot)
    if (slot < this.armedFor) this.arm(slot)
  }

  /** Removes `item`; true when it was scheduled. */
  delete (item: T): boolean {
    const slot = this.bucketOf.get(item)
    if (slot === undefined) return false
    this.bucketOf.delete(item)
    const bucket = this.buckets.get(slot)
    if (bucket != null) {
      bucket.delete(item)
      if (bucket.size === 0) this.buckets.delete(slot)
    }
    // The timer stays armed when the wheel empties: a caller making one call at a time
    // would otherwise clear and set a timer per call. A firing with nothing due is free.
    return true
  }

  /** Drops every entry without firing, and the timer with them. */
  clear (): void {
    this.buckets.clear()
    this.bucketOf.clear()
    this.disarm()
  }

  private arm (slot: number): void {
    this.disarm()
    this.armedFor = slot
    // a timer takes at most 2^31-1 ms; a later deadline is re-checked when that one fires
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, slot * this.resolutionMs - this.clock.monotonic()))
    this.timer = this.clock.setTimeout(() => { this.fire() }, delay)
  }

  private disarm (): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.armedFor = Infinity
  }

  private fire (): void {
    this.timer = undefined
    this.armedFor = Infinity
    const nowSlot = Math.floor(this.clock.monotonic() / this.resolutionMs)
    let next = Infinity
    // Buckets are few (one per distinct deadline slot), so a scan per firing is cheap.
    const due: number[] = []
    for (const slot of this.buckets.keys()) {
      if (slot <= nowSlot) due.push(slot)
      else if (slot < next) next = slot
    }
    due.sort((a, b) => a - b)
    for (const slot of due) {
      const bucket = this.buckets.get(slot)
      this.buckets.delete(slot)
      if (bucket == null) continue
      for (const item of bucket) {
        this.bucketOf.delete(item)
        try {
          this.onExpire(item)
        } catch {
          // an expiry handler's failure must not stop the others from expiring
        }
      }
    }
    // onExpire may have added entries; re-arm for the earliest remaining slot
    if (this.buckets.size > 0) {
      next = Infinity
      for (const slot of this.buckets.keys()) if (slot < next) next = slot
      this.arm(next)
    }
  }
}
