import { HANDOFF_MAILBOX_WAIT_MS } from '@simplepool/core'
import type { WorkerContext } from '../pool.js'
import type { WorkerRef } from '../ref.js'

/**
 * A call waiting for its worker's turn: its caller's promise, settled once. Local calls
 * and calls that arrived from other nodes both wait as one of these.
 */
export interface Reply {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  /** Monotonic ms; a call still queued or running past it is answered with `TimeoutError`. */
  deadline: number
  /** Settled already (answered, timed out or aborted): skip it when it comes up. */
  done: boolean
}

/** Marks in a mailbox's reply slot for what is not a message. */
export const TICK = Symbol('tick')
export const STOP = Symbol('stop')
export const SPAWNED = Symbol('spawned')
/** A sender's barrier (see SendOrder): answered when it reaches the head, without a turn. */
export const BARRIER = Symbol('barrier')

/** What a mailbox's reply slot holds: a call's reply, `null` for a cast, or a mark. */
export type Slot = Reply | null | typeof TICK | typeof STOP | typeof SPAWNED | typeof BARRIER

/** The reply waiting on a (slot, message) pair: a call's, or the one a `STOP`, `SPAWNED` or `BARRIER` mark carries as its message. */
export function replyIn (slot: Slot, msg: unknown): Reply | null {
  if (slot === null || slot === TICK) return null
  return slot === STOP || slot === SPAWNED || slot === BARRIER ? msg as Reply : slot
}

/** Where an activation is in its life. */
export const Phase = {
  /** `load`/`init` is running; messages wait. */
  Activating: 0,
  /** Takes turns. */
  Ready: 1,
  /** An async turn is running; messages wait. */
  Busy: 2,
  /** Saving before it is deactivated; messages wait and go to the next activation. */
  Stopping: 3,
  /** Deactivated: gone from its pool's map. */
  Dead: 4,
  /** Being handed to another node: no turns; messages wait and follow it there. */
  Migrating: 5
} as const
// a const object and the type of its values share the name, as an enum's would
// eslint-disable-next-line @typescript-eslint/no-redeclare
export type Phase = typeof Phase[keyof typeof Phase]

/** The pool an activation belongs to: what the worker's `ctx` reads, and what the node's shared timers call back. */
export interface ActivationHome {
  readonly name: string
  readonly self: string
  /** What the pool decided for a node cut off from a majority (see `PoolDefinition.partition`). */
  readonly def: { readonly partition?: 'safe' | 'available' }
  ref: <M, R>(pool: string, id: string) => WorkerRef<M, R>
  /** Takes turns until the mailbox is empty or the budget runs out; returns how many (the run queue). */
  run: (act: Activation, now: number) => number
  /** An idle deadline or tick fell due (the timing wheel). */
  onWheel: (act: Activation, slot: number) => void
  /** A waiting call ran past its deadline (the deadline watch). */
  expire: (act: Activation, reply: Reply, where: string) => void
}

/**
 * What only some activations need: timers (pools with an idle timeout or a tick), the
 * earliest deadline of queued calls, the async turn running now, the abort signal. Kept
 * apart so that an idle worker of a plain pool is one small object.
 */
export class ActivationExtra {
  /** Monotonic ms of its last turn, for the idle deadline. */
  lastActive = 0
  /** The wheel slot it was last scheduled for; firings of other slots are stale. */
  wheelSlot = -1
  /** Monotonic ms of its next tick. */
  nextTickAt = Infinity
  /** A tick is queued and not yet run: a slow worker does not pile up ticks. */
  tickQueued = false
  /** Activating on this node while the node that held it before is asked for it (a claim). */
  claiming = false
  /** The nodes a claim asked for it, and how many messages they forwarded meanwhile (queued ahead). */
  claimedFrom: readonly string[] | null = null
  ahead = 0
  /**
   * A claim waits for it to come between turns: how many of the queued messages (those that
   * came before the claim) it still runs; what came after waits and follows it. -1: none.
   */
  holdAfter = -1
  /** The claimer a hold waits for (see {@link Activation.holdForClaim}): what it sends back here stays. */
  heldFor: string | null = null
  /** The node a message for it was last sent on to from this node while it lived here (see Inbound's staysWith). */
  sentOnTo: string | null = null
  /** The nodes whose messages for it were sent on to `sentOnTo` (see Inbound's staysWith). */
  sentOnFor: string[] | null = null
  /** Since when a handoff waits for its mailbox to empty (see {@link Activation.mailboxRan}); -1: it does not. */
  handoffWaitSince = -1
  /** Stop requests that came while it was already stopping: answered when that stop ends. */
  stopWaiters: Reply[] | null = null
  /** The reply of the async turn running now. */
  current: Reply | null = null
  /** The earliest deadline among queued calls since the queue was last empty (may be stale low). */
  minDeadline = Infinity
  /** Behind `signal`; made when someone first reads it. */
  controller: AbortController | undefined = undefined
}

/**
 * Where a worker of a replicated pool sent its state (see `Replicator`). Its own small
 * object, not fields of {@link ActivationExtra}: every worker of such a pool has one, and
 * most need nothing else.
 */
export class ReplicaTrack {
  /** Replicas sent of it in this epoch: each put's number. */
  seq = 0
  /** The successors its state went to last; null before any. */
  to: readonly string[] | null = null
  /** The nodes that acknowledged a put of it, and were not told to drop it since: they hold a replica. */
  heldBy: readonly string[] | null = null
}

/**
 * One live worker: its state, its epoch, and its mailbox. It is also the worker's
 * `ctx`, so an activation costs one object, not two. The mailbox is a flat array of
 * (slot, message) pairs read from `head`, allocated on the first message that has to
 * wait and dropped when it empties: an idle worker holds no array.
 */
