import { NodeUnavailableError, UnknownPoolError } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { LocalPool } from '../activation/local-pool.js'
import type { PlacementContext, PlacementFn } from '../pool.js'

/** What finding owners needs of the node. */
export interface OwnersComponents {
  self: () => string
  /** The placement of the current membership view (cached per version by the node). */
  placement: () => Placement
}

/**
 * Who owns a worker in this node's view: the pool's weighted ring, or the pool's own
 * placement function, computed alike on every node. Pure but for caches, each kept per
 * placement version (the rule: a cache entry is good while the version it was made at is
 * current).
 */
export class Owners {
  private readonly c: OwnersComponents
  /** Per pool with a custom placement: the context its function is called with, per placement version. */
  private readonly contexts = new Map<string, { version: number, ctx: PlacementContext }>()

  constructor (components: OwnersComponents) {
    this.c = components
  }

  /**
   * The owner of `id` in this node's view. Throws `UnknownPoolError` for a pool nobody
   * runs, `NodeUnavailableError` when nobody serves it now. `local`: this node's pool of
   * that name, if it runs it (its placement function, if any, decides).
   */
  ownerOf (pool: string, id: string, local: LocalPool | undefined, placement = this.c.placement()): string {
    const owner = this.ownerIn(pool, id, local, placement)
    if (owner !== undefined) return owner
    if (local === undefined && !placement.has(pool)) throw new UnknownPoolError(`no node runs pool ${String(pool)}`, { pool })
    throw new NodeUnavailableError(`no node serves pool ${pool} now`, { pool })
  }

  /** The owner of `id` in `placement`, or undefined when nobody serves the pool there. Never throws for that: a lookup on every activation must not build an error. */
  ownerIn (pool: string, id: string, local: LocalPool | undefined, placement: Placement): string | undefined {
    const fn = local?.def.placement
    return typeof fn === 'function' ? this.custom(pool, id, fn, placement) : placement.ownerOf(pool, id)
  }

  /**
   * The owner of `id` on the pool's current ring with node `without` taken off it: the
   * next node on the ring (where a full owner spills, and who owned an id before a node
   * joined); with `also`, that node taken off too.
   */
  ownerWithout (pool: string, id: string, without: string, also?: string): string | undefined {
    return this.c.placement().ring(pool)?.ownerWithout(id, without, also)
  }

  /** Ids grouped by the owner this node sees. */
  groupByOwner (pool: string, ids: readonly string[], local: LocalPool | undefined): Map<string, string[]> {
    const byOwner = new Map<string, string[]>()
    for (const id of ids) {
      const owner = this.ownerOf(pool, id, local)
      let g = byOwner.get(owner)
      if (g === undefined) {
        g = []
        byOwner.set(owner, g)
      }
      g.push(id)
    }
    return byOwner
  }

  /** True when this node is on the pool's ring now (up, not drained, a target above 0). */
  serves (pool: string): boolean {
    return this.c.placement().ring(pool)?.weights.has(this.c.self()) === true
  }

  private custom (pool: string, id: string, fn: PlacementFn, placement: Placement): string | undefined {
    let cached = this.contexts.get(pool)
    if (cached === undefined || cached.version !== placement.version) {
      const ring = placement.ring(pool)
      const ctx: PlacementContext = {
        ownerOf: (key) => placement.ownerOf(pool, key),
        nodes: (ring?.nodes ?? []).map(peerId => ({ peerId, weight: ring?.weights.get(peerId) ?? 0 }))
      }
      cached = { version: placement.version, ctx }
      this.contexts.set(pool, cached)
    }
    const owner = fn(id, cached.ctx)
    if (owner !== undefined && !cached.ctx.nodes.some(n => n.peerId === owner)) {
      throw new NodeUnavailableError(`the placement of ${pool} chose ${String(owner)} for ${id}, which does not serve the pool`, { pool, id })
    }
    return owner
  }
}
