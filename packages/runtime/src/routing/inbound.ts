import { DEFAULT_CALL_TIMEOUT_MS, NodeUnavailableError, ORDER_WINDOW_MS, TimeoutError, UnknownPoolError, nextTurn } from '@simplepool/core'
import type { Clock, Logger } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { LocalPool } from '../activation/local-pool.js'
import { NOT_NOW } from '../activation/local-pool.js'
import { BARRIER } from '../activation/activation.js'
import { isolatedError } from '../fencing/quorum.js'
import type { Activation } from '../activation/activation.js'
import { newReply } from '../activation/replies.js'
import { Op } from '../protocol/ops.js'
import { encodeBarrier, encodeCall, encodeCast, encodeSpawn, encodeSpawnMany, encodeWorker } from '../protocol/worker-messages.js'
import type { BarrierMessage, CallMessage, CastMessage, CountMessage, SpawnManyMessage, SpawnMessage, WorkerMessage } from '../protocol/worker-messages.js'
import type { RoutingStats, RuntimeTransport, WorkerLocation } from '../runtime-types.js'
import type { Forwarding } from './forwarding.js'
import type { LocalRequests } from './local-requests.js'
import type { Owners } from './owners.js'
import type { SendOrder } from './send-order.js'
import type { Spill } from './spill.js'
import type { ViewWait } from './view-wait.js'

/** What answering other nodes needs of the node. */
export interface InboundComponents {
  readonly clock: Clock
  readonly logger: Logger
  readonly transport: RuntimeTransport
  readonly owners: Owners
  readonly spill: Spill
  readonly forwarding: Forwarding
  readonly requests: LocalRequests
  /** This node's order across moves of its view: what it sends on keeps it too (see `SendOrder.onward`). */
  readonly order: SendOrder
  /** Messages that would go straight back where they came from, waiting for this node's view to move. */
  readonly viewWait: ViewWait
  /** True when this node owned `id` in a placement replaced within `withinMs`: its view moved away from it lately. */
  ownedHereBefore: (pool: string, id: string, local: LocalPool | undefined, withinMs: number) => boolean
  /** Node-wide counters (casts dropped). */
  readonly routing: RoutingStats
  self: () => string
  placement: () => Placement
  /** This node's pools by name. */
  pools: ReadonlyMap<string, LocalPool>
  /** Active while this node, back from a stall, finds out whether its activations are stale: no turn runs at once. */
  fence: {
    readonly active: boolean
    /** Settles when the fencing under way is over. */
    readonly settled: Promise<void>
    /** Whether the last stall had this node marked down by the others. */
    readonly markedDown: boolean
    /** Active because this node heard no majority of the cluster: calls to its workers fail at once. */
    readonly isolated: boolean
    /** Whether it holds this pool's workers now (an `available` pool's serve while the node is cut off). */
    holds: (pool: LocalPool | undefined) => boolean
  }
  /** Ids per local batch of a `SpawnMany`, between which the event loop is yielded. */
  spawnBatch: number
}

/** A message from `from` for `live` (if any) was sent on from here to `to`: see {@link Inbound.staysWith}. */
function sentOn (live: Activation | undefined, to: string, from: string): void {
  if (live === undefined) return
  const ext = live.extra()
  if (ext.sentOnTo !== to || ext.sentOnFor === null) {
    ext.sentOnTo = to
    ext.sentOnFor = [from]
  } else if (!ext.sentOnFor.includes(from)) ext.sentOnFor.push(from)
}

/** A message from `from` for `live` (if any) stays here: what `from` sends next follows it, not those it sent on before (seed 3344). */
function keptHere (live: Activation | undefined, from: string): void {
  const ext = live?.ext
  if (ext?.sentOnFor?.includes(from) === true) ext.sentOnFor = ext.sentOnFor.filter(n => n !== from)
}

/** Where a message from another node goes: here, on to where its worker spilled, or on to the owner this node sees. */
type Arrival = 'here' | 'spill' | 'forward'

/**
 * Messages from other nodes to workers: delivered here when this node owns the worker
 * in its view (or its owner spilled it here), sent on to where it spilled, or forwarded
 * to the owner this node sees.
 */
export class Inbound {
  private readonly c: InboundComponents

  constructor (components: InboundComponents) {
    this.c = components
  }

