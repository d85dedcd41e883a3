import { FENCE_ASK_STRAGGLE_MS, FENCE_ASK_TIMEOUT_MS, NodeUnavailableError, nextTurn } from '@simplepool/core'
import type { Clock, Logger } from '@simplepool/core'
import type { Activation } from '../activation/activation.js'
import type { LocalPool } from '../activation/local-pool.js'
import { refuse } from '../activation/replies.js'
import type { Scheduler } from '../activation/scheduler.js'
import type { WorkerEvents } from '../events.js'
import type { ClaimWindow } from '../handoff/claims.js'
import type { HandoffSender } from '../handoff/sender.js'
import type { MarkedDownOptions } from '../runtime-types.js'

/** What a pool chose for a node cut off from a majority (see `PoolDefinition.partition`). */
interface PartitionChoice {
  readonly def: { readonly partition?: 'safe' | 'available' }
}

/** What a fence waited for: how long the node stood still or heard no majority, and whether it acted alone meanwhile. */
interface Waited {
  ms: number
  actedAlone: boolean
}

/** What fencing needs of the node. */
export interface FenceComponents {
  readonly clock: Clock
  readonly logger: Logger
  readonly events: WorkerEvents
  readonly scheduler: Scheduler
  readonly sender: HandoffSender
  readonly claims: ClaimWindow
  self: () => string
  pools: () => Iterable<LocalPool>
  running: () => boolean
  /**
   * Whether any other member marked this node down within the last `pausedMs` (and a
   * margin). Rejecting counts as yes; without it, every stall counts as marked down.
   */
  markedDown?: (pausedMs: number, options: MarkedDownOptions) => Promise<boolean>
  /** Keeps the state of a copy dropped unsaved as a replica here, when its pool has replicas. */
  keepFenced?: (pool: LocalPool, act: Activation) => void
  /** The largest epoch this node handed out or heard of so far. */
  epochMark?: () => number
}

/**
 * Fencing after a stall. When this node's event loop stood still long enough that the
 * others may have marked it down and started its workers elsewhere (the stall guard says
 * so), no turn runs, no worker is saved or handed over, and idle deadlines wait, until
 * the others say whether they did. If any did (or cannot say), every activation here is
 * dropped unsaved, and new ones claim their id first, as after a ring change.
 */
export class Fence {
  private readonly c: FenceComponents
  private fencing = false
  private down = false
  /** How long the node stood still again while it asked, in ms: the fence asks about that too. */
  private again = 0
  private fenced: Promise<void> = Promise.resolve()
  /** While isolated: ends the wait for a majority. */
  private rejoin: ((actedAlone: boolean) => void) | undefined
  /** Why the fence under way (or the last) began: an available pool's workers serve through an isolation's, to its end. */
  private cause: 'stall' | 'isolation' = 'stall'
  /** Idle deadlines and ticks that fell due while fencing: they run once it is over. */
  private readonly heldWheel: Array<[Activation, number]> = []

  constructor (components: FenceComponents) {
    this.c = components
  }

  /** True while this node finds out whether its activations are stale. */
  get active (): boolean {
    return this.fencing
  }

  /** Whether the others had marked this node down during its last stall (false before any). */
  get markedDown (): boolean {
    return this.down
  }

  /**
   * Runs `fn` now, or, while fencing, once the fencing is over: a message read then
   * arrived during the stall, and if the others marked this node down meanwhile its
   * sender was told it failed (and kept, or passed on, what it carried), so it is refused
   * with `NodeUnavailableError` instead: a handoff taken in then would start a second copy
   * of its workers, with a newer epoch than the one the sender handed them on with.
   */
  unlessMarkedDown<T> (what: string, fn: () => T): T | Promise<T> {
    if (!this.fencing) return fn()
    return this.fenced.then(() => {
      const self = this.c.self()
      if (this.down) throw new NodeUnavailableError(`node ${self} was marked down while it stood still; ${what} was not taken`, { node: self })
      if (!this.c.running()) throw new NodeUnavailableError(`node ${self} is stopping`, { node: self })
      return fn()
    })
  }

