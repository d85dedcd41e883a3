import {
  DEFAULT_CALL_TIMEOUT_MS, ForbiddenError, InvalidMessageError, InvalidOptionError, NodeUnavailableError, SPAWN_BATCHES_IN_FLIGHT, UnknownPoolError, nextTurn
} from '@simplepool/core'
import type { Clock, Member } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { LocalPool } from '../activation/local-pool.js'
import { checkId, checkSignal, timeoutOf } from '../options.js'
import type { AbortOptions } from '../options.js'
import { Op } from '../protocol/ops.js'
import { encodeCall, encodeCast, encodeCount, encodeSpawn, encodeSpawnMany, encodeWorker } from '../protocol/worker-messages.js'
import type { RefCallOptions, RefTarget, SendOptions } from '../ref.js'
import type { CountOptions, RoutingStats, RuntimeTransport, SpawnManyOptions, SpawnMode, SpawnOptions, WorkerLocation } from '../runtime-types.js'
import type { LocalRequests } from './local-requests.js'
import type { Owners } from './owners.js'
import type { Spill } from './spill.js'
import { heldCall } from './send-order.js'
import type { SendOrder } from './send-order.js'

/** What sending from this node's API needs of the node. */
export interface OutboundComponents {
  readonly clock: Clock
  readonly transport: RuntimeTransport
  readonly owners: Owners
  readonly spill: Spill
  readonly requests: LocalRequests
  /** A sender's order across a move of its view. */
  readonly order: SendOrder
  /** Node-wide counters (casts dropped). */
  readonly routing: RoutingStats
  self: () => string
  pool: (name: string) => LocalPool | undefined
  placement: () => Placement
  members: () => ReadonlyArray<Readonly<Member>>
  /** Ids per batch of `spawnMany`. */
  spawnBatch: number
  /** Throws `NotStartedError` unless the node runs. */
  requireRunning: () => void
  /** Trips the stall guard if the event loop stood still: before anything that saves. */
  checkStall: () => void
  /** Whether this node's own access rules let it send calls and casts to `pool` on other nodes. */
  maySend: (pool: string) => boolean
  /** With access rules, whether a member may host `pool`: only those hold its workers, and only those are asked to count them. */
  mayHost?: (peer: string, pool: string) => boolean
}

/**
 * The requests this node's API makes of workers (and what every `WorkerRef` sends
 * through): each looks its worker's owner up on this node's ring (cached per ring) and
 * goes straight into the mailbox when this node owns it (or to where it spilled), else as
 * one message on the transport to the owner. `whereHere` and a local `count` ask no one.
 */
export class Outbound implements RefTarget {
  private readonly c: OutboundComponents

  constructor (components: OutboundComponents) {
    this.c = components
  }

