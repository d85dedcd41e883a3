import { WorkerNotAliveError, isStaleWrite } from '@simplepool/core'
import { Phase } from './activation.js'
import type { Activation } from './activation.js'
import type { WorkerFailDetail } from '../events.js'
import type { PoolStats } from '../figures/pool-stats.js'
import type { Pool } from '../pool.js'
import { asError } from './promises.js'
import { refuse } from './replies.js'

/** What a pool's writes through to its store need of it. */
interface WritingPool {
  readonly def: Pool<any, any, any>
  readonly stats: PoolStats
  fail: (act: Activation, during: WorkerFailDetail['during'], err: Error) => void
  remove: (act: Activation) => void
  depart: (act: Activation, why: 'stale') => void
  failMailbox: (act: Activation, err: Error) => void
}

/**
 * The turn's result, once the pool's `save` has written the state the turn left
 * (`PoolDefinition.writeThrough`). A save that fails drops the activation unsaved (see
 * {@link dropUnsaved}): the store does not hold what this copy holds, and its next
 * message loads what it does.
 */
export async function thenSave (pool: WritingPool, act: Activation, result: unknown): Promise<unknown> {
  // awaited even when it is no promise: the turn's caller marks the activation busy first,
  // so that a save that throws at once finds it so (and drops it for good)
  const value = await result
  try {
    await (pool.def.save as NonNullable<Pool['save']>)(act.id, act.state, act)
  } catch (err) {
    const e = asError(err)
    pool.stats.counters.failures++
    pool.fail(act, 'save', e)
    dropUnsaved(pool, act, e)
    throw e
  }
  return value
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
