import { DEFAULT_WHEEL_RESOLUTION_MS, DeadlineWheel, TimeoutError } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import { BARRIER, Phase, replyIn } from './activation.js'
import type { Activation, Reply, Slot } from './activation.js'

/**
 * The deadlines of calls waiting on workers that nothing will run soon: busy in an async
 * turn, loading, or saving. A worker that takes turns checks each call's deadline when it
 * comes up; these are watched instead, one wheel entry per worker at the earliest
 * deadline it holds, so a stuck worker's callers still get their `TimeoutError` on time.
 * Nothing is watched for a worker that only takes synchronous turns.
 */
export class DeadlineWatch {
  private readonly wheel: DeadlineWheel<Activation>
  private readonly clock: Clock
  private readonly expire: (act: Activation, reply: Reply, where: string) => void

  /** @param expire - Answers one call with `TimeoutError` (and counts it). */
  constructor (clock: Clock, expire: (act: Activation, reply: Reply, where: string) => void) {
    this.clock = clock
    this.expire = expire
    this.wheel = new DeadlineWheel<Activation>(clock, DEFAULT_WHEEL_RESOLUTION_MS, (act) => { this.expired(act) })
  }

  /** Watches `act` until the earliest deadline it holds, or stops watching it when it holds none. */
  watch (act: Activation): void {
    const at = Math.min(currentDeadline(act), act.minDeadline)
    if (at !== Infinity) this.wheel.add(act, at)
    else this.wheel.delete(act)
  }

  /** A call with `deadline` was just queued on a watched worker. */
  watchDeadline (act: Activation, deadline: number): void {
    // minDeadline already holds the new call; re-arm only when it moved the earliest deadline
    if (deadline <= act.minDeadline) this.wheel.add(act, Math.min(deadline, currentDeadline(act)))
  }

  /** Stops watching `act`. */
  delete (act: Activation): void {
    this.wheel.delete(act)
  }

  /** Stops watching everything. */
  clear (): void {
    this.wheel.clear()
  }

  /**
   * A watched worker's earliest deadline passed: the running call (if it is the one) and
   * every queued call past its deadline are answered with `TimeoutError`. The worker
   * itself is left to finish its turn: running the next turn beside it would break one
   * turn at a time. Its `signal` is aborted so code that watches it can stop.
   */
  private expired (act: Activation): void {
    if (act.phase === Phase.Ready || act.phase === Phase.Dead) return
    const now = this.clock.monotonic()
    const current = act.ext?.current ?? null
    if (current !== null && !current.done && current.deadline <= now) {
      this.expire(act, current, 'in its turn')
      act.abort(() => new TimeoutError('the turn ran past its deadline'))
    }
    let min = Infinity
    const q = act.queue
    if (q !== null) {
      for (let i = act.head; i < q.length; i += 2) {
        // a sender's barrier is not a call: its sender stops waiting by itself, and nothing timed out
        if (q[i] === BARRIER) continue
        const reply = replyIn(q[i] as Slot, q[i + 1])
        if (reply === null || reply.done) continue
        if (reply.deadline <= now) this.expire(act, reply, 'in the mailbox')
        else if (reply.deadline < min) min = reply.deadline
      }
    }
    if (act.ext !== null) act.ext.minDeadline = min
    this.watch(act)
  }
}

/** The deadline of the running call, if it is still waiting for its answer. */
function currentDeadline (act: Activation): number {
  const c = act.ext?.current ?? null
  return c !== null && !c.done ? c.deadline : Infinity
}
