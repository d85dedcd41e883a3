import {
  DEFAULT_CALL_TIMEOUT_MS, DEFAULT_HARD_LIMIT_RATIO, DEFAULT_MAILBOX_LIMIT, DEFAULT_SOFT_LIMIT_RATIO, LATENCY_SAMPLE_MASK,
  NodeUnavailableError, OverloadedError, TURNS_PER_RUN, TimeoutError, WorkerNotAliveError, toWireError
} from '@simplepool/core'
import { Activation, BARRIER, Phase, SPAWNED, STOP, TICK, goesAhead, replyIn } from './activation.js'
import type { ActivationExtra, ActivationHome, Reply, Slot } from './activation.js'
import type { WorkerFailDetail } from '../events.js'
import type { Pool } from '../pool.js'
import { PoolStats } from '../figures/pool-stats.js'
import type { WorkerRef } from '../ref.js'
import type { PoolComponents } from './pool-components.js'
import { failMailbox } from './mailbox.js'
import { Passivation } from './passivation.js'
import { answer, refuse } from './replies.js'
import { asError, isThenable } from './promises.js'
import { dropUnsaved, staleHere, thenSave } from './write-through.js'

/** What a claim resolves with when a handoff already made the activation ready. */
const HANDED_IN = Symbol('handed in')

/** What {@link LocalPool.callNow} and {@link LocalPool.beginHandoff} return when the worker has to wait its turn. */
export const NOT_NOW = Symbol('not now')

/** Why an activation leaves without a save: moved to another node, or stale (a newer copy lives elsewhere). */
export type Departure = 'moved' | 'stale'

/**
 * The workers of one pool on this node: their activations, mailboxes and turns, idle
 * deadlines and ticks. Everything here is local: routing decided already that this node
 * runs the ids it is given. Passivation is {@link Passivation}'s; the handoff and fencing
 * change an activation's life only through the primitives at the end of this class
 * (`beginHandoff`, `cancelHandoff`, `depart`, `install`, `ready`).
 */
export class LocalPool implements ActivationHome {
  readonly def: Pool<any, any, any>
  readonly name: string
  readonly activations = new Map<string, Activation>()
  readonly stats = new PoolStats()
  readonly mailboxLimit: number
  readonly callTimeoutMs: number
  /** This node's target for the pool; the node keeps it current. */
  target: number
  /** Saving and deactivating workers: idle, on request, at shutdown. */
  readonly passivation: Passivation
  private readonly env: PoolComponents
  private readonly tickMs: number
  private readonly idleMs: number
  /** Workers of this pool have idle deadlines or ticks on the wheel. */
  readonly timed: boolean
  /** `save` after every turn, before its reply (see `PoolDefinition.writeThrough`). */
  private readonly writeThrough: boolean
  private sampled = 0

  constructor (def: Pool<any, any, any>, target: number, env: PoolComponents) {
    this.def = def
    this.name = def.name
    this.env = env
    this.target = target
    this.mailboxLimit = def.mailboxLimit ?? DEFAULT_MAILBOX_LIMIT
    this.callTimeoutMs = def.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    this.tickMs = def.tick !== undefined ? (def.tickMs ?? 0) : 0
    this.idleMs = def.idleTimeoutMs ?? 0
    this.timed = this.tickMs > 0 || this.idleMs > 0
    this.writeThrough = def.writeThrough === true && def.save !== undefined
    this.passivation = new Passivation(this, env)
  }

  get self (): string { return this.env.self() }

  get softLimit (): number { return Math.ceil(this.target * (this.def.softLimitRatio ?? DEFAULT_SOFT_LIMIT_RATIO)) }

  get hardLimit (): number { return Math.ceil(this.target * (this.def.hardLimitRatio ?? DEFAULT_HARD_LIMIT_RATIO)) }

  ref<M, R> (pool: string, id: string): WorkerRef<M, R> { return this.env.ref<M, R>(pool, id) }

  /**
   * Puts a message (or a mark) in worker `id`'s mailbox, activating it when `spawn`.
   * Throws `WorkerNotAliveError` or `OverloadedError` synchronously, before anything is
   * queued: a cast's sender learns it at once, a call's caller through its promise.
   */
  deliver (id: string, slot: Slot, msg: unknown, spawn: boolean, via?: string): Activation {
    const act = this.activations.get(id)
    if (act !== undefined) return this.deliverTo(act, slot, msg, via)
    if (!spawn) throw new WorkerNotAliveError(`worker ${this.name}/${id} is not alive`, { pool: this.name, id })
    return this.deliverTo(this.activate(id), slot, msg, via)
  }