export class Activation implements WorkerContext {
  readonly id: string
  readonly home: ActivationHome
  epoch: number
  phase: Phase = Phase.Activating as Phase
  state: unknown = undefined
  queue: unknown[] | null = null
  head = 0
  /** In the node's run queue. */
  scheduled = false
  /** The placement version at which this node was found to own it: until the version moves, sends skip the ring. */
  ownedAt = -1
  /** Made on first need; see {@link ActivationExtra}. */
  ext: ActivationExtra | null = null
  /** A replicated pool's worker: where its state went; see {@link ReplicaTrack}. */
  rep: ReplicaTrack | null = null

  constructor (home: ActivationHome, id: string, epoch: number) {
    this.home = home
    this.id = id
    this.epoch = epoch
  }

  get pool (): string {
    return this.home.name
  }

  get node (): string {
    return this.home.self
  }

  /** Made on first use: most workers never look at it. */
  get signal (): AbortSignal {
    const ext = this.extra()
    ext.controller ??= new AbortController()
    return ext.controller.signal
  }

  ref<M = unknown, R = unknown> (pool: string, id: string): WorkerRef<M, R> {
    return this.home.ref<M, R>(pool, id)
  }

  /** The extra fields, made on first need. */
  extra (): ActivationExtra {
    if (this.ext === null) this.ext = new ActivationExtra()
    return this.ext
  }

  /** Its replicas' track, made on first need. */
  replica (): ReplicaTrack {
    if (this.rep === null) this.rep = new ReplicaTrack()
    return this.rep
  }

  /** Messages waiting. */
  get queued (): number {
    return this.queue === null ? 0 : (this.queue.length - this.head) >> 1
  }

  /** The earliest deadline among queued calls (Infinity when none was queued). */
  get minDeadline (): number {
    return this.ext === null ? Infinity : this.ext.minDeadline
  }

  /** Appends a (slot, message) pair. */
  push (slot: Slot, msg: unknown): void {
    if (this.queue === null) this.queue = []
    this.queue.push(slot, msg)
    const reply = replyIn(slot, msg)
    if (reply !== null && reply.deadline < this.minDeadline) this.extra().minDeadline = reply.deadline
  }

  /**
   * Queues a message a node being claimed from sent on while this activation waits for its
   * handoff: that node took it before the worker left, so it goes ahead of what came here
   * directly meanwhile (behind what the same node sent on before), keeping each sender's order.
   */
  pushAhead (slot: Slot, msg: unknown): void {
    const ext = this.extra()
    if (this.queue === null) this.queue = []
    this.queue.splice(this.head + 2 * ext.ahead++, 0, slot, msg)
    const reply = replyIn(slot, msg)
    if (reply !== null && reply.deadline < ext.minDeadline) ext.minDeadline = reply.deadline
  }

  /**
   * Whether a handoff may take this worker now, as far as its mailbox goes: nothing waits
   * (or only what came after a claim, which follows it), or a handoff has waited
   * `HANDOFF_MAILBOX_WAIT_MS` for what waits to run.
   */
  mailboxRan (now: number): boolean {
    const ext = this.ext
    if (this.queued === 0 || ext?.holdAfter === 0) {
      if (ext !== null) ext.handoffWaitSince = -1
      return true
    }
    const waiting = this.extra()
    if (waiting.handoffWaitSince < 0) waiting.handoffWaitSince = now
    if (now - waiting.handoffWaitSince < HANDOFF_MAILBOX_WAIT_MS) return false
    waiting.handoffWaitSince = -1
    return true
  }

  /**
   * A claim waits for this activation to come between turns (busy, or loading): it still
   * runs what is queued now, which came before the claim; what comes after waits in its
   * mailbox and follows it to the claimer, behind what waited there. A sender whose view
   * moved back here (a drain undone) sent it after what it sent the claimer.
   */
  holdForClaim (claimer: string): void {
    const ext = this.extra()
    if (ext.holdAfter < 0) ext.holdAfter = this.queued
    ext.heldFor = claimer
  }

  /** The claim's hold is over (the worker is handed over, or the claim stopped waiting). */
  endClaimHold (): void {
    if (this.ext === null) return
    this.ext.holdAfter = -1
    this.ext.heldFor = null
  }

  /**
   * Queues a message the claimer a hold waits for sent back here (its ring moved back while
   * it claimed): it reached the claimer before what came here since the claim, so it runs
   * behind what came before the claim and ahead of that.
   */
  pushHeld (slot: Slot, msg: unknown): void {
    const ext = this.extra()
    if (this.queue === null) this.queue = []
    this.queue.splice(this.head + 2 * ext.holdAfter++, 0, slot, msg)
    const reply = replyIn(slot, msg)
    if (reply !== null && reply.deadline < ext.minDeadline) ext.minDeadline = reply.deadline
  }

  /**
   * Aborts `signal` if anyone made one, and gives later users a fresh one. The reason is
   * made only then: an error's stack trace costs more than a whole activation.
   */
  abort (reason: () => Error): void {
    const c = this.ext?.controller
    if (c === undefined) return
    c.abort(reason())
    ;(this.ext as ActivationExtra).controller = undefined
  }
}

/**
 * Where a message that node `via` sent on for `act` goes in its mailbox: 1 ahead of what
 * came straight to it (`via` is a node it is claimed from), 2 among what a claim holds
 * (`via` is the claimer it is held for, see `Activation.pushHeld`), 0 at the end.
 */
export function goesAhead (act: Activation, via: string): 0 | 1 | 2 {
  const ext = act.ext
  if (ext === null) return 0
  if (ext.claiming && act.phase === Phase.Activating && ext.claimedFrom?.includes(via) === true) return 1
  return ext.holdAfter >= 0 && ext.heldFor === via ? 2 : 0
}