  /**
   * A call: answered here (at once when its worker is idle), or sent on; or it waits for
   * this node's view (see ViewWait; `until`: the end of a wait it began before).
   */
  call (m: CallMessage, from: string, now: number, until?: number): unknown {
    const c = this.c
    const local = c.pools.get(m.pool)
    if (c.fence.holds(local)) return c.fence.isolated ? Promise.reject(isolatedError(c.self(), m.pool, m.id)) : this.afterStall(m, from, now)
    if (c.viewWait.has(m.pool, m.id)) return this.waitCall(m, from, now, until) as Promise<unknown>
    const placement = c.placement()
    const live = local?.activations.get(m.id)
    let version: number | undefined = placement.version
    if (this.staysWith(live, local, m.hops, from, placement)) {
      // owned here at this version: no ring lookup, as for a local call; at another (it stays
      // for another reason), the next message looks again
      if (live.ownedAt !== version) version = undefined
    } else {
      const owner = c.owners.ownerOf(m.pool, m.id, local, placement)
      const to = this.arrival(local, m.pool, m.id, owner, from, m.spilled, m.spawn)
      if (to !== 'here') {
        const waits = this.backWhence(to, owner, from, m.hops, live, m.pool, m.id, local) ? this.waitCall(m, from, now, until) : undefined
        if (waits !== undefined) return waits
        const next = this.next(to, m.pool, m.id, owner, from)
        sentOn(live, next, from)
        return c.order.callSent(m.pool, m.id, next, this.onward(to, m, encodeCall, from, local, owner, m.timeoutMs, next))
      }
      // a worker spilled here is not owned here: the next message looks again
      if (owner !== c.self()) version = undefined
    }
    const timeoutMs = Math.max(1, m.timeoutMs)
    keptHere(live, from)
    if (!c.fence.holds(local)) {
      const answer = (local as LocalPool).callNow(m.id, m.msg, m.spawn, now + timeoutMs, version)
      if (answer !== NOT_NOW) return answer
    }
    // sent on by another node (hops > 0): one the worker is being claimed from queues it ahead
    return c.requests.call(local as LocalPool, m.id, m.msg, m.spawn, timeoutMs, undefined, version, m.hops > 0 ? from : undefined)
  }

  /**
   * A call read while fencing arrived during the stall (the kernel kept it): whether it
   * may still run, or be sent on, depends on what the others did meanwhile. If they
   * marked this node down, its caller was told the call failed (and may have sent the
   * next one to the new owner): it is refused, never run late and out of its order.
   * Otherwise it goes on as it would have, within what is left of its deadline.
   */
  private async afterStall (m: CallMessage, from: string, arrived: number): Promise<unknown> {
    const c = this.c
    await c.fence.settled
    if (c.fence.markedDown) throw new NodeUnavailableError(`node ${c.self()} was marked down while it stood still; the call to ${m.pool}/${m.id} was not run`, { node: c.self() })
    const now = c.clock.monotonic()
    // whole ms: a call sent on carries its deadline as an integer (a monotonic clock's ms are not)
    const left = Math.floor(m.timeoutMs - (now - arrived))
    if (left <= 0) throw new TimeoutError(`the call to ${m.pool}/${m.id} waited out its deadline while node ${c.self()} stood still`, { pool: m.pool, id: m.id })
    return await this.call({ ...m, timeoutMs: left }, from, now)
  }

  /** A cast's wait for this node's view (see ViewWait): routed again when it ends; false when it may not wait. */
  private waitCast (m: CastMessage, from: string, until?: number): boolean {
    return this.c.viewWait.hold(m.pool, m.id, (end) => { this.cast(m, from, end) }, Infinity, undefined, until)
  }

  /** A call's wait for this node's view (see ViewWait); undefined when it may not wait. */
  private waitCall (m: CallMessage, from: string, arrived: number, until?: number): Promise<unknown> | undefined {
    return this.waitAnswered(m, arrived, until, (left, now, end) => this.call({ ...m, timeoutMs: left }, from, now, end))
  }

  /** A barrier's wait for this node's view (see ViewWait); undefined when it may not wait. */
  private waitBarrier (m: BarrierMessage, from: string, arrived: number, until?: number): Promise<unknown> | undefined {
    return this.waitAnswered(m, arrived, until, (left, now, end) => this.barrier({ ...m, timeoutMs: left }, from, now, end))
  }

