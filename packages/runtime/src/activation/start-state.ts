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
 * owner is gone: the state of its last replicated turn), else `load`, else `init`.
 */
export async function loadThenInit (pool: StartingPool, act: Activation): Promise<unknown> {
  const kept = pool.replicas > 0 ? await pool.env.takeReplica(pool.name, act.id) : undefined
  if (kept !== undefined) return kept.state
  const loaded = await pool.def.load?.(act.id, act)
  return loaded === undefined ? await pool.def.init(act.id, act) : loaded
}
