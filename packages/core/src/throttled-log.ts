import type { Clock } from './clock.js'
import type { Logger } from './logger.js'

/** Keys whose last report is remembered; past it the memory is dropped (a report may come early once, never a flood). */
const REMEMBERED_KEYS = 1_024

/**
 * Reports of one kind about one source (a peer's bad streams, a client's refused
 * requests), logged at most once per `everyMs` per key, the next line saying how many
 * were left out: a member that opens stream after stream of garbage must not flood the
 * log, nor grow memory with every peer id it makes up.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number, left: number }>()

  constructor (private readonly clock: Clock, private readonly logger: Logger, private readonly everyMs = 1_000) {}

  /** Logs `message` about `key` as an error, unless one was logged within `everyMs`. */
  report (key: string, message: string): void {
    const now = this.clock.monotonic()
    const last = this.last.get(key)
    if (last !== undefined && now - last.at < this.everyMs) {
      last.left++
      return
    }
    if (last === undefined && this.last.size >= REMEMBERED_KEYS) this.last.clear()
    const left = last?.left ?? 0
    this.last.set(key, { at: now, left: 0 })
    this.logger.error(left > 0 ? `${message} (and ${left} more since the last report)` : message)
  }
}
