import { OvertakenError, SEND_ORDER_MS } from '@simplepool/core'
import type { Clock, TimerHandle } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import { OVERTAKEN, Ordered } from '../activation/activation.js'
import type { Reply } from '../activation/activation.js'
import type { LocalPool } from '../activation/local-pool.js'
import { refuse } from '../activation/replies.js'
import type { Owners } from './owners.js'

/** Placements before the last ring changes a node looks back on to mark a message, at most. */
const LOOK_BACK = 4

/** What the sender's order needs of the node. */
export interface SendOrderComponents {
  readonly clock: Clock
  readonly owners: Owners
}

/**
 * A sender's order across a move of its view. Two messages from one node to one worker
 * keep their order while they go the same way (every link, hop and mailbox keeps it). They
 * part only where a node's view of the worker's owner moved between them: the earlier one
 * may still be on its way through the owner before (held by a node that stood still for
 * a moment, waiting on a claim, one hop longer) when the later one, sent straight to the
 * new owner, runs.
 *
 * So every message a node sends to a worker on another node carries a sequence number of
 * the node's own (`seq`), and, for {@link SEND_ORDER_MS} after a pool's ring moved in the
 * view of the node that sends it or sends it on, a message to a worker whose owner moved
 * is marked. A node that a marked message reaches remembers, per worker and sender, the
 * highest number it saw, for as long (the records travel with a worker handed on); a
 * message from that sender with a lower number that reaches it afterwards, the earlier one
 * come the longer way, is refused with `OvertakenError` (a cast is counted as dropped)
 * rather than run out of order. Unless it goes ahead of what came straight to the worker
 * (what a node the worker is claimed from sends on): then it is still in its place.
 *
 * Nothing is kept per worker while no ring moves: two maps that are empty, and a number.
 */
export class SendOrder {
  private readonly c: SendOrderComponents
  /** The next sequence number: from the wall clock, so a node started again with its old identity goes on above its old numbers. */
  private next: number
  /** Per pool whose ring moved lately: the placements before, and until when each counts. */
  private readonly moved = new Map<string, Array<{ before: Placement, until: number }>>()
  /** Per worker (`pool\nid`), per sender, the highest number of a marked message that reached this node: this window's, and the one before. */
  private current = new Map<string, Map<string, number>>()
  private previous = new Map<string, Map<string, number>>()
  private timer: TimerHandle | undefined

  constructor (components: SendOrderComponents) {
    this.c = components
    // 1,024 numbers a millisecond since 2024: a node sending more than that, for its whole
    // life, and started again at once, would begin below its old numbers
    this.next = Math.max(1, Math.floor(components.clock.now() - 1_704_067_200_000) * 1024)
  }

  /** The next sequence number of this node. */
  seq (): number {
    return this.next++
  }

  /** True when `pool`'s ring has not moved lately in this node's view: nothing it sends is marked (the hot path). */
  quiet (pool: string): boolean {
    return this.moved.size === 0 || !this.moved.has(pool)
  }

  /** True while no marked message is remembered: nothing can be refused (the hot path). */
  get empty (): boolean {
    return this.current.size === 0 && this.previous.size === 0
  }

  /** The view moved from `previous` to `current`: messages to workers whose owner moved are marked for a while. */
  ringChanged (previous: Placement | undefined, current: Placement): void {
    if (previous === undefined) return
    const now = this.c.clock.monotonic()
    for (const pool of new Set([...previous.pools(), ...current.pools()])) {
      if (previous.ring(pool)?.fingerprint === current.ring(pool)?.fingerprint) continue
      const kept = (this.moved.get(pool) ?? []).filter(m => m.until > now)
      kept.push({ before: previous, until: now + SEND_ORDER_MS })
      this.moved.set(pool, kept.slice(-LOOK_BACK))
    }
    this.arm()
  }

  /** Whether a message to `id`, whose owner is `owner` in this node's view, is marked: its owner was another in a view of the last {@link SEND_ORDER_MS}. */
  marks (pool: string, id: string, local: LocalPool | undefined, owner: string): boolean {
    const moved = this.moved.get(pool)
    if (moved === undefined) return false
    const now = this.c.clock.monotonic()
    for (const m of moved) if (m.until > now && this.c.owners.ownerIn(pool, id, local, m.before) !== owner) return true
    return false
  }

  /** A marked message from `origin` numbered `seq` reached this node for `pool`/`id`. */
  reached (pool: string, id: string, origin: string, seq: number): void {
    const key = `${pool}\n${id}`
    let senders = this.current.get(key)
    if (senders === undefined) {
      senders = new Map()
      this.current.set(key, senders)
    }
    if ((senders.get(origin) ?? -1) < seq) senders.set(origin, seq)
    this.arm()
  }

  /** True when a marked message from `origin` numbered above `seq` reached this node for `pool`/`id` lately. */
  overtaken (pool: string, id: string, origin: string, seq: number): boolean {
    const key = `${pool}\n${id}`
    return (this.current.get(key)?.get(origin) ?? -1) > seq || (this.previous.get(key)?.get(origin) ?? -1) > seq
  }

  /**
   * `msg` as it waits in a mailbox here: with its sender's number while the pool's ring
   * moved lately on this node (it may yet be sent on, or wait behind a later one), bare
   * otherwise (nothing moves: it keeps its place).
   */
  held (pool: string, msg: unknown, origin: string, seq: number | undefined, marked: boolean | undefined): unknown {
    return seq === undefined || this.quiet(pool) ? msg : new Ordered(msg, origin, seq, marked === true)
  }

  /** What a worker is handed for `o` at its turn: its message, or {@link OVERTAKEN} (a call's `reply` refused) when a later one of its sender's reached this node first. */
  opened (pool: string, id: string, reply: Reply | null, o: Ordered): unknown {
    if (this.empty || !this.overtaken(pool, id, o.origin, o.seq)) return o.msg
    if (reply !== null) refuse(reply, new OvertakenError(`a later message from ${o.origin} reached ${pool}/${id} first; this one was not run`, { pool, id }))
    return OVERTAKEN
  }

  /** What this node remembers of `pool`/`id`, to go with it in a handoff: `[sender, seq]` pairs, or undefined. */
  recordsOf (pool: string, id: string): Array<[string, number]> | undefined {
    if (this.empty) return undefined
    const key = `${pool}\n${id}`
    const out = new Map<string, number>()
    for (const senders of [this.previous.get(key), this.current.get(key)]) {
      for (const [origin, seq] of senders ?? []) out.set(origin, Math.max(seq, out.get(origin) ?? -1))
    }
    return out.size === 0 ? undefined : [...out]
  }

  /** Records that came with a worker handed in. */
  handedIn (pool: string, id: string, records: ReadonlyArray<readonly [string, number]>): void {
    for (const [origin, seq] of records) this.reached(pool, id, origin, seq)
  }

  /** Stops: the timer goes (the node stops). */
  stop (): void {
    if (this.timer !== undefined) this.c.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.moved.clear()
    this.current.clear()
    this.previous.clear()
  }

  /** One timer while anything is kept: each window, the oldest records and the follows that ended go. */
  private arm (): void {
    if (this.timer !== undefined) return
    this.timer = this.c.clock.setTimeout(() => {
      this.timer = undefined
      const now = this.c.clock.monotonic()
      this.previous = this.current
      this.current = new Map()
      for (const [pool, moved] of this.moved) {
        const kept = moved.filter(m => m.until > now)
        if (kept.length > 0) this.moved.set(pool, kept)
        else this.moved.delete(pool)
      }
      if (this.moved.size > 0 || !this.empty) this.arm()
    }, SEND_ORDER_MS)
  }
}
