import {
  DEFAULT_CALL_TIMEOUT_MS, DEFAULT_HARD_LIMIT_RATIO, DEFAULT_MAILBOX_LIMIT, DEFAULT_SOFT_LIMIT_RATIO, HandoffError, NodeUnavailableError,
  OverloadedError, TimeoutError, WorkerNotAliveError, toWireError
} from '@simplepool/core'
import type { Clock, Logger, Random } from '@simplepool/core'
import { Activation, ActivationExtra, Phase, SPAWNED, STOP, TICK, replyIn } from './activation.js'
import type { ActivationHome, Reply, Slot } from './activation.js'
import type { DeadlineWatch } from './deadline-watch.js'
import type { WorkerEvents, WorkerFailDetail, WorkerPassivateDetail } from './events.js'
import type { Pool } from './pool.js'
import { PoolStats } from './pool-stats.js'
import type { WorkerRef } from './ref.js'
import type { Scheduler } from './scheduler.js'
import type { TimingWheel } from './timing-wheel.js'

/** What the pools of one node share. */
export interface LocalEnv {
  readonly clock: Clock
  readonly random: Random
  readonly logger: Logger
  readonly scheduler: Scheduler
  /** Idle deadlines and ticks. */
  readonly wheel: TimingWheel<Activation>
  /** Deadlines of calls waiting on workers that are busy, loading or saving. */
  readonly watch: DeadlineWatch
  readonly events: WorkerEvents
  self: () => string
  ref: <M, R>(pool: string, id: string) => WorkerRef<M, R>
  /** A number larger than every epoch this node handed out before. */
  nextEpoch: () => number
  /** The nodes to claim a new activation from while the ring moved lately (they may still hold it); empty otherwise. */
  holders: (pool: string, id: string) => readonly string[]
  /** Asks `holders` for a worker: 'moved' once one handed it over, 'mine' when one keeps it for now, else 'none'. */
  claim: (pool: string, id: string, holders: readonly string[]) => Promise<string>
  /** True while the node, back from a stall, finds out whether its activations are stale. */
  fencing: () => boolean
  /** Tells `owner` that worker `id`, which it spilled here, ended here. */
  spillEnded: (pool: string, id: string, owner: string) => void
}

/** Claims answered 'mine' are tried again this many times, this far apart, before the worker starts from `load`. */
const CLAIM_ATTEMPTS = 12
const CLAIM_RETRY_MS = 250

/** What a claim resolves with when a handoff already made the activation ready. */
const ADOPTED = Symbol('adopted')

/** What {@link LocalPool.callNow} returns when the call has to wait its turn. */
export const NOT_NOW = Symbol('not now')

/** Turns one activation takes before others get theirs. */
const TURNS_PER_RUN = 64

/** One turn in this many is timed for the latency figures: timing every turn would cost more than a short turn. */
const LATENCY_SAMPLE_MASK = 7

/** Resolves with `p`, or as soon as `signal` aborts. */
async function abortable (p: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) {
    await p
    return
  }
  if (signal.aborted) return
  await new Promise<void>((resolve) => {
    const done = (): void => { signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
    p.then(done, done)
  })
}

function isThenable (v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function'
}

function asError (err: unknown): Error {
  if (err instanceof Error) return err
  const e = new Error(typeof err === 'string' ? err : `non-error thrown: ${String(err)}`)
  return e
}

/**
 * The workers of one pool on this node: their activations, mailboxes and turns,
 * passivation and ticks. Everything here is local: routing decided already that this
 * node owns the ids it is given.
 */
export class LocalPool implements ActivationHome {
  readonly def: Pool<any, any, any>
  readonly name: string
  readonly activations = new Map<string, Activation>()
  readonly stats = new PoolStats()
  readonly mailboxLimit: number
  readonly callTimeoutMs: number
  private readonly env: LocalEnv
  private readonly tickMs: number
  private readonly idleMs: number
  private readonly timed: boolean
  private sampled = 0
  /** The node is stopping: a worker that finishes saving is not brought back by its queue. */
  private closing = false
  /** This node's target for the pool; the node keeps it current. */
  target: number
  /** Workers this node owns that spilled to the next node on the ring (at the hard limit): id → that node. */
  readonly spilled = new Map<string, string>()
  /** Spilled workers coming back, or whose spill node said they ended there: their next activation here claims them from that node first (within the claim window). */
  readonly reclaim = new Map<string, { from: string, at: number }>()
  /** Workers live here that their owner spilled here: id → that owner, told when they end here. */
  readonly spilledFrom = new Map<string, string>()
  /**
   * Workers handed here lately, with the epoch they had on the sender, in two generations
   * (this one and the last): a handoff sent again because its answer was lost is answered
   * from here rather than taken twice.
   */
  private adopted: [Map<string, number>, Map<string, number>] = [new Map(), new Map()]

