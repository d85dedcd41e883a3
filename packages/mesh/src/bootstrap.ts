import { BOOTSTRAP_RETRY_MAX_MS, BOOTSTRAP_RETRY_MS } from '@simplepool/core'
import type { Clock, Logger, Random, TimerHandle } from '@simplepool/core'

/** What dialling the bootstrap addresses needs of the mesh. */
export interface BootstrapComponents {
  readonly clock: Clock
  readonly random: Random
  readonly logger: Logger
  /** Dials one address; rejects with a named error (see `dialProven`). */
  dial: (addr: string) => Promise<void>
  /** True once some member can be reached: the retries stop. */
  reached: () => boolean
  /** True while the mesh runs. */
  running: () => boolean
  /** A named error an operator should see (once per address and kind of failure). */
  report: (err: Error) => void
}

/**
 * The first dials of a joining node: every bootstrap address at once and, while this
 * node reaches no member (a dial failed, or what it opened closed before a member was
 * heard), every address again after a wait that doubles from `BOOTSTRAP_RETRY_MS` up to
 * `BOOTSTRAP_RETRY_MAX_MS`, each drawn between half and all of it. A hundred nodes
 * started together dial one seed together; the seed, busy with a hundred handshakes, lets
 * some time out, and their retries spread out instead of coming back all at once, as
 * they would at a fixed interval. Once a member is reached the retries end for good:
 * from then on the mesh redials the members it knows.
 */
export class Bootstrap {
  private timer: TimerHandle | undefined
  private attempt = 0
  private stopped = false
  /** The kind of failure last reported per address: one line each, not one per retry. */
  private readonly reported = new Map<string, string>()

  constructor (private readonly c: BootstrapComponents) {}

  /** Dials `addresses`; resolves once every dial of this round ended (a retry, if one is due, is scheduled). */
  async dial (addresses: readonly string[]): Promise<void> {
    const failed: string[] = []
    await Promise.all(addresses.map(async (addr) => {
      try {
        await this.c.dial(addr)
        this.reported.delete(addr)
      } catch (err) {
        // a dial the stop cut short says nothing of the address
        if (!this.c.running()) return
        failed.push(addr)
        const named = err as Error
        if (this.reported.get(addr) !== named.name) {
          this.reported.set(addr, named.name)
          this.c.logger.error(`bootstrap failed: ${named.name}: ${named.message}`)
          this.c.report(named)
        }
      }
    }))
    // every dial went through and a member answers: done. Otherwise (a dial failed, or the
    // connections it made closed before any member was heard) look again after the wait
    if (this.stopped || !this.c.running() || (failed.length === 0 && this.c.reached())) return
    const delay = this.delay(this.attempt++)
    this.timer = this.c.clock.setTimeout(() => {
      this.timer = undefined
      if (!this.stopped && this.c.running() && !this.c.reached()) void this.dial(addresses)
    }, delay)
  }

  /** The wait before retry `attempt` (0 first): the doubled base, capped, times [0.5, 1) drawn. */
  delay (attempt: number): number {
    const full = Math.min(BOOTSTRAP_RETRY_MAX_MS, BOOTSTRAP_RETRY_MS * 2 ** Math.min(attempt, 30))
    return Math.round(full * (0.5 + this.c.random.next() / 2))
  }

  /** No retry after this, also for a round of dials under way. */
  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) this.c.clock.clearTimeout(this.timer)
    this.timer = undefined
  }
}