  /**
   * Answers `fn` now, or, while fencing, once the fencing is over: after what this node
   * read before it and holds until then (calls and casts for its workers, see
   * `Inbound.afterStall`) went on. A claim answered at once ('none': no copy here) let
   * the claimer start the worker before one of them reached it, to run there late.
   */
  afterFence<T> (fn: () => T): T | Promise<T> {
    return this.fencing ? this.fenced.then(fn) : fn()
  }

  /** Settles when the last fencing is over. */
  get settled (): Promise<void> {
    return this.fenced
  }

  /** A wheel firing while fencing: an idle deadline met now would save what may be stale. */
  holdWheel (act: Activation, slot: number): void {
    this.heldWheel.push([act, slot])
  }

  /** True while this node fences because it lost its lease on a majority (see QuorumLease): its workers take no call. */
  get isolated (): boolean {
    return this.rejoin !== undefined
  }

  /**
   * Whether the fence holds `pool`'s workers now: while fencing, but for an `available`
   * pool's while the node is cut off from a majority (they go on serving; see
   * `PoolDefinition.partition`).
   */
  holds (pool: PartitionChoice | undefined): boolean {
    return this.fencing && !this.servesThrough(pool)
  }

  /** An `available` pool's workers serve through a fence for isolation (and only that one). */
  private servesThrough (pool: PartitionChoice | undefined): boolean {
    return this.cause === 'isolation' && pool?.def.partition === 'available'
  }

  /** The stall guard tripped: the loop stood still for `pausedMs`. */
  onStall (pausedMs: number): void {
    if (!this.c.running()) return
    if (this.fencing) {
      // it stood still again while it asked: the answers under way may predate this stall,
      // and what came during it is read after them; the fence asks again before it ends (seed 91698)
      this.again += pausedMs
      return
    }
    this.begin('stall', Promise.resolve({ ms: pausedMs, actedAlone: false }))
  }

  /**
   * This node lost its lease on a majority: the others may be about to mark it down and
   * place its workers elsewhere. It fences now (no turn runs, nothing is saved or handed
   * over, calls to its workers fail at once with `NodeIsolatedError`) until
   * {@link Fence.rejoined}: then it asks whether it was marked down, as after a stall.
   * A fence under way for a stall goes on as it is (the lease is looked at again after).
   */
  isolate (): void {
    if (!this.c.running() || this.fencing) return
    const since = this.c.clock.monotonic()
    this.begin('isolation', new Promise<Waited>((resolve) => {
      this.rejoin = (actedAlone) => {
        resolve({ ms: this.c.clock.monotonic() - since, actedAlone })
      }
    }))
  }

  /**
   * The lease holds again (or the node stops): the fence asks whether this node was marked
   * down meanwhile. `actedAlone`: this node's own view marked members down meanwhile (its
   * ring moved on a view no majority shared, and what it did by it, a handoff given up, a
   * worker started, may have a twin on the side that served): then its activations go
   * unsaved whatever the answer, as a minority's do.
   */
  rejoined (actedAlone = false): void {
    const rejoin = this.rejoin
    this.rejoin = undefined
    rejoin?.(actedAlone)
  }