  /**
   * Puts a message in a live activation's mailbox; throws `OverloadedError` when it is full.
   * `via`: the node that sent it on (forwarded): one this activation is claiming from queues it ahead.
   */
  deliverTo (act: Activation, slot: Slot, msg: unknown, via?: string): Activation {
    if (act.queue !== null && act.queued >= this.mailboxLimit) {
      this.stats.counters.overloaded++
      throw new OverloadedError(`the mailbox of ${this.name}/${act.id} holds ${this.mailboxLimit} messages`, { pool: this.name, id: act.id })
    }
    const ahead = via === undefined ? 0 : goesAhead(act, via)
    if (ahead === 1) act.pushAhead(slot, msg)
    else if (ahead === 2) act.pushHeld(slot, msg)
    else act.push(slot, msg)
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
    const act = this.install(id, env.nextEpoch())
    this.stats.counters.activations++
    if (env.events.has('worker:activate')) env.events.emit('worker:activate', { pool: this.name, id, node: this.self, epoch: act.epoch })
    const holders = env.holders(this.name, id)
    if (holders.length > 0) {
      // the ring moved lately: the node that owned this id may still hold it, state and all
      act.extra().claiming = true
      act.extra().claimedFrom = holders
      this.settleActivation(act, this.claimThenLoad(act, holders))
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
   * does, the handoff fills this activation before the claim is answered; if none holds
   * it, the worker starts as any other, from `load` and `init`.
   */
  private async claimThenLoad (act: Activation, holders: readonly string[]): Promise<unknown> {
    const waiting = (): boolean => act.phase === Phase.Activating && act.ext?.claiming === true
    if (await this.env.claimFirst(this.name, act.id, holders, waiting)) return HANDED_IN
    // the ring moved on while it claimed (this node drained, or another came): the worker
    // belongs to another node now, which holds it or claims it itself; a copy started here
    // would be a second one, so what waits for it goes there instead
    if (act.phase === Phase.Activating && await this.env.redirect(act)) return HANDED_IN
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

  private activationFailed (act: Activation, err: Error): void {
    this.env.watch.delete(act)
    this.stats.counters.failures++
    this.fail(act, 'activation', err)
    this.remove(act)
    // everything that waited for this activation gets its error; a cast is counted as failed
    this.failMailbox(act, err)
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
      // starting it noticed a stall: the call waits for the fence, as every turn does
      if (this.env.fencing()) return NOT_NOW
    }
    if (ownedAt !== undefined) act.ownedAt = ownedAt
    if (act.phase !== Phase.Ready || act.queue !== null || act.scheduled || (act.ext !== null && act.ext.holdAfter >= 0)) return NOT_NOW
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
      if (staleHere(this, act, e)) dropUnsaved(this, act, e)
      else if (act.queued > 0) this.env.scheduler.add(act)
      throw e
    }
    if (act.phase !== Phase.Busy) throw new NodeUnavailableError('the node is stopping', { node: this.self })
    if (this.writeThrough) result = thenSave(this, act, result)
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
      // a claim waits for it: what came after the claim waits to follow it (see Activation.holdForClaim)
      const ext = act.ext
      if (ext !== null && ext.holdAfter >= 0) {
        if (ext.holdAfter === 0) break
        ext.holdAfter--
      }
      const slot = q[act.head] as Slot
      const msg = q[act.head + 1]
      q[act.head] = undefined
      q[act.head + 1] = undefined
      act.head += 2
      if (slot === STOP) {
        if ((msg as Reply).done) continue
        this.passivation.passivate(act, 'stop', msg as Reply)
        return turns
      }
      if (slot === SPAWNED || slot === BARRIER) {
        answer(msg as Reply, slot === BARRIER ? true : { node: this.self, epoch: act.epoch })
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
      if (this.writeThrough) result = thenSave(this, act, result)
      if (isThenable(result)) {
        this.goAsync(act, reply, result, slot === TICK)
        return turns
      }
      if (timed) {
        now = clock.monotonic()
        this.stats.latency(now - t0)
      }
      if (reply !== null) answer(reply, result)
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
    } else if (reply !== null) {
      answer(reply, value)
    }
    if (act.queued > 0) this.env.scheduler.add(act)
  }

  private turnFailed (act: Activation, reply: Reply | null, err: Error, tick: boolean): void {
    this.stats.counters.failures++
    this.fail(act, tick ? 'tick' : 'turn', err)
    if (reply !== null) refuse(reply, err)
    // the handler wrote through itself, and the store holds a newer copy's state
    if (staleHere(this, act, err)) dropUnsaved(this, act, err)
  }

  /** Answers a call that ran out of time with `TimeoutError` and counts it. */
  expire (act: Activation, reply: Reply, where: string): void {
    this.stats.counters.timeouts++
    const err = new TimeoutError(`call to ${this.name}/${act.id} timed out ${where}`, { pool: this.name, id: act.id })
    refuse(reply, err)
    this.fail(act, 'timeout', err)
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
      this.passivation.passivate(act, 'idle', null)
      return
    }
    this.reschedule(act)
  }

