import { OverloadedError, UnknownPoolError } from '@simplepool/core'
import type { Clock, Member } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { LocalPool } from '../activation/local-pool.js'
import { encodeSpillNote } from '../protocol/routing-messages.js'
import type { SpillNoteMessage } from '../protocol/routing-messages.js'
import type { RuntimeTransport } from '../runtime-types.js'
import type { Owners } from './owners.js'

/** What spilling needs of the node. */
export interface SpillComponents {
  readonly clock: Clock
  readonly transport: RuntimeTransport
  readonly owners: Owners
  self: () => string
  pool: (name: string) => LocalPool | undefined
  pools: () => Iterable<LocalPool>
  placement: () => Placement
  members: () => ReadonlyArray<Readonly<Member>>
}

/** One pool's spill pointers on this node. */
export class SpillTables {
  /** Workers this node owns that spilled to the next node on the ring (at the hard limit): id → that node. */
  readonly spilled = new Map<string, string>()
  /** Workers live here that their owner spilled here: id → that owner, told when they end here. */
  readonly spilledFrom = new Map<string, string>()
  /** Spilled workers coming back, or whose spill node said they ended there: their next activation here claims them from that node first (within the claim window). */
  readonly claimBack = new Map<string, { from: string, at: number }>()
}

/**
 * Spill: a node at its hard limit for a pool activates no new worker; the next node on
 * the ring takes it, and this node keeps a pointer so messages, `where` and stops find
 * it. Once the pool is below its soft limit here again, the next message brings the
 * worker back (claimed, state and all). The node it spilled to tells the owner when the
 * worker ends there, or is (again) live there, so the pointer stays true.
 */
export class Spill {
  private readonly c: SpillComponents
  private readonly tables = new Map<string, SpillTables>()

  constructor (components: SpillComponents) {
    this.c = components
  }

  /**
   * The node worker `id` belongs on in this node's view (undefined: nobody serves the
   * pool): its owner, except that a worker spilled here stays while its owner is the same
   * and this node serves the pool.
   */
  homeOf (local: LocalPool, id: string): string | undefined {
    try {
      // ownerIn: nobody serving the pool (the last node leaving) is an answer here, not an error built per worker
      const owner = this.c.owners.ownerIn(local.name, id, local, this.c.placement())
      if (owner === undefined) return undefined
      const self = this.c.self()
      if (owner !== self && this.spilledFrom(local.name, id) === owner && this.c.owners.serves(local.name)) return self
      return owner
    } catch {
      return undefined
    }
  }

  /** The spill pointers of `pool` (made the first time a message of the pool asks). */
  tablesOf (pool: string): SpillTables {
    let t = this.tables.get(pool)
    if (t === undefined) {
      t = new SpillTables()
      this.tables.set(pool, t)
    }
    return t
  }

  /**
   * Where a message for `id`, which this node owns, goes instead of here: the node the
   * worker spilled to (a new pointer when this node is at its hard limit and the message
   * would activate it), or undefined to deliver it here.
   */
  spillOf (local: LocalPool, id: string, spawn: boolean): string | undefined {
    const t = this.tablesOf(local.name)
    // the common case, no pointers and room: one lookup of the pool's tables and two comparisons
    if (t.spilled.size === 0 && (!spawn || local.activations.size < local.hardLimit)) return undefined
    if (local.activations.has(id)) return undefined
    const to = t.spilled.get(id)
    if (to === undefined) {
      if (!spawn || local.activations.size < local.hardLimit) return undefined
      const next = this.c.owners.ownerWithout(local.name, id, this.c.self())
      // no other node serves the pool: over the limit here rather than nowhere
      if (next === undefined) return undefined
      t.spilled.set(id, next)
      local.stats.counters.spilled++
      return next
    }
    if (spawn && local.activations.size < local.softLimit) {
      t.spilled.delete(id)
      t.claimBack.set(id, { from: to, at: this.c.clock.monotonic() })
      return undefined
    }
    return to
  }

