/**
 * Drains as the node that asks for them runs them: it tells the drained node to drain
 * (any node may drain any node, itself included), then polls how many workers that node
 * still holds until none is left, logging the progress for watchers; and, before a stop,
 * this node drains itself and waits for its workers to leave. Every wait is on the
 * injected clock.
 */
import { AbortError, DEFAULT_DRAIN_TIMEOUT_MS, DRAIN_POLL_MS, DRAIN_PROGRESS_MS, STOP_DRAIN_POLL_MS, STOP_FRESH_VIEW_MAX_MS, TimeoutError, sleep } from '@simplepool/core'
import type { Clock, Logger } from '@simplepool/core'
import { checkSignal, timeoutOf } from '@simplepool/runtime'
import type { AbortOptions } from '@simplepool/runtime'
import type { AdminEventLog } from '../admin/event-log.js'

/** Options of `drain` and `undrain`. */
export interface DrainOptions extends AbortOptions {
  /** Drain only these pools; the node keeps serving the others. @default every pool */
  pools?: string[]
  /**
   * false: resolve once the node has begun to drain; its end shows in the event log
   * (`drain:done`, `drain:cancel` when undone first, `drain:fail`). @default true
   */
  wait?: boolean
}

/** What running drains takes: the node protocol's drain operations on any node, this node's own side, a clock, a log. */
export interface DrainComponents {
  /** Every poll and deadline is on this clock. */
  clock: Clock
  logger: Logger
  /** Where the drains' progress and end are logged for watchers. */
  events: Pick<AdminEventLog, 'add'>
  /** Tells `peerId` to drain those pools (null: all of its pools, and its status goes to `draining`). */
  start: (peerId: string, pools: string[] | null, options: AbortOptions) => Promise<void>
  /** Tells `peerId` to take back the targets it had before its drain. */
  undo: (peerId: string, pools: string[] | null, options: AbortOptions) => Promise<void>
  /** Workers of those pools still on `peerId`; -1 when one of them is not drained (any more). */
  held: (peerId: string, pools: string[] | null, options: AbortOptions) => Promise<number>
  /** Drains this node of every pool (its own side, without a message): a stop's first step. */
  drainSelf: () => void
  /** Whether this node still holds workers another node would take (held, of a pool some other node serves or is joining to serve), or passes a claim for one on. */
  handingOver: () => boolean
  /** Whether every other member that is not down or leaving sent a record that arrived after `since` (monotonic). */
  heardFromAllSince: (since: number) => boolean
}

/** The drains this node asks for, of any node, and its own before a stop. */
export class Drains {
  constructor (private readonly c: DrainComponents) {}

  /**
   * Drains `peerId`, and resolves once it holds none of the pools' workers (with
   * `wait: false`: once it has begun, and its end is logged). Rejects with `AbortError`
   * when it is undone meanwhile, `TimeoutError` past `timeoutMs` (default 10 minutes).
   */
  async drain (peerId: string, options: DrainOptions = {}): Promise<void> {
    checkSignal(options.signal)
    const pools = options.pools ?? null
    await this.c.start(peerId, pools, options)
    if (options.wait !== false) {
      await this.untilDrained(peerId, pools, options)
      return
    }
    // not waited for: its end (done, undone, failed) is logged, and no request's signal ends it
    this.untilDrained(peerId, pools, { timeoutMs: options.timeoutMs }).catch((err: Error) => {
      // undone by an undrain: what the operator asked for, not a failure
      if (err.name !== 'AbortError') this.c.logger.warn(`the drain of ${peerId} did not finish: ${err.name}: ${err.message}`)
    })
  }

  /** Puts a drained node back in service with the targets it had. */
  async undrain (peerId: string, options: DrainOptions = {}): Promise<void> {
    checkSignal(options.signal)
    await this.c.undo(peerId, options.pools ?? null, options)
  }

  /**
   * Hands every worker of this node to the nodes that stay, through the handoff, before a
   * stop: a graceful stop loses no state even for pools without `save`. Gives up at the
   * deadline (`timeoutMs`; 0 skips the handoff), and for pools no other node serves or is
   * joining to serve (a whole cluster stopping), whose workers are saved; but it believes
   * that no other node serves them only from a view every other member has spoken in since
   * the stop began (or after {@link STOP_FRESH_VIEW_MAX_MS}): a node undrained a moment ago
   * may still read as drained here, and its record is on its way.
   */
  async beforeStop (timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (timeoutMs <= 0) return
    const { clock } = this.c
    this.c.drainSelf()
    const since = clock.monotonic()
    const deadline = since + timeoutMs
    while (clock.monotonic() < deadline && signal?.aborted !== true) {
      if (!this.c.handingOver() && (this.c.heardFromAllSince(since) || clock.monotonic() - since >= STOP_FRESH_VIEW_MAX_MS)) return
      await sleep(clock, STOP_DRAIN_POLL_MS)
    }
  }

  /**
   * Polls a drained node until it holds none of the pools' workers, logging its progress
   * once a second for watchers. Rejects with `AbortError` when the drain is undone
   * meanwhile, `TimeoutError` at the deadline.
   */
  private async untilDrained (peerId: string, pools: string[] | null, options: AbortOptions): Promise<void> {
    const { clock, events } = this.c
    const deadline = clock.monotonic() + timeoutOf(options, DEFAULT_DRAIN_TIMEOUT_MS)
    let loggedAt = clock.monotonic()
    let lastHeld = -1
    try {
      for (;;) {
        const held = await this.c.held(peerId, pools, options)
        if (held === 0) {
          events.add('drain:done', { member: peerId, pools })
          return
        }
        if (held < 0) throw new AbortError(`the drain of ${peerId} was undone`, { peer: peerId })
        // once a second while it moves: the watchers' progress bar
        if (held !== lastHeld && clock.monotonic() - loggedAt >= DRAIN_PROGRESS_MS) {
          events.add('drain:progress', { member: peerId, pools, left: held })
          loggedAt = clock.monotonic()
          lastHeld = held
        }
        if (clock.monotonic() > deadline) throw new TimeoutError(`${held} workers are still on ${peerId}`, { peer: peerId, held })
        await sleep(clock, DRAIN_POLL_MS)
        checkSignal(options.signal)
      }
    } catch (err) {
      const e = err as Error
      events.add(e.name === 'AbortError' ? 'drain:cancel' : 'drain:fail', { member: peerId, pools, error: { name: e.name, message: e.message } })
      throw err
    }
  }
}
