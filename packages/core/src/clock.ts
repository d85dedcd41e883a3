/**
 * Time reaches the runtime through this interface, never through `Date.now` or
 * `setTimeout` directly, so the same logic can later run under a virtual clock.
 */

/** An opaque timer handle. */
export type TimerHandle = unknown

/** Wall time, a monotonic time, and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now: () => number
  /** Monotonic milliseconds with sub-millisecond precision, for durations. */
  monotonic: () => number
  /** Calls `fn` once after `ms`; the timer must not keep the process alive. */
  setTimeout: (fn: () => void, ms: number) => TimerHandle
  /** Cancels a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout: (handle: TimerHandle) => void
  /**
   * Runs `fn` on a later turn of the event loop, after pending I/O: how long loops yield
   * and how the run queue gives the network its turn. A simulated clock orders these with
   * its timers. Without it, `setImmediate`.
   */
  defer?: (fn: () => void) => void
}

/** How `clock` yields the event loop: its `defer`, or `setImmediate`. */
export function deferOf (clock: Clock): (fn: () => void) => void {
  return clock.defer ?? immediate
}

function immediate (fn: () => void): void {
  setImmediate(fn)
}

/** Resolves after `ms` on `clock`: every wait of a poll or a retry, so a virtual clock moves it. */
export async function sleep (clock: Clock, ms: number): Promise<void> {
  await new Promise<void>(resolve => { clock.setTimeout(resolve, ms) })
}

/** Resolves on a later turn of the event loop, as `clock` yields it (`defer`): how long loops let others run. */
export async function nextTurn (clock: Clock): Promise<void> {
  await new Promise<void>(resolve => { deferOf(clock)(resolve) })
}

/**
 * A signal that aborts after `ms` on `clock`, as `AbortSignal.timeout` does on the real
 * one (same reason: a `TimeoutError` DOMException), so dial and open deadlines follow an
 * injected clock too.
 */
export function timeoutSignal (clock: Clock, ms: number): AbortSignal {
  const controller = new AbortController()
  clock.setTimeout(() => { controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')) }, ms)
  return controller.signal
}

/** The real clock. Its timers are unref'd: a pending deadline never keeps a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t
  },
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) },
  defer: immediate
}

/**
 * A clock that moves only when told: unit tests and, later, the deterministic simulator
 * drive time-based logic with it. Timers fire in deadline order inside `advance`.
 */
export class ManualClock implements Clock {
  private t: number
  private timers: Array<{ at: number, fn: () => void, id: number }> = []
  private nextId = 0

  constructor (start = 1_000) {
    this.t = start
  }

  now = (): number => this.t
  monotonic = (): number => this.t

  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const id = ++this.nextId
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id })
    return id
  }

  clearTimeout = (handle: TimerHandle): void => {
    this.timers = this.timers.filter(t => t.id !== handle)
  }

  /** Timers armed and not yet fired. */
  get pendingTimers (): number {
    return this.timers.length
  }

  /**
   * Moves time forward by `ms` without firing any timer, as a frozen process (SIGSTOP, a
   * long pause) finds it when it runs again: the timers that fell due fire on the next
   * {@link advance}.
   */
  jump (ms: number): void {
    this.t += ms
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance (ms: number): void {
    const end = this.t + ms
    for (;;) {
      let next: { at: number, fn: () => void, id: number } | undefined
      for (const t of this.timers) if (next == null || t.at < next.at) next = t
      if (next == null || next.at > end) break
      this.timers = this.timers.filter(t => t !== next)
      this.t = Math.max(this.t, next.at)
      next.fn()
    }
    this.t = end
  }
}