  /**
   * A message its owner `from` spilled here (at its hard limit): true to take it here.
   * Taken when the worker is live here or the message starts nothing; otherwise this node
   * starts the worker only if it serves the pool and is below its own hard limit (else it
   * throws `OverloadedError`, and tells `from` to forget its pointer here). False when this
   * node sees another owner than `from` (the views differ): route it as any message.
   */
  accept (local: LocalPool | undefined, pool: string, id: string, from: string, activates: boolean): boolean {
    const self = this.c.self()
    if (local === undefined) throw new UnknownPoolError(`node ${self} does not run pool ${pool}`, { pool })
    if (!activates || local.activations.has(id)) return true
    if (this.c.owners.ownerOf(pool, id, local) !== from) {
      this.tell(pool, id, from, false)
      return false
    }
    const why = !this.c.owners.serves(pool) ? `${self} does not serve ${pool} now` : local.activations.size >= local.hardLimit ? `${self} is at its hard limit too` : ''
    if (why !== '') {
      this.tell(pool, id, from, false)
      throw new OverloadedError(`${pool}/${id} spilled from ${from} cannot start on ${self}: ${why}`, { pool, id })
    }
    this.tablesOf(pool).spilledFrom.set(id, from)
    // after any "ended here" note still on its way: the owner's pointer comes back
    this.tell(pool, id, from, true)
    return true
  }

  /** The node worker `id` of `pool` spilled to, if this node keeps a pointer. */
  pointer (pool: string, id: string): string | undefined {
    return this.tables.get(pool)?.spilled.get(id)
  }

  /** The owner that spilled worker `id` here, if it did. */
  spilledFrom (pool: string, id: string): string | undefined {
    return this.tables.get(pool)?.spilledFrom.get(id)
  }

  /** Workers of `pool` this node owns that live where they spilled. */
  count (pool: string): number {
    return this.tables.get(pool)?.spilled.size ?? 0
  }

  /** Worker `id` is live here now (handed over): a pointer elsewhere is wrong. */
  forget (pool: string, id: string): void {
    this.tables.get(pool)?.spilled.delete(id)
  }

  /** Worker `id` of `pool` left this node: the owner that spilled it here is told. */
  removed (pool: string, id: string): void {
    const t = this.tables.get(pool)
    const owner = t?.spilledFrom.get(id)
    if (owner === undefined) return
    t?.spilledFrom.delete(id)
    this.tell(pool, id, owner, false)
  }

  /**
   * A note from the node `from` that a worker this node spilled there is live there (the
   * pointer is there, again) or not (the pointer goes, and for a while a new activation
   * here claims it from `from` first, in case a message on its way started it there again).
   */
  onNote (m: SpillNoteMessage, from: string): void {
    const local = this.c.pool(m.pool)
    if (local === undefined) return
    const t = this.tablesOf(m.pool)
    if (m.live) {
      if (local.activations.has(m.id)) return
      t.spilled.set(m.id, from)
      t.claimBack.delete(m.id)
      return
    }
    if (t.spilled.get(m.id) !== from) return
    t.spilled.delete(m.id)
    t.claimBack.set(m.id, { from, at: this.c.clock.monotonic() })
  }

  /** The node worker `id` spilled to lately (within `windowMs`), taken off the list: the next activation claims it from there. */
  takeClaimBack (pool: string, id: string, now: number, windowMs: number): string | undefined {
    const t = this.tables.get(pool)
    const back = t?.claimBack.get(id)
    if (back === undefined) return undefined
    t?.claimBack.delete(id)
    return now - back.at <= windowMs ? back.from : undefined
  }

  /** Forgets claims back older than `windowMs`; called once a second. */
  age (now: number, windowMs: number): void {
    for (const t of this.tables.values()) for (const [id, r] of t.claimBack) if (now - r.at > windowMs) t.claimBack.delete(id)
  }

  /**
   * After a ring change: a pointer to a node that is gone (down or forgotten) goes, since
   * whatever lived there is lost with it; and each worker spilled here that stays tells its
   * owner so again, so an owner that restarted, or took this node for down, has its
   * pointer back. Pointers to a node that lives on stay until it says the worker ended there.
   */
  ringChanged (reassert: boolean): void {
    const alive = new Set(this.c.members().filter(m => m.liveness !== 'down').map(m => m.peerId))
    for (const t of this.tables.values()) {
      for (const [id, to] of t.spilled) if (!alive.has(to)) t.spilled.delete(id)
    }
    if (!reassert) return
    const owners = this.c.owners
    for (const local of this.c.pools()) {
      const t = this.tables.get(local.name)
      if (t === undefined || t.spilledFrom.size === 0 || !owners.serves(local.name)) continue
      const placement = this.c.placement()
      for (const [id, owner] of t.spilledFrom) {
        if (owners.ownerIn(local.name, id, local, placement) === owner) this.tell(local.name, id, owner, true)
      }
    }
  }

  /** Tells `owner` that worker `id`, which it spilled here, is live here (or not, any more). */
  tell (pool: string, id: string, owner: string, live: boolean): void {
    try {
      this.c.transport.cast(owner, encodeSpillNote({ pool, id, live }))
    } catch {
      // a full queue to the owner: its pointer stays, and the next spilled message asks again
    }
  }
}
