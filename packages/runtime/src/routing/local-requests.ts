import type { Clock } from '@simplepool/core'
import { Phase, SPAWNED } from '../activation/activation.js'
import type { Activation } from '../activation/activation.js'
import type { LocalPool } from '../activation/local-pool.js'
import { isolatedError } from '../fencing/quorum.js'
import { newReply, refuse } from '../activation/replies.js'
import { encodeSpawnMany } from '../protocol/worker-messages.js'
import type { RuntimeTransport, WorkerLocation } from '../runtime-types.js'
import type { Spill } from './spill.js'

/** What requests to local workers need of the node. */
export interface LocalRequestsComponents {
  readonly clock: Clock
  readonly transport: RuntimeTransport
  readonly spill: Spill
  self: () => string
  /** True while this node heard no majority of the cluster (see QuorumLease) and `pool` is a safe one: calls and spawns to it here fail at once. */
  isolated: (pool: LocalPool) => boolean
}

/**
 * Requests that routing decided this node answers: a call, a spawn, a where, a stop,
 * whether they came from this node's API or from another node. Each waits on its worker
 * as one {@link Reply}, with its deadline and its caller's signal.
 */
export class LocalRequests {
  private readonly c: LocalRequestsComponents

  constructor (components: LocalRequestsComponents) {
    this.c = components
  }

  /** A call to worker `id`; `version`, when given, is the placement version at which this node owns it. */
  call (local: LocalPool, id: string, msg: unknown, spawn: boolean, timeoutMs: number, signal?: AbortSignal, version?: number, via?: string): Promise<unknown> {
    if (this.c.isolated(local)) return Promise.reject(isolatedError(this.c.self(), local.name, id))
    return new Promise((resolve, reject) => {
      const reply = newReply(this.c.clock.monotonic() + timeoutMs, resolve, reject, signal)
      try {
        const act = local.deliver(id, reply, msg, spawn, via)
        if (version !== undefined) act.ownedAt = version
      } catch (err) {
        refuse(reply, err as Error)
      }
    })
  }

  /** Activates worker `id`: answers once it is accepted, or with `sync` once `load`/`init` ran. */
  spawn (local: LocalPool, id: string, sync: boolean, timeoutMs: number, signal?: AbortSignal): Promise<WorkerLocation> {
    if (this.c.isolated(local)) return Promise.reject(isolatedError(this.c.self(), local.name, id))
    let act: Activation
    try {
      act = local.ensure(id)
    } catch (err) {
      return Promise.reject(err)
    }
    // a worker that is saving on its way out answers for the activation after it
    const waits = act.phase === Phase.Stopping || (sync && act.phase === Phase.Activating)
    // started (or live) already: no reply to wait on, nothing on the deadline wheel
    if (!waits) return Promise.resolve({ node: this.c.self(), epoch: act.epoch })
    return new Promise((resolve, reject) => {
      const reply = newReply(this.c.clock.monotonic() + timeoutMs, resolve, reject, signal)
      try {
        local.deliverTo(act, SPAWNED, reply)
      } catch (err) {
        refuse(reply, err as Error)
      }
    })
  }

  /**
   * Activates ids this node owns (or, with `spilledFrom`, ids their owner spilled here); at
   * the hard limit the rest spill to the next node on the ring, one batch per node.
   * Resolves with how many are live.
   */
  async spawnMany (local: LocalPool, ids: readonly string[], sync: boolean, timeoutMs: number, spilledFrom?: string): Promise<number> {
    const waits: Array<Promise<unknown>> = []
    let live = 0
    let away: Map<string, string[]> | undefined
    for (const id of ids) {
      if (spilledFrom === undefined) {
        const to = this.c.spill.spillOf(local, id, true)
        if (to !== undefined) {
          away ??= new Map()
          const group = away.get(to) ?? []
          group.push(id)
          away.set(to, group)
          continue
        }
      }
      try {
        const act = local.ensure(id)
        if (act.phase === Phase.Stopping || (sync && act.phase === Phase.Activating)) waits.push(this.spawn(local, id, true, timeoutMs))
        else live++
      } catch {
        // its failure is counted and reported by the pool; the others go on
      }
    }
    const spilled = [...(away ?? [])].map(async ([to, group]) =>
      await (this.c.transport.call(to, encodeSpawnMany({ pool: local.name, ids: group, sync, hops: 0, spilled: true }), { timeoutMs }) as Promise<number>))
    for (const r of await Promise.allSettled(waits)) if (r.status === 'fulfilled') live++
    for (const r of await Promise.allSettled(spilled)) if (r.status === 'fulfilled') live += r.value
    return live
  }

  /** Worker `id` as it lives here: its epoch, mailbox, and why it is here (`owner`: the ring's owner as this node sees it). */
  where (local: LocalPool, id: string, owner: string): WorkerLocation | null {
    const act = local.activations.get(id)
    if (act === undefined) return null
    const self = this.c.self()
    const why = act.phase === Phase.Migrating ? 'handoff' : this.c.spill.spilledFrom(local.name, id) !== undefined ? 'spill' : owner !== self ? 'handoff' : 'owner'
    // where its state went after its last turn (a replicated pool's successors)
    const replicas = act.rep?.to
    return { node: self, epoch: act.epoch, mailbox: act.queued, why, owner, ...(replicas != null && replicas.length > 0 ? { replicas: [...replicas] } : {}) }
  }

  /** Saves and deactivates worker `id` after what is queued before; true when one was live. */
  stop (local: LocalPool, id: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const reply = newReply(this.c.clock.monotonic() + timeoutMs, resolve, reject, signal)
      try {
        local.passivation.stop(id, reply)
      } catch (err) {
        refuse(reply, err as Error)
      }
    })
  }
}