  constructor (def: Pool<any, any, any>, target: number, env: LocalEnv) {
    this.def = def
    this.name = def.name
    this.env = env
    this.target = target
    this.mailboxLimit = def.mailboxLimit ?? DEFAULT_MAILBOX_LIMIT
    this.callTimeoutMs = def.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    this.tickMs = def.tick !== undefined ? (def.tickMs ?? 0) : 0
    this.idleMs = def.idleTimeoutMs ?? 0
    this.timed = this.tickMs > 0 || this.idleMs > 0
  }

  get self (): string {
    return this.env.self()
  }

  get softLimit (): number {
    return Math.ceil(this.target * (this.def.softLimitRatio ?? DEFAULT_SOFT_LIMIT_RATIO))
  }

  get hardLimit (): number {
    return Math.ceil(this.target * (this.def.hardLimitRatio ?? DEFAULT_HARD_LIMIT_RATIO))
  }

  ref<M, R> (pool: string, id: string): WorkerRef<M, R> {
    return this.env.ref<M, R>(pool, id)
  }

  /**
   * Puts a message (or a mark) in worker `id`'s mailbox, activating it when `spawn`.
   * Throws `WorkerNotAliveError` or `OverloadedError` synchronously, before anything is
   * queued: a cast's sender learns it at once, a call's caller through its promise.
   */
  deliver (id: string, slot: Slot, msg: unknown, spawn: boolean): Activation {
    const act = this.activations.get(id)
    if (act !== undefined) return this.deliverTo(act, slot, msg)
    if (!spawn) throw new WorkerNotAliveError(`worker ${this.name}/${id} is not alive`, { pool: this.name, id })
    return this.deliverTo(this.activate(id), slot, msg)
  }

  /** Puts a message in a live activation's mailbox; throws `OverloadedError` when it is full. */
  deliverTo (act: Activation, slot: Slot, msg: unknown): Activation {
    if (act.queue !== null && act.queued >= this.mailboxLimit) {
      this.stats.counters.overloaded++
      throw new OverloadedError(`the mailbox of ${this.name}/${act.id} holds ${this.mailboxLimit} messages`, { pool: this.name, id: act.id })
    }
    act.push(slot, msg)
    if (act.phase === Phase.Ready) {
      this.env.scheduler.add(act)
    } else {
      // busy, loading or saving: nothing runs this mailbox soon, so its deadlines are watched
      const reply = replyIn(slot, msg)
      if (reply !== null) this.env.watch.watchDeadline(act, reply.deadline)
    }
    return act
  }

  /** Activates `id` if it is not live; the activation is returned either way. */
  ensure (id: string): Activation {
    return this.activations.get(id) ?? this.activate(id)
  }

  /**
   * Starts an activation: a new epoch, then `load` and `init`. With no `load` and a
   * synchronous `init` it is ready before this returns; otherwise messages wait in its
   * mailbox until it is.
   */
  activate (id: string): Activation {
    const env = this.env
    const act = new Activation(this, id, env.nextEpoch())
    this.activations.set(id, act)
    this.stats.counters.activations++
    if (env.events.has('worker:activate')) env.events.emit('worker:activate', { pool: this.name, id, node: this.self, epoch: act.epoch })
    const previous = env.holders(this.name, id)
    if (previous.length > 0) {
      // the ring moved lately: the node that owned this id may still hold it, state and all
      act.extra().claiming = true
      this.settleActivation(act, this.claimThenLoad(act, previous))
      return act
    }
    if (this.def.load === undefined) {
      let state: unknown
      try {
        state = this.def.init(id, act)
      } catch (err) {
        // thrown to whoever asked for the activation: nothing is queued on it yet
        const e = asError(err)
        this.activationFailed(act, e)
        throw e
      }
      if (!isThenable(state)) {
        this.ready(act, state)
        return act
      }
      this.settleActivation(act, state)
    } else {
      this.settleActivation(act, this.loadThenInit(act))
    }
    return act
  }