  /**
   * A wait for this node's view (see ViewWait) of a message answered by `again`, routed
   * again with what is left of its deadline (`TimeoutError` when nothing is); undefined
   * when it may not wait.
   */
  private waitAnswered (m: { pool: string, id: string, timeoutMs: number }, arrived: number, until: number | undefined, again: (left: number, now: number, end: number) => unknown): Promise<unknown> | undefined {
    const c = this.c
    const deadline = arrived + Math.max(1, m.timeoutMs)
    let settle: ((value: unknown) => void) | undefined
    let fail: ((err: Error) => void) | undefined
    const answer = new Promise((resolve, reject) => { settle = resolve; fail = reject })
    const late = (): TimeoutError => new TimeoutError(`a message to ${m.pool}/${m.id} timed out on node ${c.self()} while its view of the ring caught up`, { pool: m.pool, id: m.id })
    const held = c.viewWait.hold(m.pool, m.id, (end) => {
      const now = c.clock.monotonic()
      const left = Math.floor(deadline - now)
      if (left <= 0) return fail?.(late())
      try {
        Promise.resolve(again(left, now, end)).then(settle, fail)
      } catch (err) {
        fail?.(err as Error)
      }
    }, deadline, () => fail?.(late()), until)
    return held ? answer : undefined
  }

  /**
   * True when a message sent on to this node (`hops` > 0) for a worker not live here
   * would go straight back to the node that sent it: that node's view names this one as
   * the owner and this node's names that one, so it waits for this node's view to move
   * (see ViewWait). A worker live here is another matter: this node holds it, its view
   * names where it goes, and what follows it there is ordered by the handoff (a message
   * from the node a worker is claimed from goes ahead of the others). So is a node that
   * owned the worker lately: its view moved away from itself (a drain, a stop, a target),
   * which it knows first, and it is the sender's view that is behind (seed 151715).
   */
  private backWhence (to: Arrival, owner: string, from: string, hops: number, live: Activation | undefined, pool: string, id: string, local: LocalPool | undefined): boolean {
    return to === 'forward' && hops > 0 && owner === from && live === undefined && !this.c.ownedHereBefore(pool, id, local, ORDER_WINDOW_MS)
  }

  /** A cast: delivered here, or sent on, or it waits for this node's view (see ViewWait). One that cannot be delivered is counted, never thrown back. */
  cast (m: CastMessage, from: string, until?: number): void {
    const c = this.c
    if (c.fence.holds(c.pools.get(m.pool))) {
      // cut off from a majority: no turn now, as a call gets NodeIsolatedError at once. Kept
      // for the fence, it ran (or went on) however late the majority came back, behind what
      // its sender sent since to the worker's owner (seed 996)
      if (c.fence.isolated) {
        c.routing.droppedCasts++
        return
      }
      // read while fencing, as a call is (see afterStall): lost, and counted, if this node was marked down
      c.fence.settled.then(() => {
        if (!c.fence.markedDown) this.cast(m, from)
        else c.routing.droppedCasts++
      }, () => { c.routing.droppedCasts++ })
      return
    }
    try {
      if (c.viewWait.has(m.pool, m.id)) {
        this.waitCast(m, from, until)
        return
      }
      const local = c.pools.get(m.pool)
      const placement = c.placement()
      const live = local?.activations.get(m.id)
      // live and owned here at this placement version (no ring lookup, as for a local send),
      // or it stays with the worker for another reason (see staysWith)
      if (this.staysWith(live, local, m.hops, from, placement)) {
        keptHere(live, from)
        ;(local as LocalPool).deliverTo(live, null, m.msg, m.hops > 0 ? from : undefined)
        return
      }
      const owner = c.owners.ownerOf(m.pool, m.id, local, placement)
      const to = this.arrival(local, m.pool, m.id, owner, from, m.spilled, m.spawn)
      if (to === 'here') {
        keptHere(live, from)
        const act = (local as LocalPool).deliver(m.id, null, m.msg, m.spawn, m.hops > 0 ? from : undefined)
        if (owner === c.self()) act.ownedAt = placement.version
        return
      }
      if (this.backWhence(to, owner, from, m.hops, live, m.pool, m.id, local) && this.waitCast(m, from, until)) return
      if (!c.forwarding.mayForward(m.hops)) throw new NodeUnavailableError(`no agreed owner for ${m.pool}/${m.id} after ${m.hops} hops`)
      const next = this.next(to, m.pool, m.id, owner, from)
      sentOn(live, next, from)
      c.order.sent(next)
      c.order.castSent(m.pool, m.id, next)
      if (to === 'forward') c.forwarding.noteForward(from, m.pool, owner, local)
      c.transport.cast(next, encodeCast({ ...m, hops: m.hops + 1, spilled: to === 'spill' }))
    } catch (err) {
      c.routing.droppedCasts++
      const e = err as Error
      c.logger.debug?.(`dropped a cast to ${m.pool}/${m.id} from ${from}: ${e.name}: ${e.message}`)
    }
  }

