import { Phase } from './activation.js'
import type { Activation, ActivationExtra } from './activation.js'
import type { PoolComponents } from './pool-components.js'
import type { Pool } from '../pool.js'

/** What a claim resolves with when a handoff already made the activation ready. */
export const HANDED_IN = Symbol('handed in')

/** What starting a worker needs of its pool. */
interface StartingPool {
  readonly name: string
  readonly def: Pool<any, any, any>
  readonly env: PoolComponents
  readonly replicas: number
}

/**
 * Asks the nodes that may hold `act` (the ring moved lately) to hand it over. If one
 * does, the handoff fills this activation before the claim is answered; if none holds
 * it, the worker starts as any other (see {@link loadThenInit}).
 */
export async function claimThenLoad (pool: StartingPool, act: Activation, holders: readonly string[]): Promise<unknown> {
  const env = pool.env
  const waiting = (): boolean => act.phase === Phase.Activating && act.ext?.claiming === true
  if (await env.claimFirst(pool.name, act.id, holders, waiting)) return HANDED_IN
  // the ring moved on while it claimed (this node drained, or another came): the worker
  // belongs to another node now, which holds it or claims it itself; a copy started here
  // would be a second one, so what waits for it goes there instead
  if (act.phase === Phase.Activating && await env.redirect(act)) return HANDED_IN
  ;(act.ext as ActivationExtra).claiming = false
  return await loadThenInit(pool, act)
}

/**
 * A new activation's state: a replica kept here (this node owns the worker now that its
 * owner is gone: the state of its last replicated turn), else `load`, else `init`. A pool
 * with a store loads even when a replica is taken: a store's load claims the row for this
 * activation's epoch, so the copy it takes over from can no longer save. Which state
 * wins: written through, the store's (every turn was saved before it was replicated);
 * else the replica's (it holds every turn acknowledged since the last save).
 */
export async function loadThenInit (pool: StartingPool, act: Activation): Promise<unknown> {
  const kept = pool.replicas > 0 ? await pool.env.takeReplica(pool.name, act.id) : undefined
  // its epoch was drawn before the replica's was heard of: a copy must outrank what it starts from
  if (kept !== undefined && act.epoch <= kept.epoch) act.epoch = pool.env.nextEpoch()
  const loaded = await pool.def.load?.(act.id, act)
  if (loaded !== undefined && (kept === undefined || pool.def.writeThrough === true)) return loaded
  return kept !== undefined ? kept.state : await pool.def.init(act.id, act)
}
