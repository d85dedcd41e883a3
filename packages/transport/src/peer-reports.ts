import type { Clock, Logger } from '@simplepool/core'

/** Peers whose last report is remembered; past it the memory is dropped (a report may come early once, never a flood). */
const REMEMBERED_PEERS = 1_024

/**
 * A peer's bad streams, logged at most once per `everyMs` per peer, the next line saying
 * how many were left out: a member that opens stream after stream of garbage must not
 * flood the log, nor grow memory with every peer id it makes up.
 */
export class PeerReports {
  private readonly last = new Map<string, { at: number, left: number }>()

  constructor (private readonly clock: Clock, private readonly logger: Logger, private readonly everyMs = 1_000) {}

  /** Logs `message` about `peer` as an error, unless one was logged within `everyMs`. */
  report (peer: string, message: string): void {
    const now = this.clock.monotonic()
    const last = this.last.get(peer)
    if (last !== undefined && now - last.at < this.everyMs) {
      last.left++
      return
    }
    if (last === undefined && this.last.size >= REMEMBERED_PEERS) this.last.clear()
    const left = last?.left ?? 0
    this.last.set(peer, { at: now, left: 0 })
    this.logger.error(left > 0 ? `${message} (and ${left} more from it since the last report)` : message)
  }
}