  /** A spawn: answered here, or sent on. */
  spawn (m: SpawnMessage, from: string): Promise<WorkerLocation> | Promise<unknown> {
    const c = this.c
    const local = c.pools.get(m.pool)
    const owner = c.owners.ownerOf(m.pool, m.id, local)
    const to = this.arrival(local, m.pool, m.id, owner, from, m.spilled, true)
    if (to !== 'here') return this.onward(to, m, encodeSpawn, from, local, owner, DEFAULT_CALL_TIMEOUT_MS)
    return c.requests.spawn(local as LocalPool, m.id, m.sync, DEFAULT_CALL_TIMEOUT_MS)
  }

  /** A where or a stop: answered here (a worker spilled here by its owner too: it starts nothing), or sent on. */
  worker (m: WorkerMessage, from: string): unknown {
    const c = this.c
    const local = c.pools.get(m.pool)
    const owner = c.owners.ownerOf(m.pool, m.id, local)
    const to = this.arrival(local, m.pool, m.id, owner, from, m.spilled, false)
    if (to !== 'here') return this.onward(to, m, encodeWorker, from, local, owner, DEFAULT_CALL_TIMEOUT_MS)
    if (m.op === Op.Where) return c.requests.where(local as LocalPool, m.id, owner)
    return c.requests.stop(local as LocalPool, m.id, DEFAULT_CALL_TIMEOUT_MS)
  }

  /** Many spawns: the ids this node owns start here (in batches, yielding between them), the others go on to their owners. */
  async spawnMany (m: SpawnManyMessage, from: string): Promise<number> {
    const c = this.c
    const local = c.pools.get(m.pool)
    if (m.spilled && local !== undefined) {
      // spilled here by their owner: the ids this node takes, counted against its hard limit as it goes
      const here: string[] = []
      let room = local.hardLimit - local.activations.size
      for (const id of m.ids) {
        if (local.activations.has(id)) {
          here.push(id)
          continue
        }
        if (room <= 0) {
          c.spill.tell(m.pool, id, from, false)
          continue
        }
        try {
          if (c.spill.accept(local, m.pool, id, from, true)) {
            here.push(id)
            room--
          }
        } catch {
          // refused, and the owner told
        }
      }
      return await c.requests.spawnMany(local, here, m.sync, DEFAULT_CALL_TIMEOUT_MS, from)
    }
    let live = 0
    const self = c.self()
    for (const [owner, group] of c.owners.groupByOwner(m.pool, m.ids, local)) {
      if (owner === self) {
        for (let i = 0; i < group.length; i += c.spawnBatch) {
          const n = await c.requests.spawnMany(local as LocalPool, group.slice(i, i + c.spawnBatch), m.sync, DEFAULT_CALL_TIMEOUT_MS)
          live += n
          if (i + c.spawnBatch < group.length) await nextTurn(c.clock)
        }
      } else {
        const n = await (c.forwarding.forward(from, local, m.pool, owner, m.hops, DEFAULT_CALL_TIMEOUT_MS, encodeSpawnMany({ ...m, ids: group, hops: m.hops + 1, spilled: false })) as Promise<number>)
        live += n
      }
    }
    return live
  }

