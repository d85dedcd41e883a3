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
  setTimeout: (fn: () => void, ms: number) => TimerHandle
  clearTimeout: (handle: TimerHandle) => void
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
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) }
}
