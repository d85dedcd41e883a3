import { NodeUnavailableError, WorkerNotAliveError, isStaleWrite } from '@simplepool/core'
import { Phase } from './activation.js'
import type { Activation } from './activation.js'
import type { WorkerFailDetail } from '../events.js'
import type { PoolStats } from '../figures/pool-stats.js'
import type { Pool } from '../pool.js'
import type { PoolComponents } from './pool-components.js'
import { asError } from './promises.js'
import { refuse } from './replies.js'

/** What a pool's writes through to its store need of it. */
interface WritingPool {
  readonly name: string
  readonly def: Pool<any, any, any>
  readonly env: PoolComponents
  readonly stats: PoolStats
  fail: (act: Activation, during: WorkerFailDetail['during'], err: Error) => void
  remove: (act: Activation) => void
  depart: (act: Activation, why: 'stale') => void
  failMailbox: (act: Activation, err: Error) => void
}

/**
 * The turn's result, once what the turn left is kept: written through the pool's `save`
 * (`PoolDefinition.writeThrough`), then replicated to the worker's successors and
 * acknowledged by them (`replicas` with `replication: 'sync'`). A save that fails, or a
 * successor that holds a newer copy, drops the activation unsaved (see
 * {@link dropUnsaved}): what it holds is not what the store or the newer copy holds. A
 * successor that could not be reached fails the call and leaves the worker as it is.
 */
export async function keep (pool: WritingPool, act: Activation, result: unknown): Promise<unknown> {
  // awaited even when it is no promise: the turn's caller marks the activation busy first,
  // so that a save that throws at once finds it so (and drops it for good)
  const value = await result
  try {
    if (pool.def.writeThrough === true && pool.def.save !== undefined) await pool.def.save(act.id, act.state, act)
  } catch (err) {
    const e = asError(err)
    pool.stats.counters.failures++
    pool.fail(act, 'save', e)
    dropUnsaved(pool, act, e)
    throw e
  }
  if ((pool.def.replicas ?? 0) > 0 && pool.def.replication !== 'async') {
    try {
      await pool.env.replicate(pool.name, act)
    } catch (err) {
      // a successor holds a newer copy: this one is stale. One that could not be reached
      // fails this call only: the worker's state is here, and its next turn replicates it all
      const e = asError(err)
      if (staleHere(pool, act, e)) dropUnsaved(pool, act, e)
      throw e
    }
    // a fence under way may drop this copy: what this turn made may be nowhere else (seed
    // 50282 with --replicas 1: the pool's only node left in its view, cut off meanwhile),
    // and the reply must not say it was kept before the fence says the copy stays
    if (pool.env.fencing()) await pool.env.fenceSettled()
    if (act.phase === Phase.Dead) {
      throw new NodeUnavailableError(`node ${pool.env.self()} dropped its copy of ${pool.name}/${act.id} before this turn was kept; the call's effect may be kept or not: retry`, { node: pool.env.self(), pool: pool.name, id: act.id })
    }
  }
  return value
}

/** After a turn of a pool replicated asynchronously: its state goes to its successors, the reply does not wait. */
export function replicateLater (pool: WritingPool, act: Activation): void {
  pool.env.replicate(pool.name, act).catch((err: Error) => {
    // a successor holds a newer copy: this one is stale
    if (staleHere(pool, act, err)) dropUnsaved(pool, act, err)
  })
}

/**
 * Whether `err` says that this very copy is stale: a `StaleWriteError` about its own
 * worker (`data.pool`, `data.id`) and epoch (`data.epoch`, when given). One about another
 * worker (a callee's, come back through a call the handler made) is that worker's.
 */
export function staleHere (pool: { readonly name: string }, act: Activation, err: Error): boolean {
  if (!isStaleWrite(err)) return false
  const d = (err as { data?: { pool?: unknown, id?: unknown, epoch?: unknown } }).data
  return d?.pool === pool.name && d.id === act.id && (d.epoch === undefined || d.epoch === act.epoch)
}

/**
 * Drops `act` unsaved, and answers its current call and its mailbox with `err`: a store
 * refused its state (`StaleWriteError`: a newer copy's epoch holds the row, so this copy
 * is stale, and is counted as such) or, written through, could not take it.
 */
export function dropUnsaved (pool: WritingPool, act: Activation, err: Error): void {
  if (act.phase === Phase.Dead) return
  if (isStaleWrite(err)) {
    pool.stats.counters.staleWrites++
    pool.depart(act, 'stale')
  } else {
    pool.remove(act)
    act.abort(() => new WorkerNotAliveError('the worker\'s state could not be written through'))
  }
  const current = act.ext?.current ?? null
  if (current !== null) refuse(current, err)
  if (act.queued > 0) pool.failMailbox(act, err)
}
