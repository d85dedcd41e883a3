import { NodeUnavailableError, SHUTDOWN_SAVES_IN_FLIGHT, WORKERS_PER_YIELD, WorkerNotAliveError, isStaleWrite, nextTurn } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import { Phase, STOP } from './activation.js'
import type { Activation, ActivationExtra, Reply, Slot } from './activation.js'
import type { DeadlineWatch } from './deadline-watch.js'
import type { WorkerEvents, WorkerFailDetail, WorkerPassivateDetail } from '../events.js'
import type { Pool } from '../pool.js'
import type { PoolStats } from '../figures/pool-stats.js'
import type { Scheduler } from './scheduler.js'
import { hasWaiting, moveMailbox, passBarriers } from './mailbox.js'
import { abortable, asError, isThenable } from './promises.js'
import { answer, refuse } from './replies.js'

/** What passivation needs of the node. */
export interface PassivationComponents {
  readonly clock: Clock
  readonly scheduler: Scheduler
  readonly watch: DeadlineWatch
  readonly events: WorkerEvents
  /** True while the node, back from a stall, finds out whether its activations are stale: nothing is saved. */
  fencing: () => boolean
  /** `act` left this node for good: its replicas on its successors go (see `Replicator`). */
  dropReplicas: (pool: string, act: Activation) => void
}

/** The pool whose workers are saved and deactivated (a `LocalPool`). */
export interface PassivatedPool {
  readonly name: string
  readonly self: string
  readonly def: Pool<any, any, any>
  readonly stats: PoolStats
  readonly activations: ReadonlyMap<string, Activation>
  /** Workers of the pool have idle deadlines or ticks on the wheel. */
  readonly timed: boolean
  activate: (id: string) => Activation
  deliverTo: (act: Activation, slot: Slot, msg: unknown) => Activation
  remove: (act: Activation) => void
  /** Removes a worker without a save, as stale (a newer copy lives elsewhere). */
  depart: (act: Activation, why: 'stale') => void
  reschedule: (act: Activation) => void
  failMailbox: (act: Activation, err: Error) => void
  fail: (act: Activation, during: WorkerFailDetail['during'], err: Error) => void
}

/**
 * Saving and deactivating the workers of one pool: when idle, when asked (`stopWorker`),
 * and when the node stops. A worker saves between turns; messages that arrive while it
 * saves wait in its mailbox and start the next activation. A `save` that fails keeps the
 * worker live (its state would otherwise be lost) and reports the failure; but one the
 * store refused as stale (`StaleWriteError`) drops it: a newer copy holds the worker.
 */
export class Passivation {
  private readonly pool: PassivatedPool
  private readonly c: PassivationComponents
  /** The node is stopping: a worker that finishes saving is not brought back by its queue. */
  private closing = false

  constructor (pool: PassivatedPool, components: PassivationComponents) {
    this.pool = pool
    this.c = components
  }

  /** Saves and deactivates `act`, which is between turns; `reply` (a stop's) is answered when it is done. */
  passivate (act: Activation, reason: WorkerPassivateDetail['reason'], reply: Reply | null): void {
    act.phase = Phase.Stopping
    // calls queued behind the stop keep their deadlines while `save` runs
    this.c.watch.watch(act)
    const save = this.pool.def.save
    if (save === undefined) {
      this.finish(act, reason, reply)
      return
    }
    let saving: unknown
    try {
      saving = save(act.id, act.state, act)
    } catch (err) {
      this.saveFailed(act, asError(err), reply, reason)
      return
    }
    if (!isThenable(saving)) {
      this.finish(act, reason, reply)
      return
    }
    saving.then(
      () => { this.finish(act, reason, reply) },
      (err) => { this.saveFailed(act, asError(err), reply, reason) })
  }

  /** Stops worker `id` after the turns queued before this request. Answers `reply` false when it is not live. */
  stop (id: string, reply: Reply): void {
    const act = this.pool.activations.get(id)
    if (act === undefined || act.phase === Phase.Dead) {
      answer(reply, false)
      return
    }
    if (act.phase === Phase.Stopping) {
      // already saving: this request ends with that stop rather than stop the next activation
      const ext = act.extra()
      ext.stopWaiters ??= []
      ext.stopWaiters.push(reply)
      this.c.watch.watchDeadline(act, reply.deadline)
      return
    }
    // while the node fences, a save could write stale state: the stop waits its turn
    if (act.phase === Phase.Ready && act.queued === 0 && !this.c.fencing()) {
      this.passivate(act, 'stop', reply)
      return
    }
    this.pool.deliverTo(act, STOP, reply)
  }

