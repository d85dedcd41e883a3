import { SCHEDULER_CLOCK_EVERY_MASK, SCHEDULER_SLICE_MS, SCHEDULER_TURNS_PER_CLOCK, deferOf } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import type { Activation } from './activation.js'

/** Scheduling a drain on a resolved promise costs less than `queueMicrotask`, which wraps each callback for async hooks. */
const RESOLVED = Promise.resolve()

/**
 * The node's run queue: activations with messages to take. A message to an idle worker
 * schedules it; one microtask drains the queue, so a burst of sends costs one wake-up and
 * a local call is answered within the same turn of the event loop. Microtasks alone would
 * let a busy node starve its own I/O (a drain that runs long, or a loop awaiting one local
 * call after another, each answer starting the next drain), so the node keeps a slice: once
 * drains have held the event loop for 8 ms without a break, the next drain waits for the
 * next turn (the clock's `defer`: `setImmediate` in production), and timers, sockets and heartbeats get theirs.
 */
export class Scheduler {
  private queue: Array<Activation | undefined> = []
  private head = 0
  private pending = false
  /** A slice of event-loop time is open: drains ran since the last turn of the loop. */
  private inSlice = false
  private sliceStart = 0
  private drainsInSlice = 0
  private readonly endSlice = (): void => { this.inSlice = false }
  private readonly run: (act: Activation, now: number) => number
  private readonly monotonic: () => number
  private readonly defer: (fn: () => void) => void
  private readonly drainNow = (): void => { this.drain() }
  private held = false
  /** While held: activations that run all the same (see {@link hold}); the others wait in `parked`. */
  private runsHeld: ((act: Activation) => boolean) | undefined
  private parked: Activation[] = []
  /** Called with the clock at the start of every drain, before any turn runs, and at each later reading of it in the drain. */
  onDrain: ((now: number) => void) | undefined

  /**
   * @param run - Takes turns of one activation and says how many; it reschedules the
   * activation itself if it stopped early. `now` is read at the start of a drain and again
   * every 64 turns, so a deadline is judged at most 64 turns late.
   * @param clock - Measures a slice, and yields the event loop between slices (`defer`).
   */
  constructor (run: (act: Activation, now: number) => number, clock: Clock) {
    this.run = run
    this.monotonic = clock.monotonic
    this.defer = deferOf(clock)
  }

  /** Activations waiting to run. */
  get size (): number {
    return this.queue.length - this.head + this.parked.length
  }

  /** Queues `act` once; it runs in this turn of the event loop's microtasks. */
  add (act: Activation): void {
    if (act.scheduled) return
    act.scheduled = true
    this.queue.push(act)
    if (!this.pending) {
      this.pending = true
      if (this.sliceSpent()) this.defer(this.drainNow)
      else void RESOLVED.then(this.drainNow)
    }
  }

  /**
   * Runs no turn until {@link release}; what is queued stays queued. With `runs`, the
   * activations it says yes to go on taking turns meanwhile (an `available` pool's, while
   * the node is cut off from a majority), and the others wait.
   */
  hold (runs?: (act: Activation) => boolean): void {
    this.held = true
    this.runsHeld = runs
  }

  release (): void {
    this.held = false
    this.runsHeld = undefined
    // still marked scheduled: they go back in the queue as they were
    for (const act of this.parked) this.queue.push(act)
    this.parked = []
    if (this.head < this.queue.length && !this.pending) {
      this.pending = true
      this.defer(this.drainNow)
    }
  }

  /** True once drains have held this turn of the event loop for a whole slice. */
  private sliceSpent (): boolean {
    if (!this.inSlice) {
      this.inSlice = true
      this.drainsInSlice = 0
      this.sliceStart = this.monotonic()
      this.defer(this.endSlice)
      return false
    }
    if ((++this.drainsInSlice & SCHEDULER_CLOCK_EVERY_MASK) !== 0) return false
    return this.monotonic() - this.sliceStart > SCHEDULER_SLICE_MS
  }

  private drain (): void {
    this.pending = false
    const start = this.monotonic()
    this.onDrain?.(start)
    let now = start
    let turns = 0
    while (this.head < this.queue.length) {
      if (this.held && this.runsHeld === undefined) return
      const act = this.queue[this.head] as Activation
      this.queue[this.head++] = undefined
      if (this.held && !(this.runsHeld as (act: Activation) => boolean)(act)) {
        this.parked.push(act)
        continue
      }
      act.scheduled = false
      // an activation with nothing to do still counts: a long queue of them takes time too
      turns += this.run(act, now) + 1
      if (turns < SCHEDULER_TURNS_PER_CLOCK) continue
      turns = 0
      now = this.monotonic()
      // a process frozen in the middle of a drain (SIGSTOP) goes on with it when it wakes:
      // the stall guard looks at each reading of the clock, so at most this many turns run
      // before a fence holds the queue
      this.onDrain?.(now)
      if (now - start > SCHEDULER_SLICE_MS) {
        this.compact()
        if (this.head < this.queue.length && !this.pending) {
          this.pending = true
          this.defer(this.drainNow)
        }
        return
      }
    }
    this.queue.length = 0
    this.head = 0
  }

  private compact (): void {
    if (this.head === 0) return
    this.queue = this.queue.slice(this.head)
    this.head = 0
  }
}