  /** Fences until `waited` settles with how long the others may have taken this node for gone, then asks them, and drops every activation if any marked it down. */
  private begin (cause: 'stall' | 'isolation', waited: Promise<Waited>): void {
    const c = this.c
    this.fencing = true
    this.cause = cause
    c.scheduler.hold(cause === 'isolation' ? (act) => this.servesThrough(act.home) : undefined)
    c.sender.hold()
    // what starts here meanwhile claims its id first, since the others may hold it; but it
    // asks the holders of a view from before the stall, which misses a node that took the
    // worker meanwhile: if the others marked this node down, it goes with the rest (no turn
    // of it ran: the scheduler is held, and a call that started it waits), or it would live
    // on beside the copy they hold
    const window = c.claims.suspect()
    // copies started from here on (while the fence asks, or by a view that marks members
    // down alone while cut off) get larger epochs: not one of them is kept at the end (seed
    // 41018 with --replicas 2 --partitions: one started from an old replica would have
    // outranked the newest copy with the epoch drawn just then). Those from before stay as
    // replicas: the worker's next start here takes one (seed 61188 with --replicas 2
    // --partitions: an owner cut off dropped its copy, and with the ring still since, its
    // next start asked no successor and began from init)
    const mark = c.epochMark?.() ?? -Infinity
    const keep = c.keepFenced === undefined ? undefined : (p: LocalPool, act: Activation) => { if (act.epoch <= mark) c.keepFenced?.(p, act) }
    this.fenced = waited.then(async (w) => [w, await this.ask(w.ms, cause) || w.actedAlone] as const).then(([{ ms: pausedMs, actedAlone }, down]) => {
      const self = c.self()
      const what = cause === 'stall'
        ? `the event loop stood still for ${Math.round(pausedMs)} ms`
        : `this node heard no majority of the cluster for ${Math.round(pausedMs)} ms${actedAlone ? ' and marked members down meanwhile' : ''}`
      let dropped = 0
      let kept = 0
      if (down) {
        const err = new NodeUnavailableError(actedAlone
          ? `node ${self}: ${what}; its copies may have twins on the side that served`
          : `node ${self} was marked down (${what}); its workers live elsewhere`, { node: self })
        // an available pool's copies served on both sides: they stay, and where two meet in
        // a handoff the newer epoch wins (the other is reported: worker:conflict)
        for (const p of c.pools()) {
          if (this.servesThrough(p)) kept += p.activations.size
          else dropped += dropStale(p, err, keep)
        }
      }
      this.down = down
      this.fencing = false
      // once fencing is over: it may send what waits on claimers on (see ClaimWindow.settle)
      c.claims.settle(window, down)
      c.logger.warn(`${what}; ${down ? `dropped ${dropped} stale activations${kept > 0 ? `, kept ${kept} of available pools` : ''}` : 'nobody marked this node down: nothing dropped'}`)
      if (c.events.has('node:fence')) c.events.emit('node:fence', { node: self, cause, pausedMs, markedDown: down, dropped, kept })
      c.scheduler.release()
      c.sender.release()
      for (const [act, slot] of this.heldWheel.splice(0)) act.home.onWheel(act, slot)
    })
  }

  /**
   * Whether the others marked this node down while it stood still for `pausedMs` (and any
   * stall noticed while asking, asked about in turn). Lasts one turn of the event loop at
   * least, however soon the answer comes (or when nobody needed asking): what the kernel
   * kept for this node while it stood still is read in that turn's poll, and must be read
   * while the fence holds it (seed 97630).
   */
  private async ask (pausedMs: number, cause: 'stall' | 'isolation'): Promise<boolean> {
    const c = this.c
    const straggleMs = cause === 'stall' ? FENCE_ASK_STRAGGLE_MS : 0
    let down = false
    for (let ms = pausedMs; ms > 0; ms = this.again) {
      this.again = 0
      // marked down once is enough to know; the turn is still waited for
      const asked: Promise<boolean> = down ? Promise.resolve(true) : c.markedDown?.(ms, { timeoutMs: FENCE_ASK_TIMEOUT_MS, straggleMs }) ?? Promise.resolve(true)
      const [answer]: [boolean, void] = await Promise.all([asked.catch(() => true), nextTurn(c.clock)])
      down ||= answer
    }
    return down
  }
}

/**
 * Drops every activation of `pool`, unsaved: each may live on elsewhere with a newer
 * epoch, and nothing here may be written over that. Waiting requests are answered with
 * `err`. `keep` may keep a copy's state as a replica (see `Replicator.keepFenced`).
 * Returns how many went.
 */
function dropStale (pool: LocalPool, err: Error, keep?: (pool: LocalPool, act: Activation) => void): number {
  const stale = [...pool.activations.values()]
  for (const act of stale) {
    try {
      keep?.(pool, act)
    } catch (e) {
      // its state did not encode (a `snapshot` that throws): it goes as it did before
      pool.env.logger.warn(`${pool.name}/${act.id}: its state was not kept as a replica at the fence: ${(e as Error).message}`)
    }
    pool.depart(act, 'stale')
    const current = act.ext?.current ?? null
    if (current !== null) refuse(current, err)
    if (act.queued > 0) pool.failMailbox(act, err)
  }
  return stale.length
}