  /**
   * Asks the nodes that may hold `act` (the ring moved lately) to hand it over. If one
   * does, the handoff fills this activation (see {@link adopt}) before the claim is
   * answered; if none holds it, the worker starts as any other, from `load` and `init`.
   */
  private async claimThenLoad (act: Activation, previous: readonly string[]): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const answer = await this.env.claim(this.name, act.id, previous).catch(() => 'none')
      if (act.phase !== Phase.Activating || act.ext?.claiming !== true || answer === 'moved') return ADOPTED
      // 'mine': the holder's view of the ring has not moved yet; it will within a heartbeat
      if (answer !== 'mine' || attempt >= CLAIM_ATTEMPTS) break
      await new Promise(resolve => { this.env.clock.setTimeout(() => { resolve(undefined) }, CLAIM_RETRY_MS) })
    }
    ;(act.ext as ActivationExtra).claiming = false
    return await this.loadThenInit(act)
  }

  private async loadThenInit (act: Activation): Promise<unknown> {
    const loaded = await this.def.load?.(act.id, act)
    return loaded === undefined ? await this.def.init(act.id, act) : loaded
  }

  private settleActivation (act: Activation, state: PromiseLike<unknown>): void {
    this.env.watch.watch(act)
    state.then(
      (s) => { this.ready(act, s) },
      (err) => { this.activationFailed(act, asError(err)) })
  }

  private ready (act: Activation, state: unknown): void {
    if (act.phase !== Phase.Activating || state === ADOPTED) return
    this.env.watch.delete(act)
    act.state = state
    act.phase = Phase.Ready
    if (this.timed) {
      const now = this.env.clock.monotonic()
      const ext = act.extra()
      ext.lastActive = now
      // the first tick falls anywhere in one period: a million workers activated together do not tick together
      if (this.tickMs > 0) ext.nextTickAt = now + this.env.random.next() * this.tickMs
      this.reschedule(act)
    }
    if (act.queued > 0) this.env.scheduler.add(act)
  }

  private activationFailed (act: Activation, err: Error): void {
    this.env.watch.delete(act)
    this.stats.counters.failures++
    this.fail(act, 'activation', err)
    this.remove(act)
    // everything that waited for this activation gets its error; a cast is counted as failed
    this.drainQueue(act, err)
  }

  /**
   * Runs a call from another node at once when its worker is idle with nothing queued,
   * and returns the reply (or a promise of it, for an async turn). Answering while the
   * frame that brought the call is still being read lets the reply leave with the next
   * flush instead of after the whole frame: the two nodes overlap instead of taking turns.
   * Returns `NOT_NOW` when the call has to wait its turn in the mailbox. Never used for
   * a call made on this node: that would run the callee inside the caller's turn.
   * `ownedAt`: the placement version at which this node owns `id`, kept on the activation
   * so the next message to it skips the ring lookup.
   */
  callNow (id: string, msg: unknown, spawn: boolean, deadline: number, ownedAt?: number): unknown {
    let act = this.activations.get(id)
    if (act === undefined) {
      if (!spawn) return NOT_NOW
      act = this.activate(id)
    }
    if (ownedAt !== undefined) act.ownedAt = ownedAt
    if (act.phase !== Phase.Ready || act.queue !== null || act.scheduled) return NOT_NOW
    const counters = this.stats.counters
    counters.turns++
    if (this.idleMs > 0) (act.ext as ActivationExtra).lastActive = this.env.clock.monotonic()
    // Busy while the handler runs: a call that comes back to this worker from inside it waits its turn
    act.phase = Phase.Busy
    const timed = ((++this.sampled) & LATENCY_SAMPLE_MASK) === 0
    const t0 = timed ? this.env.clock.monotonic() : 0
    let result: unknown
    try {
      result = this.def.handle(act.state, msg, act)
    } catch (err) {
      if (act.phase === Phase.Busy) act.phase = Phase.Ready
      const e = asError(err)
      counters.failures++
      this.fail(act, 'turn', e)
      if (act.queued > 0) this.env.scheduler.add(act)
      throw e
    }
    if (act.phase !== Phase.Busy) throw new NodeUnavailableError('the node is stopping', { node: this.self })
    if (isThenable(result)) {
      act.phase = Phase.Ready
      return new Promise((resolve, reject) => {
        this.goAsync(act, { resolve, reject, deadline, done: false }, result, false)
      })
    }
    act.phase = Phase.Ready
    if (timed) this.stats.latency(this.env.clock.monotonic() - t0)
    if (act.queued > 0) this.env.scheduler.add(act)
    return result
  }

  /** Takes turns until the mailbox is empty, a turn goes async, or the budget runs out; returns how many. */
  run (act: Activation, now: number): number {
    const def = this.def
    const counters = this.stats.counters
    const clock = this.env.clock
    const idle = this.idleMs > 0
    let turns = 0
    while (act.phase === Phase.Ready && act.queue !== null) {
      const q = act.queue
      if (act.head >= q.length) {
        act.queue = null
        act.head = 0
        if (act.ext !== null) act.ext.minDeadline = Infinity
        break
      }
      if (turns >= TURNS_PER_RUN) {
        this.env.scheduler.add(act)
        break
      }
      const slot = q[act.head] as Slot
      const msg = q[act.head + 1]
      q[act.head] = undefined
      q[act.head + 1] = undefined
      act.head += 2
      if (slot === STOP) {
        if ((msg as Reply).done) continue
        this.passivate(act, 'stop', msg as Reply)
        return turns
      }
      if (slot === SPAWNED) {
        const r = msg as Reply
        if (!r.done) {
          r.done = true
          r.resolve({ node: this.self, epoch: act.epoch })
        }
        continue
      }
      let reply: Reply | null = null
      if (slot === TICK) {
        (act.ext as ActivationExtra).tickQueued = false
      } else {
        reply = slot
        if (reply !== null) {
          if (reply.done) continue
          if (reply.deadline <= now) {
            this.expire(act, reply, 'in the mailbox')
            continue
          }
        }
        if (idle) (act.ext as ActivationExtra).lastActive = now
      }
      turns++
      counters.turns++
      const timed = ((++this.sampled) & LATENCY_SAMPLE_MASK) === 0
      const t0 = timed ? clock.monotonic() : 0
      let result: unknown
      // Busy while the handler runs, so what it does to its own worker (a call, a stop)
      // waits for the turn to end instead of running inside it
      act.phase = Phase.Busy
      try {
        result = slot === TICK ? def.tick?.(act.state, act) : def.handle(act.state, msg, act)
      } catch (err) {
        if (act.phase === Phase.Busy) act.phase = Phase.Ready
        this.turnFailed(act, reply, asError(err), slot === TICK)
        continue
      }
      // the turn may have stopped the whole node (and this worker with it)
      if (act.phase !== Phase.Busy) return turns
      act.phase = Phase.Ready
      if (isThenable(result)) {
        this.goAsync(act, reply, result, slot === TICK)
        return turns
      }
      if (timed) {
        now = clock.monotonic()
        this.stats.latency(now - t0)
      }
      if (reply !== null) {
        reply.done = true
        reply.resolve(result)
      }
    }
    return turns
  }

  private goAsync (act: Activation, reply: Reply | null, result: PromiseLike<unknown>, tick: boolean): void {
    act.phase = Phase.Busy
    act.extra().current = reply
    this.env.watch.watch(act)
    const t0 = this.env.clock.monotonic()
    result.then(
      (value) => { this.turnDone(act, reply, t0, value, undefined, tick) },
      (err) => { this.turnDone(act, reply, t0, undefined, asError(err), tick) })
  }

  private turnDone (act: Activation, reply: Reply | null, t0: number, value: unknown, err: Error | undefined, tick: boolean): void {
    this.stats.latency(this.env.clock.monotonic() - t0)
    if (act.phase !== Phase.Busy) return
    act.phase = Phase.Ready
    ;(act.ext as ActivationExtra).current = null
    this.env.watch.delete(act)
    if (err !== undefined) {
      this.turnFailed(act, reply, err, tick)
    } else if (reply !== null && !reply.done) {
      reply.done = true
      reply.resolve(value)
    }
    if (act.queued > 0) this.env.scheduler.add(act)
  }

  private turnFailed (act: Activation, reply: Reply | null, err: Error, tick: boolean): void {
    this.stats.counters.failures++
    this.fail(act, tick ? 'tick' : 'turn', err)
    if (reply !== null && !reply.done) {
      reply.done = true
      reply.reject(err)
    }
  }

  /** Answers a call that ran out of time with `TimeoutError` and counts it. */
  expire (act: Activation, reply: Reply, where: string): void {
    reply.done = true
    this.stats.counters.timeouts++
    const err = new TimeoutError(`call to ${this.name}/${act.id} timed out ${where}`, { pool: this.name, id: act.id })
    this.fail(act, 'timeout', err)
    reply.reject(err)
  }

  /** Idle deadline and tick, from the wheel; `slot` tells a stale firing from the current one. */
  onWheel (act: Activation, slot: number): void {
    const ext = act.ext as ActivationExtra
    if (ext.wheelSlot !== slot || act.phase === Phase.Dead) return
    ext.wheelSlot = -1
    const now = this.env.clock.monotonic()
    if (this.tickMs > 0 && now >= ext.nextTickAt) {
      if (!ext.tickQueued && act.phase !== Phase.Stopping && act.phase !== Phase.Migrating && act.queued < this.mailboxLimit) {
        ext.tickQueued = true
        this.stats.counters.ticks++
        act.push(TICK, undefined)
        if (act.phase === Phase.Ready) this.env.scheduler.add(act)
      }
      // keep the worker's phase; a tick missed while the node was busy is skipped, not made up
      ext.nextTickAt += this.tickMs
      if (ext.nextTickAt <= now) ext.nextTickAt = now + this.tickMs
    }
    if (this.idleMs > 0 && now - ext.lastActive >= this.idleMs && act.phase === Phase.Ready && act.queued === 0 && !act.scheduled) {
      this.passivate(act, 'idle', null)
      return
    }
    this.reschedule(act)
  }

  private reschedule (act: Activation): void {
    const ext = act.extra()
    const at = Math.min(ext.nextTickAt, this.idleMs > 0 ? ext.lastActive + this.idleMs : Infinity)
    // never in the past: a worker that is idle but busy (a hung turn) is looked at again
    // once per wheel slot, not on every turn of the event loop
    if (at !== Infinity) ext.wheelSlot = this.env.wheel.schedule(act, Math.max(at, this.env.clock.monotonic() + 1))
  }

  /**
   * Saves and deactivates a worker that is between turns. Messages that arrive while it
   * saves wait in its mailbox and start the next activation. A `save` that fails keeps
   * the worker live (its state would otherwise be lost) and reports the failure.
   */
  passivate (act: Activation, reason: WorkerPassivateDetail['reason'], reply: Reply | null): void {
    act.phase = Phase.Stopping
    // calls queued behind the stop keep their deadlines while `save` runs
    this.env.watch.watch(act)
    const save = this.def.save
    if (save === undefined) {
      this.finishStop(act, reason, reply)
      return
    }
    let saving: unknown
    try {
      saving = save(act.id, act.state, act)
    } catch (err) {
      this.saveFailed(act, asError(err), reply)
      return
    }
    if (!isThenable(saving)) {
      this.finishStop(act, reason, reply)
      return
    }
    saving.then(
      () => { this.finishStop(act, reason, reply) },
      (err) => { this.saveFailed(act, asError(err), reply) })
  }

  private saveFailed (act: Activation, err: Error, reply: Reply | null): void {
    this.stats.counters.failures++
    this.fail(act, 'save', err)
    // dropped (fenced) while it saved: it is not live here any more, nothing brings it back
    if (act.phase === Phase.Dead) {
      if (reply !== null && !reply.done) {
        reply.done = true
        reply.reject(err)
      }
      this.answerStopWaiters(act, err)
      return
    }
    act.phase = Phase.Ready
    if (this.timed) {
      act.extra().lastActive = this.env.clock.monotonic()
      this.reschedule(act)
    }
    if (reply !== null && !reply.done) {
      reply.done = true
      reply.reject(err)
    }
    this.answerStopWaiters(act, err)
    if (act.queued > 0) this.env.scheduler.add(act)
  }

  /** Answers the stop requests that joined a stop in progress: true, or the save's error. */
  private answerStopWaiters (act: Activation, err?: Error): void {
    const waiters = act.ext?.stopWaiters
    if (waiters == null) return
    ;(act.ext as ActivationExtra).stopWaiters = null
    for (const w of waiters) {
      if (w.done) continue
      w.done = true
      if (err === undefined) w.resolve(true)
      else w.reject(err)
    }
  }

  private finishStop (act: Activation, reason: WorkerPassivateDetail['reason'], reply: Reply | null): void {
    if (act.phase === Phase.Dead) {
      // dropped (fenced) while it saved: no passivation to report
      if (reply !== null && !reply.done) {
        reply.done = true
        reply.resolve(true)
      }
      this.answerStopWaiters(act)
      return
    }
    this.remove(act)
    act.abort(() => new WorkerNotAliveError('the worker was deactivated'))
    this.stats.counters.passivations++
    if (this.env.events.has('worker:passivate')) this.env.events.emit('worker:passivate', { pool: this.name, id: act.id, node: this.self, epoch: act.epoch, reason })
    if (reply !== null && !reply.done) {
      reply.done = true
      reply.resolve(true)
    }
    this.answerStopWaiters(act)
    if (reason === 'shutdown' || this.closing) {
      if (act.queued > 0) this.drainQueue(act, new NodeUnavailableError('the node is stopping', { node: this.self }))
      return
    }
    // messages that came while it was saving were accepted for a live worker: they bring it
    // back (calls that timed out meanwhile do not)
    if (this.waitingMessages(act)) {
      let next: Activation
      try {
        next = this.activate(act.id)
      } catch (err) {
        this.drainQueue(act, asError(err))
        return
      }
      const q = act.queue as unknown[]
      for (let i = act.head; i < q.length; i += 2) next.push(q[i] as Slot, q[i + 1])
      act.queue = null
      if (next.phase === Phase.Ready) this.env.scheduler.add(next)
      else this.env.watch.watch(next)
    }
  }

  /**
   * Takes a worker between turns out for a handoff: it stops taking turns and messages
   * wait in its mailbox. Returns its portable state (`snapshot` applied), or `NOT_NOW`
   * when it is busy, loading or saving: the caller tries again later.
   */
  beginHandoff (act: Activation): unknown {
    if (act.phase !== Phase.Ready) return NOT_NOW
    act.phase = Phase.Migrating
    this.env.watch.watch(act)
    return this.def.snapshot !== undefined ? this.def.snapshot(act.state) : act.state
  }

  /**
   * The handoff succeeded: the worker lives on `to` now. It leaves this node without a
   * `save` (its state went with it), and what waited in its mailbox is given to `forward`
   * in order, to follow it.
   */
  endHandoff (act: Activation, to: string, forward: (slot: Slot, msg: unknown) => void): void {
    this.remove(act)
    act.abort(() => new WorkerNotAliveError('the worker moved to another node'))
    this.stats.counters.migratedOut++
    if (this.env.events.has('worker:migrate')) this.env.events.emit('worker:migrate', { pool: this.name, id: act.id, node: this.self, epoch: act.epoch, from: this.self, to })
    this.forwardQueue(act, forward)
  }

  /**
   * The node this worker was being handed to holds a newer copy (a larger epoch): this
   * one is stale. It goes unsaved, and what waited in its mailbox goes to the newer copy.
   */
  supersede (act: Activation, forward: (slot: Slot, msg: unknown) => void): void {
    this.dropStale(act)
    this.forwardQueue(act, forward)
  }

  /** Gives what waits in a departed activation's mailbox to `forward`, in order (ticks and answered calls left out). */
  private forwardQueue (act: Activation, forward: (slot: Slot, msg: unknown) => void): void {
    const q = act.queue
    act.queue = null
    if (q === null) return
    for (let i = act.head; i < q.length; i += 2) {
      const slot = q[i] as Slot
      if (slot === TICK) continue
      const reply = replyIn(slot, q[i + 1])
      if (reply !== null && reply.done) continue
      forward(slot, q[i + 1])
    }
  }

  /** The handoff failed: the worker stays here and goes on. */
  abortHandoff (act: Activation): void {
    if (act.phase !== Phase.Migrating) return
    act.phase = Phase.Ready
    this.env.watch.delete(act)
    if (act.queued > 0) this.env.scheduler.add(act)
  }

  /**
   * Takes in a worker another node handed over: its state comes from the snapshot (not
   * from `load` or `init`) and its epoch is above the one it had there. An activation
   * waiting on a claim for it is filled; a live one is refused with `HandoffError`, so a
   * worker never has two copies on one node.
   */
  adopt (id: string, snapshot: unknown, from: string, previousEpoch: number): Activation {
    let act = this.activations.get(id)
    let waiting: Activation | undefined
    if (act === undefined && this.adoptedLately(id) === previousEpoch) {
      // the same handoff again (its answer was lost): it came already, and what it became
      // here may have moved on since; taking the old state again would undo that
      throw new HandoffError(`${this.name}/${id} was handed here already`, { pool: this.name, id, epoch: previousEpoch + 1 })
    }
    if (act !== undefined && !(act.phase === Phase.Activating && act.ext?.claiming === true)) {
      // fencing: the newer epoch wins. A copy here that is older than the one handed over
      // is stale (this node was cut off while the worker lived on elsewhere): it goes,
      // unsaved, and what waited in its mailbox runs on the copy that came in
      if (act.epoch >= previousEpoch) {
        throw new HandoffError(`${this.name}/${id} is already live on ${this.self} with epoch ${act.epoch}`, { pool: this.name, id, epoch: act.epoch })
      }
      if (act.phase !== Phase.Ready && act.phase !== Phase.Activating) {
        throw new HandoffError(`${this.name}/${id} has an older copy on ${this.self} that is not between turns; try again`, { pool: this.name, id, retry: true })
      }
    }
    // restored before anything is dropped: a snapshot that does not restore changes nothing here
    const state = this.def.restore !== undefined ? this.def.restore(snapshot) : snapshot
    if (act !== undefined && !(act.phase === Phase.Activating && act.ext?.claiming === true)) {
      this.dropStale(act)
      waiting = act
      act = undefined
    }
    this.spilled.delete(id)
    if (act === undefined) {
      act = new Activation(this, id, Math.max(this.env.nextEpoch(), previousEpoch + 1))
      this.activations.set(id, act)
    } else {
      // a fresh epoch, not the claim's: the claim may have been sent before a stall, and what
      // is adopted now is not stale
      act.epoch = Math.max(this.env.nextEpoch(), previousEpoch + 1)
      ;(act.ext as ActivationExtra).claiming = false
      this.env.watch.delete(act)
    }
    this.stats.counters.migratedIn++
    this.adopted[0].set(id, previousEpoch)
    if (this.env.events.has('worker:migrate')) this.env.events.emit('worker:migrate', { pool: this.name, id, node: this.self, epoch: act.epoch, from, to: this.self })
    if (waiting?.queue != null) {
      const q = waiting.queue
      for (let i = waiting.head; i < q.length; i += 2) if (q[i] !== TICK) act.push(q[i] as Slot, q[i + 1])
      waiting.queue = null
    }
    this.ready(act, state)
    return act
  }

  /** The epoch a worker had on the node that handed it here lately (the last 10 to 20 s), if it was. */
  private adoptedLately (id: string): number | undefined {
    return this.adopted[0].get(id) ?? this.adopted[1].get(id)
  }

  /** Forgets handoffs older than one generation; the runtime calls it every 10 s. */
  ageAdopted (): void {
    if (this.adopted[0].size === 0 && this.adopted[1].size === 0) return
    this.adopted = [new Map(), this.adopted[0]]
  }

  /**
   * Drops every activation up to `maxEpoch`, unsaved: this node stood still long enough to
   * be marked down, so each of its workers may live on elsewhere with a newer epoch, and
   * nothing here may be written over that. Waiting calls are answered with `err`. Returns
   * how many went.
   */
  fence (err: Error, maxEpoch: number): number {
    // activations started or adopted since the stall was noticed (larger epochs) are not stale
    const all = [...this.activations.values()].filter(act => act.epoch <= maxEpoch)
    for (const act of all) {
      this.dropStale(act)
      const current = act.ext?.current ?? null
      if (current !== null && !current.done) {
        current.done = true
        current.reject(err)
      }
      if (act.queued > 0) this.drainQueue(act, err)
    }
    return all.length
  }

  /** Removes a stale activation without a save; its mailbox is left to the caller. */
  private dropStale (act: Activation): void {
    this.remove(act)
    act.abort(() => new WorkerNotAliveError('a newer activation of the worker lives elsewhere'))
    this.stats.counters.fenced++
  }

  /** True when the mailbox holds a cast, or a call, stop or spawn that still waits for its answer. */
  private waitingMessages (act: Activation): boolean {
    const q = act.queue
    if (q === null) return false
    for (let i = act.head; i < q.length; i += 2) {
      const slot = q[i] as Slot
      if (slot === null) return true
      const reply = replyIn(slot, q[i + 1])
      if (reply !== null && !reply.done) return true
    }
    return false
  }

  /** Stops a worker after the turns queued before this request. Resolves false when it is not live. */
  stop (id: string, reply: Reply): void {
    const act = this.activations.get(id)
    if (act === undefined || act.phase === Phase.Dead) {
      reply.done = true
      reply.resolve(false)
      return
    }
    if (act.phase === Phase.Stopping) {
      // already saving: this request ends with that stop rather than stop the next activation
      const ext = act.extra()
      ext.stopWaiters ??= []
      ext.stopWaiters.push(reply)
      this.env.watch.watchDeadline(act, reply.deadline)
      return
    }
    // while the node fences, a save could write stale state: the stop waits its turn
    if (act.phase === Phase.Ready && act.queued === 0 && !this.env.fencing()) {
      this.passivate(act, 'stop', reply)
      return
    }
    this.deliverTo(act, STOP, reply)
  }

  /** Saves every worker (as far as `save` succeeds) and deactivates it; for a node that is leaving. */
  async shutdown (signal?: AbortSignal): Promise<void> {
    this.closing = true
    const waits: Array<Promise<unknown>> = []
    let n = 0
    for (const act of [...this.activations.values()]) {
      if (signal?.aborted === true) break
      if (act.phase === Phase.Ready && this.def.save !== undefined) {
        waits.push(new Promise((resolve) => { this.passivate(act, 'shutdown', { resolve, reject: resolve, deadline: Infinity, done: false }) }))
        if (waits.length >= 256) await Promise.all(waits.splice(0))
      } else if (act.phase === Phase.Ready) {
        this.finishStop(act, 'shutdown', null)
      } else if (act.phase !== Phase.Stopping) {
        // busy or loading: what it holds now is not a settled state to save
        this.remove(act)
        const err = new NodeUnavailableError('the node is stopping', { node: this.self })
        const current = act.ext?.current ?? null
        if (current !== null && !current.done) {
          current.done = true
          current.reject(err)
        }
        if (act.queued > 0) this.drainQueue(act, err)
      }
      // a million workers must not hold the event loop for the whole stop
      if ((++n & 8191) === 0) await new Promise(resolve => setImmediate(resolve))
    }
    // a save that never ends must not hold the stop for ever once the caller gives up
    await abortable(Promise.all(waits), signal)
  }

  private remove (act: Activation): void {
    act.phase = Phase.Dead
    this.env.watch.delete(act)
    if (this.activations.get(act.id) !== act) return
    this.activations.delete(act.id)
    const owner = this.spilledFrom.get(act.id)
    if (owner !== undefined) {
      this.spilledFrom.delete(act.id)
      this.env.spillEnded(this.name, act.id, owner)
    }
  }

  /**
   * The node `from` says worker `id`, spilled there from here, is not live there (any
   * more): the pointer goes, and for a while a new activation here claims it from `from`
   * first, in case a message already on its way started it there again.
   */
  unspilled (id: string, from: string, now: number): void {
    if (this.spilled.get(id) !== from) return
    this.spilled.delete(id)
    this.reclaim.set(id, { from, at: now })
  }

  /** The node `from` says worker `id`, which this node owns, is live there (spilled from here): the pointer is (again) there. */
  spilledTo (id: string, from: string): void {
    if (this.activations.has(id)) return
    this.spilled.set(id, from)
    this.reclaim.delete(id)
  }

  /** Answers everything left in a dead activation's mailbox with `err`; its casts are counted as dropped. */
  private drainQueue (act: Activation, err: Error): void {
    const q = act.queue
    act.queue = null
    if (q === null) return
    for (let i = act.head; i < q.length; i += 2) {
      const slot = q[i] as Slot
      if (slot === null) {
        this.stats.counters.droppedCasts++
        continue
      }
      const reply = replyIn(slot, q[i + 1])
      if (reply !== null && !reply.done) {
        reply.done = true
        reply.reject(err)
      }
    }
  }

  private fail (act: Activation, during: WorkerFailDetail['during'], err: Error): void {
    if (this.env.events.has('worker:fail')) {
      this.env.events.emit('worker:fail', { pool: this.name, id: act.id, node: this.self, epoch: act.epoch, during, error: toWireError(err) })
    }
  }
}
