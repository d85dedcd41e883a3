import { MAX_TIMER_MS } from '@simplepool/core'
import type { Clock, TimerHandle } from '@simplepool/core'

/**
 * The node's one timer for every worker's idle deadline and tick: entries fall into
 * coarse buckets (arrays, one per slot of `resolutionMs`), and a single timer is armed for
 * the earliest non-empty slot. An entry costs one array slot; nothing is ever removed:
 * the owner keeps the slot it was last scheduled for and ignores firings of older ones
 * (lazy deletion), so rescheduling on every message would cost nothing but a number, and
 * a million idle workers with no tick and no idle timeout cost nothing at all.
 */
export class TimingWheel<T> {
  private readonly buckets = new Map<number, T[]>()
  private timer: TimerHandle | undefined
  private armedFor = Infinity
  private entries = 0
  private readonly clock: Clock
  private readonly resolutionMs: number
  private readonly onDue: (item: T, slot: number) => void

  /**
   * @param onDue - Called for each entry of a due slot, with that slot: the owner compares
   * it with the slot the item was last scheduled for and ignores stale firings.
   */
  constructor (clock: Clock, resolutionMs: number, onDue: (item: T, slot: number) => void) {
    this.clock = clock
    this.resolutionMs = Math.max(1, resolutionMs)
    this.onDue = onDue
  }

  /** Entries held, stale ones included. */
  get size (): number {
    return this.entries
  }

  /** The slot a deadline falls in; an entry fires at or after its deadline, never before. */
  slotOf (at: number): number {
    return Math.ceil(at / this.resolutionMs)
  }

  /** Adds `item` for monotonic time `at` and returns its slot, which the owner keeps. */
  schedule (item: T, at: number): number {
    const slot = this.slotOf(at)
    let bucket = this.buckets.get(slot)
    if (bucket === undefined) {
      bucket = []
      this.buckets.set(slot, bucket)
    }
    bucket.push(item)
    this.entries++
    if (slot < this.armedFor) this.arm(slot)
    return slot
  }

  /** Drops every entry and the timer. */
  clear (): void {
    this.buckets.clear()
    this.entries = 0
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.armedFor = Infinity
  }

  private arm (slot: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.armedFor = slot
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, slot * this.resolutionMs - this.clock.monotonic()))
    this.timer = this.clock.setTimeout(() => { this.fire() }, delay)
  }

  private fire (): void {
    this.timer = undefined
    this.armedFor = Infinity
    const nowSlot = Math.floor(this.clock.monotonic() / this.resolutionMs)
    // buckets are few (one per distinct slot), so scanning their keys per firing is cheap
    const due: number[] = []
    for (const slot of this.buckets.keys()) if (slot <= nowSlot) due.push(slot)
    due.sort((a, b) => a - b)
    for (const slot of due) {
      const bucket = this.buckets.get(slot) as T[]
      this.buckets.delete(slot)
      this.entries -= bucket.length
      for (let i = 0; i < bucket.length; i++) {
        try {
          this.onDue(bucket[i], slot)
        } catch {
          // one entry's failure must not keep the others from firing
        }
      }
    }
    let next = Infinity
    for (const slot of this.buckets.keys()) if (slot < next) next = slot
    if (next !== Infinity) this.arm(next)
  }
}
