import { DeadlineWheel, MAX_TIMER_MS } from '@simplepool/core'
import type { Clock, TimerHandle } from '@simplepool/core'

/** Where a call's deadline is watched. */
export const Watched = { Not: 0, Queue: 1, Wheel: 2 } as const

/** What {@link CallDeadlines} keeps on each call it watches. */
export interface Timed {
  /** Its deadline, monotonic ms. */
  due: number
  /** One of {@link Watched}. */
  watched: typeof Watched[keyof typeof Watched]
}

/** Answered calls the queue may hold before it is compacted, at least. */
const COMPACT_AT = 1024

/**
 * The deadlines of the calls a node has in flight. Calls made with the same timeout (nearly
 * every call: most callers never give one) come due in the order they were made, so they
 * wait in one queue in that order, watched by one timer set for its head: adding one is a
 * push, and one answered is only marked, and skipped once it reaches the head. A call that
 * would come due before the last one queued (a shorter timeout) goes on the coarse wheel,
 * as every call did before: two map updates to add it, two to remove it, on every call, was
 * a twentieth of a caller's time at 256 calls in flight.
 *
 * Answered calls left in the queue behind one that waits are dropped once they are more
 * than half of it: a call that hangs for its whole timeout while thousands are answered
 * does not keep them all. A deadline fires up to one resolution late, never early.
 */
export class CallDeadlines<T extends Timed> {
  private queue: T[] = []
  private head = 0
  /** Calls in the queue already answered. */
  private answered = 0
  private timer: TimerHandle | undefined
  /** When the armed timer fires (Infinity: none armed). */
  private armedFor = Infinity
  private readonly wheel: DeadlineWheel<T>
  private readonly clock: Clock
  private readonly resolutionMs: number
  private readonly onExpire: (item: T) => void

  constructor (clock: Clock, resolutionMs: number, onExpire: (item: T) => void) {
    this.clock = clock
    this.resolutionMs = Math.max(1, resolutionMs)
    this.onExpire = onExpire
    this.wheel = new DeadlineWheel<T>(clock, resolutionMs, (item) => {
      item.watched = Watched.Not
      onExpire(item)
    })
  }

  /** Calls watched now. */
  get size (): number {
    return this.queue.length - this.head - this.answered + this.wheel.size
  }

  /** Watches `item`, due at `due` (monotonic ms). */
  add (item: T, due: number): void {
    item.due = due
    const tail = this.queue.length > this.head ? this.queue[this.queue.length - 1] : undefined
    if (tail !== undefined && due < tail.due) {
      item.watched = Watched.Wheel
      this.wheel.add(item, due)
      return
    }
    item.watched = Watched.Queue
    this.queue.push(item)
    // a timer armed for a later call (one answered since, with a longer timeout) is moved up
    this.arm(due)
  }

  /** Stops watching `item` (it was answered, or given up). */
  delete (item: T): void {
    if (item.watched === Watched.Wheel) this.wheel.delete(item)
    else if (item.watched === Watched.Queue) {
      item.watched = Watched.Not
      this.answered++
      if (this.queue[this.head] === item) this.skipAnswered()
      else if (this.answered > COMPACT_AT && this.answered * 2 > this.queue.length - this.head) this.compact()
      return
    }
    item.watched = Watched.Not
  }

  /** Forgets every call, firing none. */
  clear (): void {
    for (let i = this.head; i < this.queue.length; i++) this.queue[i].watched = Watched.Not
    this.queue = []
    this.head = 0
    this.answered = 0
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.armedFor = Infinity
    this.wheel.clear()
  }

  private arm (due: number): void {
    // at the end of its resolution's slot, as the wheel does: calls made within one slot share a firing
    const at = Math.ceil(due / this.resolutionMs) * this.resolutionMs
    if (at >= this.armedFor) return
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.armedFor = at
    this.timer = this.clock.setTimeout(() => { this.fire() }, Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock.monotonic())))
  }

  private fire (): void {
    this.timer = undefined
    this.armedFor = Infinity
    const now = this.clock.monotonic()
    this.skipAnswered()
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]
      if (item.due > now) break
      this.head++
      item.watched = Watched.Not
      try {
        this.onExpire(item)
      } catch {
        // an expiry handler's failure must not stop the others from expiring
      }
      this.skipAnswered()
    }
    if (this.head < this.queue.length) this.arm(this.queue[this.head].due)
    else this.reset()
  }

  /** Moves the head past calls already answered. */
  private skipAnswered (): void {
    const q = this.queue
    while (this.head < q.length && q[this.head].watched !== Watched.Queue) {
      this.head++
      this.answered--
    }
    if (this.head === q.length) this.reset()
    else if (this.head > COMPACT_AT && this.head * 2 > q.length) {
      this.queue = q.slice(this.head)
      this.head = 0
    }
  }

  /** Drops the answered calls from the queue; the order of the rest stays. */
  private compact (): void {
    this.queue = this.queue.slice(this.head).filter(item => item.watched === Watched.Queue)
    this.head = 0
    this.answered = 0
  }

  /** An empty queue: its array starts again (the timer, if armed, finds nothing and lapses). */
  private reset (): void {
    this.queue.length = 0
    this.head = 0
    this.answered = 0
  }
}