  /**
   * A sender's barrier (see SendOrder): it goes where a message to its worker would go
   * (see cast), and is answered when it reaches the head of the worker's mailbox; at once
   * where the worker is not live and this node owns it (nothing sent before it waits
   * here). Read while fencing (after a stall, or cut off from a majority), it waits as a
   * cast does, and fails if this node was marked down.
   */
  barrier (m: BarrierMessage, from: string, now: number, until?: number): unknown {
    const c = this.c
    // isolated too, while the worker has messages waiting here: a barrier refused would let
    // what it holds go ahead of them (seed 150849); with none, what its sender sent this way
    // was refused or dropped (see cast), and the barrier is refused at once
    const local = c.pools.get(m.pool)
    const fenced = c.fence.holds(local)
    if (fenced && c.fence.isolated && (local?.activations.get(m.id)?.queued ?? 0) === 0) {
      return Promise.reject(isolatedError(c.self(), m.pool, m.id))
    }
    if (fenced) {
      return c.fence.settled.then(() => {
        if (c.fence.markedDown) throw new NodeUnavailableError(`node ${c.self()} was marked down while it stood still`, { node: c.self() })
        return this.barrier(m, from, c.clock.monotonic())
      })
    }
    if (c.viewWait.has(m.pool, m.id)) return this.waitBarrier(m, from, now, until) as Promise<unknown>
    const placement = c.placement()
    const live = local?.activations.get(m.id)
    const queue = (act: Activation): Promise<unknown> => new Promise((resolve, reject) => {
      keptHere(act, from)
      ;(local as LocalPool).deliverTo(act, BARRIER, newReply(now + Math.max(1, m.timeoutMs), resolve, reject), m.hops > 0 ? from : undefined)
    })
    if (this.staysWith(live, local, m.hops, from, placement)) return queue(live)
    const owner = c.owners.ownerOf(m.pool, m.id, local, placement)
    const to = this.arrival(local, m.pool, m.id, owner, from, m.spilled, false)
    if (to === 'here') return live === undefined ? true : queue(live)
    if (this.backWhence(to, owner, from, m.hops, live, m.pool, m.id, local)) {
      const waits = this.waitBarrier(m, from, now, until)
      if (waits !== undefined) return waits
    }
    const next = this.next(to, m.pool, m.id, owner, from)
    sentOn(live, next, from)
    return this.onward(to, m, encodeBarrier, from, local, owner, m.timeoutMs, next)
  }

  /** Workers of a pool on this node. */
  count (m: CountMessage): number {
    const local = this.c.pools.get(m.pool)
    if (local === undefined) throw new UnknownPoolError(`node ${this.c.self()} does not run pool ${m.pool}`, { pool: m.pool })
    return local.activations.size
  }

  /**
   * Sends a request on, one hop more: to the node its worker spilled to (flagged
   * `spilled`, no stale route to report), or to the owner this node sees (with a hint to
   * the sender). Resolves with that node's answer.
   */
  private onward<M extends { pool: string, id: string, hops: number, spilled: boolean }> (to: 'spill' | 'forward', m: M, encode: (m: M) => unknown[], from: string, local: LocalPool | undefined, owner: string, timeoutMs: number, next = owner): Promise<unknown> {
    const c = this.c
    const payload = encode({ ...m, hops: m.hops + 1, spilled: to === 'spill' })
    if (to === 'spill') return c.forwarding.relay(c.spill.pointer(m.pool, m.id) as string, m.pool, m.hops, timeoutMs, payload)
    c.order.sent(next)
    return c.forwarding.forward(from, local, m.pool, owner, m.hops, timeoutMs, payload, next)
  }

  /** Where a message to `pool`/`id` from `from` is sent on to: where its worker spilled, or its owner (or the route before, see `SendOrder.onward`). */
  private next (to: 'spill' | 'forward', pool: string, id: string, owner: string, from: string): string {
    return to === 'spill' ? this.c.spill.pointer(pool, id) as string : this.c.order.onward(pool, id, owner, from)
  }

  /**
   * Whether a message from `from` for a live worker goes to it here, whatever this node's
   * ring says: it is owned here at this placement version; or the message was sent back by
   * the claimer it is held for (its ring moved back); or it would go behind messages that
   * wait for it here (they follow it, in order, wherever it goes; sent on now, it would run
   * at its new owner ahead of them), unless its sender's messages for it were sent on from
   * here to its owner now already (what waits came after them: this one follows them, not
   * it). Another sender's messages sent on there do not take it along: what waits here may
   * be its sender's, and it would overtake them (seed 3344: a barrier sent on after another
   * node's message passed at the new owner while the call it was sent behind waited here).
   */
  private staysWith (live: Activation | undefined, local: LocalPool | undefined, hops: number, from: string, placement: Placement): live is Activation {
    if (live === undefined) return false
    if (live.ownedAt === placement.version || (hops > 0 && live.ext?.heldFor === from)) return true
    if (live.queued === 0) return false
    const sentTo = live.ext?.sentOnTo ?? null
    return sentTo === null || live.ext?.sentOnFor?.includes(from) !== true || sentTo !== this.c.owners.ownerIn(live.pool, live.id, local, placement)
  }

  /** Where a message from `from` goes; `spilled`: its owner spilled it here. */
  private arrival (local: LocalPool | undefined, pool: string, id: string, owner: string, from: string, spilled: boolean, activates: boolean): Arrival {
    const c = this.c
    if (owner === c.self()) return c.spill.spillOf(local as LocalPool, id, activates) === undefined ? 'here' : 'spill'
    return spilled && c.spill.accept(local, pool, id, from, activates) ? 'here' : 'forward'
  }
}