  /** Puts `act`'s next idle deadline or tick on the wheel. */
  reschedule (act: Activation): void {
    const ext = act.extra()
    const at = Math.min(ext.nextTickAt, this.idleMs > 0 ? ext.lastActive + this.idleMs : Infinity)
    // never in the past: a worker that is idle but busy (a hung turn) is looked at again
    // once per wheel slot, not on every turn of the event loop
    if (at !== Infinity) ext.wheelSlot = this.env.wheel.schedule(act, Math.max(at, this.env.clock.monotonic() + 1))
  }

  /** Removes `act` from this pool (it is dead from now on); its mailbox is left to the caller. */
  remove (act: Activation): void {
    act.phase = Phase.Dead
    this.env.watch.delete(act)
    if (this.activations.get(act.id) !== act) return
    this.activations.delete(act.id)
    this.env.removed(this.name, act.id)
  }

  /** Answers everything left in a dead activation's mailbox with `err`; its casts are counted as dropped. */
  failMailbox (act: Activation, err: Error): void {
    this.stats.counters.droppedCasts += failMailbox(act, err)
  }

  /** Reports a failure of `act` as `worker:fail`. */
  fail (act: Activation, during: WorkerFailDetail['during'], err: Error): void {
    if (this.env.events.has('worker:fail')) {
      this.env.events.emit('worker:fail', { pool: this.name, id: act.id, node: this.self, epoch: act.epoch, during, error: toWireError(err) })
    }
  }

  // The primitives the handoff and fencing change an activation's life with.

  /** A new activation of `id` with `epoch`, in this pool's map, not yet ready (see {@link ready}). */
  install (id: string, epoch: number): Activation {
    const act = new Activation(this, id, epoch)
    this.activations.set(id, act)
    return act
  }

  /**
   * Makes an activating worker ready with `state`: it takes turns from now on, its idle
   * deadline and first tick go on the wheel, and what waited in its mailbox runs.
   */
  ready (act: Activation, state: unknown): void {
    if (act.phase !== Phase.Activating || state === HANDED_IN) return
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

  /**
   * Takes a worker that is between turns out of service (to hand it over): it stops
   * taking turns and messages wait in its mailbox, their deadlines watched. Returns its
   * portable state (`snapshot` applied), or `NOT_NOW` when it is busy, loading or saving,
   * or has messages to run first: sent on after the handoff, they would run behind what
   * reached the new owner straight meanwhile (but those that came after a claim, which follow it).
   */
  beginHandoff (act: Activation): unknown {
    if (act.phase !== Phase.Ready || !act.mailboxRan(this.env.clock.monotonic())) return NOT_NOW
    act.endClaimHold()
    act.phase = Phase.Migrating
    this.env.watch.watch(act)
    return this.def.snapshot !== undefined ? this.def.snapshot(act.state) : act.state
  }

  /** The claim stopped waiting without a handoff (see `Activation.holdForClaim`): the worker takes turns again. */
  releaseClaimHold (act: Activation): void {
    if (act.ext === null || act.ext.holdAfter < 0) return
    act.endClaimHold()
    if (act.phase === Phase.Ready && act.queued > 0) this.env.scheduler.add(act)
  }

  /** The handoff failed or was refused: the worker takes turns here again, starting with what waited. */
  cancelHandoff (act: Activation): void {
    if (act.phase !== Phase.Migrating) return
    act.phase = Phase.Ready
    this.env.watch.delete(act)
    if (act.queued > 0) this.env.scheduler.add(act)
  }

  /**
   * Removes a worker without a save: it `moved` (to `to`, with its state) or is `stale`
   * (a newer copy lives elsewhere). Its signal is aborted; its mailbox is left to the caller.
   */
  depart (act: Activation, why: Departure, to?: string): void {
    this.remove(act)
    if (why === 'moved') {
      act.abort(() => new WorkerNotAliveError('the worker moved to another node'))
      this.stats.counters.migratedOut++
      if (this.env.events.has('worker:migrate')) this.env.events.emit('worker:migrate', { pool: this.name, id: act.id, node: this.self, epoch: act.epoch, from: this.self, to: to as string })
    } else {
      act.abort(() => new WorkerNotAliveError('a newer activation of the worker lives elsewhere'))
      this.stats.counters.fenced++
    }
  }
}
