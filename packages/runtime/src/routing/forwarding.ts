import { HINT_INTERVAL_MS, MAX_HINTED_SENDERS, NodeUnavailableError } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { LocalPool } from '../activation/local-pool.js'
import { encodeHint } from '../protocol/routing-messages.js'
import type { RuntimeTransport } from '../runtime-types.js'

/** What forwarding needs of the node. */
export interface ForwardingComponents {
  readonly clock: Clock
  readonly transport: RuntimeTransport
  placement: () => Placement
  /** How many nodes a message may be forwarded through. */
  maxHops: number
}

/**
 * Messages for workers this node does not own in its view go on to the owner it sees,
 * at most `maxHops` times, and the sender is told (a hint, at most once a second per
 * sender and pool) what this node's ring looks like, so it counts a stale route and its
 * own view catches up through membership.
 */
export class Forwarding {
  private readonly c: ForwardingComponents
  /** When each (sender, pool) was last hinted. */
  private readonly hinted = new Map<string, number>()

  constructor (components: ForwardingComponents) {
    this.c = components
  }

  /** True when a message that came through `hops` nodes may go one node further. */
  mayForward (hops: number): boolean {
    return hops + 1 <= this.c.maxHops
  }

  /** Sends a call on to `to` (the owner this node sees, or the route before: see `SendOrder.onward`), once more than the last hop; `payload` has its hops counted already. */
  forward (from: string, local: LocalPool | undefined, pool: string, owner: string, hops: number, timeoutMs: number, payload: unknown[], to = owner): Promise<unknown> {
    if (this.mayForward(hops)) this.noteForward(from, pool, owner, local)
    return this.relay(to, pool, hops, timeoutMs, payload)
  }

  /** Sends a call on, one hop more (a spilled one to where its worker lives: no stale route to report). */
  relay (to: string, pool: string, hops: number, timeoutMs: number, payload: unknown[]): Promise<unknown> {
    if (!this.mayForward(hops)) return Promise.reject(new NodeUnavailableError(`no agreed owner for a message to ${pool} after ${hops} hops: the nodes' views of the ring disagree`, { pool }))
    return this.c.transport.call(to, payload, { timeoutMs: Math.max(1, timeoutMs) })
  }

  /** Counts a forward and tells the sender, at most once a second per sender and pool, how this node's ring of the pool looks. */
  noteForward (from: string, pool: string, owner: string, local: LocalPool | undefined): void {
    if (local !== undefined) local.stats.counters.forwarded++
    const key = `${from}\n${pool}`
    const now = this.c.clock.monotonic()
    if ((this.hinted.get(key) ?? -Infinity) + HINT_INTERVAL_MS > now) return
    this.hinted.set(key, now)
    if (this.hinted.size > MAX_HINTED_SENDERS) this.hinted.clear()
    try {
      this.c.transport.cast(from, encodeHint({ pool, fingerprint: this.c.placement().ring(pool)?.fingerprint ?? '', owner }))
    } catch {
      // a hint is advice; a full queue to the sender is no reason to fail the message
    }
  }
}
