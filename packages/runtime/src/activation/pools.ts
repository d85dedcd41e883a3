import { DEFAULT_POOL_TARGET, InvalidOptionError, UnknownPoolError } from '@simplepool/core'
import { validatePool, withStore } from '../pool.js'
import type { Pool } from '../pool.js'
import { LocalPool } from './local-pool.js'
import type { PoolComponents } from './pool-components.js'

/**
 * The pools of one node, built from their definitions, each at its target: the one given
 * at start for it, else its definition's, else the default. A bad definition, two pools
 * of one name, or a target for a pool this node does not run is an `InvalidOptionError`.
 */
export function createPools (defs: ReadonlyArray<Pool<any, any, any>>, targets: Readonly<Record<string, number>> | undefined, env: PoolComponents): Map<string, LocalPool> {
  const pools = new Map<string, LocalPool>()
  for (const def of defs) {
    validatePool(def)
    if (pools.has(def.name)) throw new InvalidOptionError(`two pools are named ${def.name}`)
    // own keys only: a pool named like an Object.prototype member must not read it
    const given = targets !== undefined && Object.hasOwn(targets, def.name) ? targets[def.name] : undefined
    pools.set(def.name, new LocalPool(withStore(def), given ?? def.target ?? DEFAULT_POOL_TARGET, env))
  }
  for (const [name, t] of Object.entries(targets ?? {})) {
    if (!pools.has(name)) throw new InvalidOptionError(`targets name pool ${name}, which is not among this node's pools`)
    checkTarget(name, t)
  }
  return pools
}

/** Sets the target of this node's pool `name` (its weight on the ring follows through membership). */
export function setTarget (pools: ReadonlyMap<string, LocalPool>, name: string, target: number): void {
  const local = pools.get(name)
  if (local === undefined) throw new UnknownPoolError(`this node does not run pool ${String(name)}`, { pool: name })
  checkTarget(name, target)
  local.target = target
}

/** A figure of each of the pools, by name. */
export function perPool (pools: ReadonlyMap<string, LocalPool>, figure: (p: LocalPool) => number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const p of pools.values()) out[p.name] = figure(p)
  return out
}

function checkTarget (name: string, t: unknown): void {
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new InvalidOptionError(`target of ${name} must be a number >= 0, got ${String(t)} (${typeof t})`)
}