  /** See {@link WorkerRef.call}. */
  call (pool: string, id: string, msg: unknown, options?: RefCallOptions): Promise<unknown> {
    try {
      this.c.requireRunning()
      checkId(id)
      const local = this.c.pool(pool)
      const timeoutMs = timeoutOf(options, local?.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS)
      const signal = options?.signal
      checkSignal(signal)
      const spawn = options?.spawn !== false
      const placement = this.c.placement()
      const order = this.c.order
      let owner: string | undefined
      // messages of this node's wait in its own copy, which its view no longer names the owner
      let waitingHere = false
      if (local !== undefined) {
        const act = local.activations.get(id)
        if (act !== undefined && act.ownedAt === placement.version) {
          if (!order.active) return this.c.requests.call(local, id, msg, spawn, timeoutMs, signal)
          owner = this.c.self()
        } else waitingHere = act !== undefined && act.queued > 0
      }
      owner ??= this.c.owners.ownerOf(pool, id, local, placement)
      const held = order.active || waitingHere ? order.waitFor(pool, id, local, owner) : undefined
      if (held !== undefined) return heldCall(this.c.clock, held, pool, id, timeoutMs, signal, async (left) => await this.call(pool, id, msg, { ...options, timeoutMs: left }))
      if (owner === this.c.self()) {
        const spilled = this.c.spill.spillOf(local as LocalPool, id, spawn)
        if (spilled === undefined) return this.c.requests.call(local as LocalPool, id, msg, spawn, timeoutMs, signal, placement.version)
        order.sent(spilled)
        const answered = this.c.transport.call(spilled, encodeCall({ pool, id, msg, spawn, hops: 0, timeoutMs, spilled: true }), { timeoutMs, signal })
        return order.noting ? order.callSent(pool, id, spilled, answered) : answered
      }
      this.checkSend(pool, 'call')
      order.sent(owner)
      const answered = this.c.transport.call(owner, encodeCall({ pool, id, msg, spawn, hops: 0, timeoutMs, spilled: false }), { timeoutMs, signal })
      return order.noting ? order.callSent(pool, id, owner, answered) : answered
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** See {@link WorkerRef.cast}. */
  cast (pool: string, id: string, msg: unknown, options?: SendOptions): void {
    this.c.requireRunning()
    checkId(id)
    const local = this.c.pool(pool)
    const placement = this.c.placement()
    const order = this.c.order
    let owner: string | undefined
    // messages of this node's wait in its own copy, which its view no longer names the owner
    let waitingHere = false
    if (local !== undefined) {
      // a worker live here and owned here at this placement version: no ring lookup
      const act = local.activations.get(id)
      if (act !== undefined && act.ownedAt === placement.version) {
        if (!order.active) {
          local.deliverTo(act, null, msg)
          return
        }
        owner = this.c.self()
      } else waitingHere = act !== undefined && act.queued > 0
    }
    const spawn = options?.spawn !== false
    owner ??= this.c.owners.ownerOf(pool, id, local, placement)
    const held = order.active || waitingHere ? order.waitFor(pool, id, local, owner) : undefined
    if (held !== undefined) {
      held.add(() => {
        try {
          this.cast(pool, id, msg, options)
        } catch {
          // one that can no longer go (the node stopped, nobody serves the pool) is lost, and counted as one sent on is
          this.c.routing.droppedCasts++
        }
      }, Infinity, () => { this.c.routing.droppedCasts++ })
      return
    }
    if (owner !== this.c.self()) {
      this.checkSend(pool, 'cast')
      order.sent(owner)
      if (order.noting) order.castSent(pool, id, owner)
      this.c.transport.cast(owner, encodeCast({ pool, id, msg, spawn, hops: 0, spilled: false }))
      return
    }
    const spilled = this.c.spill.spillOf(local as LocalPool, id, spawn)
    if (spilled === undefined) (local as LocalPool).deliver(id, null, msg, spawn).ownedAt = placement.version
    else {
      order.sent(spilled)
      if (order.noting) order.castSent(pool, id, spilled)
      this.c.transport.cast(spilled, encodeCast({ pool, id, msg, spawn, hops: 0, spilled: true }))
    }
  }

  /**
   * Fails with `ForbiddenError` when this node's own access rules do not let it send to
   * `pool`: the owner, configured alike, would refuse it, and a cast would be lost unseen.
   */
  private checkSend (pool: string, op: 'call' | 'cast'): void {
    if (this.c.maySend(pool)) return
    const self = this.c.self()
    throw new ForbiddenError(`this node's access rules do not let it (${self}) ${op} pool ${pool}`, { node: self, peer: self, pool, op })
  }

  /**
   * Activates a worker on its owner; see {@link SpawnOptions}. Resolves with where it lives,
   * or null for `lazy`. Not `async`: a worker this node starts at once answers with a
   * settled promise, with no extra turns of the microtask queue (a million spawns one by one
   * are a million of them); what is thrown here rejects the promise all the same.
   */
  spawn (pool: string, id: string, options: SpawnOptions = {}): Promise<WorkerLocation | null> {
    try {
      this.c.requireRunning()
      checkId(id)
      const mode = this.modeOf(options)
      const local = this.c.pool(pool)
      const owner = this.c.owners.ownerOf(pool, id, local)
      if (mode === 'lazy') return Promise.resolve(null)
      const timeoutMs = timeoutOf(options, DEFAULT_CALL_TIMEOUT_MS)
      checkSignal(options.signal)
      const sync = mode === 'sync'
      // started here: no call options, no message
      const spilled = owner === this.c.self() ? this.c.spill.spillOf(local as LocalPool, id, true) : undefined
      if (owner === this.c.self() && spilled === undefined) return this.c.requests.spawn(local as LocalPool, id, sync, timeoutMs, options.signal)
      const to = spilled ?? owner
      return this.c.transport.call(to, encodeSpawn({ pool, id, hops: 0, sync, spilled: spilled !== undefined }), { timeoutMs, signal: options.signal }) as Promise<WorkerLocation>
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Activates many workers: ids are grouped by owner into batches, remote batches go as
   * one message each (a few in flight), and the event loop is yielded between batches, so
   * 100,000 ids never stall this node or their owners. Resolves with the number of ids
   * live at the end (for `lazy`, 0: nothing is activated).
   */
  async spawnMany (pool: string, ids: readonly string[], options: SpawnManyOptions = {}): Promise<number> {
    this.c.requireRunning()
    if (!Array.isArray(ids)) throw new InvalidOptionError(`ids must be an array of strings, got ${typeof ids}`)
    for (const id of ids) checkId(id)
    const mode = this.modeOf(options)
    const local = this.c.pool(pool)
    if (local === undefined && !this.c.placement().has(pool)) throw new UnknownPoolError(`no node runs pool ${String(pool)}`, { pool })
    if (mode === 'lazy') return 0
    const timeoutMs = timeoutOf(options, DEFAULT_CALL_TIMEOUT_MS)
    const signal = options.signal
    const sync = mode === 'sync'
    let done = 0
    let live = 0
    // the first batch to fail fails the whole call, once every batch in flight has settled
    let failed: Error | undefined
    const inFlight = new Set<Promise<void>>()
    try {
      for (let i = 0; i < ids.length && failed === undefined; i += this.c.spawnBatch) {
        checkSignal(signal)
        const chunk = ids.slice(i, i + this.c.spawnBatch)
        for (const [owner, group] of this.c.owners.groupByOwner(pool, chunk, local)) {
          if (owner === this.c.self()) {
            // not `live += await ...`: that reads `live` before the await and would drop what
            // remote batches added meanwhile
            const n = await this.c.requests.spawnMany(local as LocalPool, group, sync, timeoutMs)
            live += n
            continue
          }
          const tracked: Promise<void> = (this.c.transport.call(owner, encodeSpawnMany({ pool, ids: group, sync, hops: 0, spilled: false }), { timeoutMs, signal }) as Promise<number>)
            .then((n) => { live += n }, (err) => { failed ??= err as Error })
            .finally(() => { inFlight.delete(tracked) })
          inFlight.add(tracked)
          if (inFlight.size >= SPAWN_BATCHES_IN_FLIGHT) await Promise.race(inFlight)
        }
        done += chunk.length
        options.onProgress?.(done, ids.length)
        await nextTurn(this.c.clock)
      }
    } finally {
      await Promise.all(inFlight)
    }
    if (failed !== undefined) throw failed
    return live
  }

  /** Where worker `id` is live, or null. Never activates it. */
  async where (pool: string, id: string, options: AbortOptions = {}): Promise<WorkerLocation | null> {
    this.c.requireRunning()
    checkId(id)
    const local = this.c.pool(pool)
    const owner = this.c.owners.ownerOf(pool, id, local)
    if (owner === this.c.self()) {
      const spilled = this.c.spill.spillOf(local as LocalPool, id, false)
      if (spilled === undefined) return this.c.requests.where(local as LocalPool, id, owner)
      return await (this.c.transport.call(spilled, encodeWorker({ op: Op.Where, pool, id, hops: 0, spilled: true }), this.callOptions(options)) as Promise<WorkerLocation | null>)
    }
    return await (this.c.transport.call(owner, encodeWorker({ op: Op.Where, pool, id, hops: 0, spilled: false }), this.callOptions(options)) as Promise<WorkerLocation | null>)
  }

  /**
   * Worker `id` as it lives on this node (epoch, mailbox, why it is here), or null; asks no
   * other node. `where` asks the owner, which does not know of a copy that waits to be
   * handed to it: an operator looking for a worker asks every node this.
   */
  whereHere (pool: string, id: string): WorkerLocation | null {
    this.c.requireRunning()
    checkId(id)
    const local = this.c.pool(pool)
    if (local === undefined) throw new UnknownPoolError(`node ${this.c.self()} does not run pool ${pool}`, { pool })
    return this.c.requests.where(local, id, this.c.owners.ownerIn(pool, id, local, this.c.placement()) ?? this.c.self())
  }

  /**
   * Saves and deactivates worker `id` after the messages queued before this request.
   * Resolves true when a live worker was stopped, false when none was live.
   */
  async stopWorker (pool: string, id: string, options: AbortOptions = {}): Promise<boolean> {
    this.c.requireRunning()
    // it saves: after a stall, not before the others said whether this node was replaced
    this.c.checkStall()
    checkId(id)
    const local = this.c.pool(pool)
    const owner = this.c.owners.ownerOf(pool, id, local)
    const opts = this.callOptions(options)
    if (owner === this.c.self()) {
      const spilled = this.c.spill.spillOf(local as LocalPool, id, false)
      if (spilled === undefined) return await this.c.requests.stop(local as LocalPool, id, opts.timeoutMs, opts.signal)
      return await (this.c.transport.call(spilled, encodeWorker({ op: Op.Stop, pool, id, hops: 0, spilled: true }), opts) as Promise<boolean>)
    }
    return await (this.c.transport.call(owner, encodeWorker({ op: Op.Stop, pool, id, hops: 0, spilled: false }), opts) as Promise<boolean>)
  }

  /**
   * Workers of `pool`: on this node with `local`, else exact over the cluster by asking
   * every member that is not down. A member that does not answer fails the count with
   * `NodeUnavailableError` rather than give a wrong number.
   */
  async count (pool: string, options: CountOptions = {}): Promise<number> {
    const local = this.c.pool(pool)
    if (options.local === true) {
      if (local === undefined) throw new UnknownPoolError(`this node does not run pool ${String(pool)}`, { pool })
      return local.activations.size
    }
    if (local === undefined && !this.c.placement().has(pool)) throw new UnknownPoolError(`no node runs pool ${String(pool)}`, { pool })
    const opts = this.callOptions(options)
    const self = this.c.self()
    const mayHost = this.c.mayHost
    const parts = this.c.members()
      .filter(m => m.liveness !== 'down' && (m.peerId === self || (m.pools[pool] !== undefined && mayHost?.(m.peerId, pool) !== false)))
      .map(async (m) => {
        if (m.peerId === self) return local?.activations.size ?? 0
        let n: unknown
        try {
          n = await this.c.transport.call(m.peerId, encodeCount({ pool }), opts)
        } catch (err) {
          const e = err as Error
          if (e.name === 'UnknownPoolError') return 0
          throw new NodeUnavailableError(`count of ${pool} is incomplete: ${m.peerId} did not answer (${e.name}: ${e.message})`, { peer: m.peerId })
        }
        if (!Number.isSafeInteger(n) || (n as number) < 0) throw new InvalidMessageError(`count of ${pool}: ${m.peerId} answered ${typeof n}, not a count`, { peer: m.peerId })
        return n as number
      })
    const counts = await Promise.all(parts)
    return counts.reduce((a, b) => a + b, 0)
  }

  private callOptions (options: AbortOptions): { timeoutMs: number, signal?: AbortSignal } {
    checkSignal(options.signal)
    return { timeoutMs: timeoutOf(options, DEFAULT_CALL_TIMEOUT_MS), signal: options.signal }
  }

  private modeOf (options: SpawnOptions): SpawnMode {
    const mode = options.mode ?? 'sync'
    if (mode !== 'sync' && mode !== 'async' && mode !== 'lazy') throw new InvalidOptionError(`mode must be 'sync', 'async' or 'lazy', got ${String(mode)}`)
    return mode
  }
}
