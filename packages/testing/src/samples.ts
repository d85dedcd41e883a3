/**
 * Latencies a load generator records, and the open-loop generator the remote benchmark
 * runs the same way against SimplePool, moleculer and a bare socket.
 */

/**
 * Latencies in ms, kept in one growing typed array: a load generator records hundreds of
 * thousands a second, and an array of numbers would cost more garbage than the calls.
 */
export class Samples {
  private data = new Float64Array(1 << 16)
  length = 0

  push (ms: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data)
      this.data = grown
    }
    this.data[this.length++] = ms
  }

  /** The samples, ascending. */
  sorted (): Float64Array {
    return this.data.slice(0, this.length).sort()
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile (sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/**
 * Sends `n` one-way messages with `send(i)` as fast as the queue takes them: on
 * `OverloadedError` (the queue is full) a turn of the event loop passes and the same
 * message is sent again, so every one is sent once. setImmediate rather than a timer: the
 * transport's flush is itself scheduled with setImmediate, so the queue is written before
 * it is refilled, and no millisecond is lost to timer granularity. The time to hand them all over, and how often the queue was full.
 */
export async function flood (n: number, send: (i: number) => void): Promise<{ sent: number, ms: number, overloaded: number }> {
  let sent = 0
  let overloaded = 0
  const started = performance.now()
  while (sent < n) {
    try {
      // sent moves only after send returns, so a refused message is retried, not counted
      for (; sent < n; sent++) send(sent)
    } catch (err) {
      if ((err as Error).name !== 'OverloadedError') throw err
      overloaded++
      await new Promise<void>(resolve => { setImmediate(resolve) })
    }
  }
  return { sent, ms: performance.now() - started, overloaded }
}

/** What {@link closedLoop} measured. */
export interface ClosedLoopResult {
  /** From the first call sent to the last settled. */
  ms: number
  /** Latencies of the calls that succeeded, in ms, ascending. */
  sorted: Float64Array
  /** Calls that failed, by error name. */
  errors: Record<string, number>
}

/**
 * `n` calls with `inFlight` always outstanding: each of `inFlight` loops sends its next
 * call as soon as its last one settles. Each latency as its caller saw it.
 */
export async function closedLoop (n: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<ClosedLoopResult> {
  const samples = new Samples()
  const errors: Record<string, number> = {}
  let issued = 0
  const loop = async (): Promise<void> => {
    while (issued < n) {
      const t0 = performance.now()
      try {
        await call(issued++)
        samples.push(performance.now() - t0)
      } catch (err) {
        const name = (err as Error | undefined)?.name ?? 'Error'
        errors[name] = (errors[name] ?? 0) + 1
      }
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, loop))
  return { ms: performance.now() - started, sorted: samples.sorted(), errors }
}

/** What {@link fixedRate} measured. */
export interface FixedRateResult {
  /** Calls sent (rate x seconds, unless the signal ended it early). */
  sent: number
  /** Calls that failed, by error name. */
  errors: Record<string, number>
  /** Latency quantiles of the calls that succeeded, in ms, from when each was due. */
  p50: number
  p99: number
  p999: number
  max: number
  /** Rate the calls actually went out at, per second. */
  sentPerSecond: number
}

/**
 * Sends `call(i)` at `rate` per second for `seconds`, whatever the replies do (an open
 * loop, as real clients behave), and times each call from the moment it was due rather
 * than the moment it went out: a stall that holds the sender back shows in the latencies
 * instead of hiding (no coordinated omission). Sends in small bursts, one per timer turn
 * (about a millisecond), never faster than the schedule.
 */
export async function fixedRate (call: (i: number) => Promise<unknown>, opts: { rate: number, seconds: number, signal?: AbortSignal }): Promise<FixedRateResult> {
  const total = Math.round(opts.rate * opts.seconds)
  const gapMs = 1000 / opts.rate
  const samples = new Samples()
  const errors: Record<string, number> = {}
  // one promise and two small closures per call: the generator's own garbage is collected
  // in the same pauses as the library's, so it must stay small beside what it measures
  let outstanding = 0
  let allSent = false
  let finished: () => void = () => {}
  const done = new Promise<void>(resolve => { finished = resolve })
  const settled = (): void => {
    if (--outstanding === 0 && allSent) finished()
  }
  const failed = (err: unknown): void => {
    const name = (err as Error | undefined)?.name ?? 'Error'
    errors[name] = (errors[name] ?? 0) + 1
    settled()
  }
  const started = performance.now()
  let sent = 0
  while (sent < total && opts.signal?.aborted !== true) {
    const due = Math.min(total, Math.floor((performance.now() - started) / gapMs) + 1)
    for (; sent < due; sent++) {
      const dueAt = started + sent * gapMs
      outstanding++
      let p: Promise<unknown>
      try {
        p = call(sent)
      } catch (err) {
        // a call that throws where it is made is a failure like any other
        p = Promise.reject(err)
      }
      p.then(() => {
        samples.push(performance.now() - dueAt)
        settled()
      }, failed)
    }
    await new Promise(resolve => setTimeout(resolve, 1))
  }
  const sentMs = performance.now() - started
  allSent = true
  if (outstanding > 0) await done
  const sorted = samples.sorted()
  return {
    sent,
    errors,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
    sentPerSecond: sent / (sentMs / 1000)
  }
}
