import { InvalidOptionError } from '@simplepool/core'
import type { Clock, TimerHandle } from '@simplepool/core'

/** One thing due at a virtual time. */
interface SimEvent {
  at: number
  /** Order among events due at the same time: the order they were made in. */
  seq: number
  fn: () => void
  cancelled: boolean
}

/** One node's view of a {@link SimClock}, and the faults that stop or move its time. */
export interface NodeClock {
  clock: Clock
  /** kill -9: nothing the node scheduled runs any more. */
  kill: () => void
  /** Stalls the node's event loop for `ms` from now. */
  pause: (ms: number) => void
  /** Until when (monotonic) the node is paused; in the past when it runs. */
  pausedUntil: () => number
  /** Moves the node's wall clock by `ms` (an NTP step); its monotonic time is untouched. */
  jump: (ms: number) => void
}

/** Virtual wall time at monotonic 0: a real date, so epochs look like the ones nodes make. */
const WALL_START_MS = Date.UTC(2026, 0, 1)

/**
 * Virtual time for a whole simulated cluster. Every timer and every yield (`defer`) of
 * every node is an event in one queue, ordered by due time and then by the order it was
 * made in; {@link run} takes them one at a time, jumping the clock to each, and lets the
 * promises each one settled run to the end before the next. Nothing else may schedule
 * work (no real timer, no real I/O), so a run depends only on what was scheduled: the
 * same seed gives the same run, event for event.
 */
export class SimClock implements Clock {
  private t = 0
  private seq = 0
  private readonly heap: SimEvent[] = []
  private executed = 0

  /** Whole milliseconds, as `Date.now()` gives. */
  now = (): number => WALL_START_MS + Math.floor(this.t)
  monotonic = (): number => this.t

  setTimeout = (fn: () => void, ms: number): TimerHandle => this.push(this.t + Math.max(0, ms), fn)

  clearTimeout = (handle: TimerHandle): void => {
    if (handle !== null && typeof handle === 'object') (handle as SimEvent).cancelled = true
  }

  /** After what is due now, as `setImmediate` after the I/O of its turn. */
  defer = (fn: () => void): void => { this.push(this.t, fn) }

  /** A clock for one node whose wall time is off by `skewMs` (its monotonic time and its events are the cluster's). */
  skewed (skewMs: number): Clock {
    return {
      now: () => this.now() + skewMs,
      monotonic: this.monotonic,
      setTimeout: this.setTimeout,
      clearTimeout: this.clearTimeout,
      defer: this.defer
    }
  }

  /**
   * A clock for one node that can be killed and paused. Once `kill()` is called, none of
   * the timers or yields the node set (before or after) runs, as a process that is gone
   * runs nothing. While paused (`pause(ms)`, as SIGSTOP or a long collection), what comes
   * due waits and then runs at the resume, in the order it came due, and the node reads
   * the time of the resume: the jump a stalled event loop sees. `skewMs` offsets its wall
   * time (its monotonic time and its events are the cluster's).
   */
  forNode (skewMs = 0): NodeClock {
    let alive = true
    let pausedUntil = -1
    const guard = (fn: () => void): () => void => {
      const run = (): void => {
        if (!alive) return
        if (this.t < pausedUntil) this.push(pausedUntil, run)
        else fn()
      }
      return run
    }
    let skew = skewMs
    return {
      clock: {
        now: () => this.now() + skew,
        monotonic: this.monotonic,
        setTimeout: (fn, ms) => this.setTimeout(guard(fn), ms),
        clearTimeout: this.clearTimeout,
        defer: (fn) => { this.defer(guard(fn)) }
      },
      kill: () => { alive = false },
      pause: (ms) => { pausedUntil = Math.max(pausedUntil, this.t + ms) },
      pausedUntil: () => pausedUntil,
      jump: (ms) => { skew += ms }
    }
  }

  /** Events taken so far. */
  get events (): number {
    return this.executed
  }

  /** Events waiting. */
  get pending (): number {
    return this.heap.length
  }

  /**
   * Takes events in order until the clock would pass `untilMs` (virtual ms since the
   * start), or none is left, or `stop` says so; the clock is then at `untilMs`. Each
   * event's promises run to the end before the next event.
   */
  async run (untilMs: number, stop?: () => boolean): Promise<void> {
    if (!(untilMs >= this.t)) throw new InvalidOptionError(`run until ${untilMs} ms, before the clock's ${this.t} ms`)
    await settleTurn()
    for (;;) {
      if (stop?.() === true) return
      const next = this.pop(untilMs)
      if (next === undefined) break
      this.t = next.at
      this.executed++
      next.fn()
      await settle()
    }
    this.t = untilMs
  }

  private push (at: number, fn: () => void): SimEvent {
    const e: SimEvent = { at, seq: this.seq++, fn, cancelled: false }
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(e, h[p])) break
      h[i] = h[p]
      i = p
    }
    h[i] = e
    return e
  }

  /** The next event due by `untilMs` that was not cancelled, taken off the queue. */
  private pop (untilMs: number): SimEvent | undefined {
    const h = this.heap
    while (h.length > 0) {
      const top = h[0]
      if (!top.cancelled && top.at > untilMs) return undefined
      const last = h.pop() as SimEvent
      if (h.length > 0) {
        let i = 0
        for (;;) {
          const l = 2 * i + 1
          if (l >= h.length) break
          const r = l + 1
          const c = r < h.length && before(h[r], h[l]) ? r : l
          if (!before(h[c], last)) break
          h[i] = h[c]
          i = c
        }
        h[i] = last
      }
      if (!top.cancelled) return top
    }
    return undefined
  }
}

function before (a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/**
 * Resolves once every promise reaction queued so far, and those they queue, have run.
 * Called from a promise reaction (after the first `await` of {@link SimClock.run}), a
 * `process.nextTick` callback runs only once Node has drained the whole microtask queue,
 * so the resolve it makes is the last reaction of the drain: exact, and about twice as
 * fast as a `setImmediate`, which turns the whole event loop (timers, poll) per event.
 * The run's first settle is a `setImmediate`, since its caller may not be a reaction.
 * Nothing a simulated node runs may use `process.nextTick` itself (nothing does).
 */
async function settle (): Promise<void> {
  await new Promise<void>(resolve => { process.nextTick(resolve) })
}

/** A real macrotask: whatever called {@link SimClock.run} has finished its turn. */
async function settleTurn (): Promise<void> {
  await new Promise<void>(resolve => { setImmediate(resolve) })
}
