import type { Clock } from './clock.js'
import type { Logger } from './logger.js'

/** Keys whose last pass is remembered; past it the memory is dropped (one may pass early once, never a flood). */
const REMEMBERED_KEYS = 1_024

/**
 * At most one pass per `everyMs` per key, each saying how many were held back since the
 * last: what a source may cause (a log line, an event) stays a few a second however much
 * it sends, and the memory of who sent stays bounded however many keys it makes up.
 */
export class Throttle {
  private readonly last = new Map<string, { at: number, held: number }>()

  constructor (private readonly clock: Clock, private readonly everyMs = 1_000) {}

  /** -1 when `key` passed within `everyMs` (this one is held back); else it passes, and this says how many were held back since its last pass. */
  pass (key: string): number {
    const now = this.clock.monotonic()
    const last = this.last.get(key)
    if (last !== undefined && now - last.at < this.everyMs) {
      last.held++
      return -1
    }
    if (last === undefined && this.last.size >= REMEMBERED_KEYS) this.last.clear()
    this.last.set(key, { at: now, held: 0 })
    return last?.held ?? 0
  }
}

/**
 * Reports of one kind about one source (a peer's bad streams, a client's refused
 * requests), logged as errors at most once a second per key, the next line saying how
 * many were left out: a member that opens stream after stream of garbage must not flood
 * the log.
 */
export class ThrottledLog {
  private readonly throttle: Throttle

  constructor (clock: Clock, private readonly logger: Logger, everyMs = 1_000) {
    this.throttle = new Throttle(clock, everyMs)
  }

  /** Logs `message` about `key`, unless one was logged within the interval. */
  report (key: string, message: string): void {
    const left = this.throttle.pass(key)
    if (left >= 0) this.logger.error(left > 0 ? `${message} (and ${left} more since the last report)` : message)
  }
}