  /** Saves every worker (as far as `save` succeeds) and deactivates it; for a node that is leaving. */
  async shutdown (signal?: AbortSignal): Promise<void> {
    this.closing = true
    const pool = this.pool
    const waits: Array<Promise<unknown>> = []
    let n = 0
    for (const act of [...pool.activations.values()]) {
      if (signal?.aborted === true) break
      if (act.phase === Phase.Ready && pool.def.save !== undefined) {
        waits.push(new Promise((resolve) => { this.passivate(act, 'shutdown', { resolve, reject: resolve, deadline: Infinity, done: false }) }))
        if (waits.length >= SHUTDOWN_SAVES_IN_FLIGHT) await Promise.all(waits.splice(0))
      } else if (act.phase === Phase.Ready) {
        this.finish(act, 'shutdown', null)
      } else if (act.phase !== Phase.Stopping) {
        // busy or loading: what it holds now is not a settled state to save
        pool.remove(act)
        const err = new NodeUnavailableError('the node is stopping', { node: pool.self })
        const current = act.ext?.current ?? null
        if (current !== null) refuse(current, err)
        if (act.queued > 0) pool.failMailbox(act, err)
      }
      if ((++n % WORKERS_PER_YIELD) === 0) await nextTurn(this.c.clock)
    }
    // a save that never ends must not hold the stop for ever once the caller gives up
    await abortable(Promise.all(waits), signal)
  }

  private saveFailed (act: Activation, err: Error, reply: Reply | null, reason?: WorkerPassivateDetail['reason']): void {
    const pool = this.pool
    pool.stats.counters.failures++
    pool.fail(act, 'save', err)
    // dropped (fenced) while it saved: it is not live here any more, nothing brings it back
    if (act.phase === Phase.Dead) {
      if (reply !== null) refuse(reply, err)
      answerStopWaiters(act, err)
      return
    }
    if (isStaleWrite(err)) {
      // a newer copy's epoch holds the row: this one is stale, and goes unsaved. Its waiting
      // calls get the error (retried, they reach the newer copy)
      pool.stats.counters.staleWrites++
      pool.depart(act, 'stale')
      if (reply !== null) refuse(reply, err)
      answerStopWaiters(act, err)
      pool.failMailbox(act, err)
      return
    }
    if (reason === 'handoff') {
      // its handoff went unanswered and the store refused this copy's state: a newer copy
      // wrote there (the receiver took it after all); this one goes, unsaved
      pool.depart(act, 'stale')
      answerStopWaiters(act, err)
      pool.failMailbox(act, new NodeUnavailableError(`${pool.name}/${act.id}: its handoff went unanswered and the store holds newer state; retry`, { node: pool.self, pool: pool.name, id: act.id }))
      return
    }
    act.phase = Phase.Ready
    if (pool.timed) {
      act.extra().lastActive = this.c.clock.monotonic()
      pool.reschedule(act)
    }
    if (reply !== null) refuse(reply, err)
    answerStopWaiters(act, err)
    if (act.queued > 0) this.c.scheduler.add(act)
  }

  private finish (act: Activation, reason: WorkerPassivateDetail['reason'], reply: Reply | null): void {
    const pool = this.pool
    if (act.phase === Phase.Dead) {
      // dropped (fenced) while it saved: no passivation to report
      if (reply !== null) answer(reply, true)
      answerStopWaiters(act)
      return
    }
    pool.remove(act)
    act.abort(() => new WorkerNotAliveError('the worker was deactivated'))
    // saved (or let go, when asked to stop): its replicas go too; but a node stopping with
    // nowhere to hand a worker leaves them, the only copy of a pool without a store
    if (reason !== 'shutdown') this.c.dropReplicas(pool.name, act)
    pool.stats.counters.passivations++
    if (this.c.events.has('worker:passivate')) this.c.events.emit('worker:passivate', { pool: pool.name, id: act.id, node: pool.self, epoch: act.epoch, reason })
    if (reply !== null) answer(reply, true)
    answerStopWaiters(act)
    if (reason === 'shutdown' || this.closing) {
      if (act.queued > 0) pool.failMailbox(act, new NodeUnavailableError('the node is stopping', { node: pool.self }))
      return
    }
    // messages that came while it was saving were accepted for a live worker: they bring it
    // back (calls that timed out meanwhile do not)
    if (!hasWaiting(act, false)) {
      // nothing but senders' barriers: they are answered, and bring nothing back
      passBarriers(act)
    } else {
      let next: Activation
      try {
        next = pool.activate(act.id)
      } catch (err) {
        pool.failMailbox(act, asError(err))
        return
      }
      moveMailbox(act, next, false)
      if (next.phase === Phase.Ready) this.c.scheduler.add(next)
      else this.c.watch.watch(next)
    }
  }
}

/** Answers the stop requests that joined a stop in progress: true, or the save's error. */
function answerStopWaiters (act: Activation, err?: Error): void {
  const waiters = act.ext?.stopWaiters
  if (waiters == null) return
  ;(act.ext as ActivationExtra).stopWaiters = null
  for (const w of waiters) {
    if (err === undefined) answer(w, true)
    else refuse(w, err)
  }
}
