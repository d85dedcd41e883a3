import type { Activation } from './activation.js'

/** How long one drain of the run queue may hold the event loop before it yields, in ms. */
const SLICE_MS = 8

/**
 * The node's run queue: activations with messages to take. A message to an idle worker
 * schedules it; one microtask drains the queue, so a burst of sends costs one wake-up and
 * a local call is answered within the same turn of the event loop. A drain that runs
 * past its slice yields to I/O and resumes on the next turn.
 */
export class Scheduler {
  private queue: Array<Activation | undefined> = []
  private head = 0
  private pending = false
  private readonly run: (act: Activation) => void
  private readonly monotonic: () => number
  private readonly drainNow = (): void => { this.drain() }

  /**
   * @param run - Takes turns of one activation; it reschedules the activation itself if it stopped early.
   * @param monotonic - The clock that measures a slice.
   */
  constructor (run: (act: Activation) => void, monotonic: () => number) {
    this.run = run
    this.monotonic = monotonic
  }

  /** Activations waiting to run. */
  get size (): number {
    return this.queue.length - this.head
  }

  /** Queues `act` once; it runs in this turn of the event loop's microtasks. */
  add (act: Activation): void {
    if (act.scheduled) return
    act.scheduled = true
    this.queue.push(act)
    if (!this.pending) {
      this.pending = true
      queueMicrotask(this.drainNow)
    }
  }

  private drain (): void {
    this.pending = false
    const start = this.monotonic()
    let n = 0
    while (this.head < this.queue.length) {
      const act = this.queue[this.head] as Activation
      this.queue[this.head++] = undefined
      act.scheduled = false
      this.run(act)
      if ((++n & 255) === 0 && this.monotonic() - start > SLICE_MS) {
        this.compact()
        if (this.head < this.queue.length && !this.pending) {
          this.pending = true
          setImmediate(this.drainNow)
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
