import { InvalidMessageError, shown } from '@simplepool/core'
import { CALL_OR_HOST, PoolRight } from '../access/access.js'
import type { Access } from '../access/access.js'
import type { StateSenders } from '../access/state-senders.js'
import type { RefusedOp } from '../events.js'
import type { Fence } from '../fencing/fence.js'
import type { ClaimWindow } from '../handoff/claims.js'
import type { HandoffReceiver } from '../handoff/receiver.js'
import type { Replicator } from '../replication/replicator.js'
import type { Inbound } from '../routing/inbound.js'
import type { Spill } from '../routing/spill.js'
import type { RoutingStats } from '../runtime-types.js'
import { opOf } from './fields.js'
import { decodeClaim, decodeHandoff } from './handoff-messages.js'
import { Op } from './ops.js'
import { decodeReplicaDrop, decodeReplicaGet, decodeReplicaPut } from './replica-messages.js'
import { decodeHint, decodeSpillNote } from './routing-messages.js'
import { decodeBarrier, decodeCall, decodeCast, decodeCount, decodeSpawn, decodeSpawnMany, decodeWorker } from './worker-messages.js'

/** The parts of the node that answer what other nodes send. */
export interface DispatchParts {
  readonly inbound: Inbound
  readonly receiver: HandoffReceiver
  readonly claims: ClaimWindow
  readonly fence: Fence
  readonly spill: Spill
  readonly routing: RoutingStats
  readonly replicator: Replicator
  readonly access: Access
  readonly senders: StateSenders
}

/**
 * What another node sends this node's runtime, decoded, checked against the access rules
 * (on the sender's peer id, as its connection's handshake proved it) and handed to the
 * part that answers it: one switch per kind (calls, casts), the only place that maps an
 * operation to its decoder and to the right it needs. A message that does not decode is
 * refused with `InvalidMessageError`; one its sender has no right to, with
 * `ForbiddenError` (a cast: dropped and counted), before any part of the node sees it.
 */
export class Dispatch {
  constructor (private readonly p: DispatchParts) {}

  /** A runtime call from `from`, read at `now`; the transport sends back what this returns or throws. */
  call (payload: unknown, from: string, now: number): unknown {
    const p = this.p
    switch (opOf(payload)) {
      case Op.Call: {
        const m = decodeCall(payload)
        this.need(from, m.pool, CALL_OR_HOST, 'call')
        return p.inbound.call(m, from, now)
      }
      case Op.Spawn: {
        const m = decodeSpawn(payload)
        this.need(from, m.pool, CALL_OR_HOST, 'spawn')
        return p.inbound.spawn(m, from)
      }
      case Op.Where: {
        const m = decodeWorker(payload)
        this.need(from, m.pool, CALL_OR_HOST, 'where')
        return p.inbound.worker(m, from)
      }
      case Op.Stop: {
        const m = decodeWorker(payload)
        // an operator's stop, or a host sending one on
        if (!p.access.mayOperate(from, 'stop')) this.need(from, m.pool, PoolRight.Host, 'stop')
        return p.inbound.worker(m, from)
      }
      case Op.SpawnMany: {
        const m = decodeSpawnMany(payload)
        this.need(from, m.pool, CALL_OR_HOST, 'spawn')
        return p.inbound.spawnMany(m, from)
      }
      case Op.Count: {
        const m = decodeCount(payload)
        this.need(from, m.pool, CALL_OR_HOST, 'count')
        return p.inbound.count(m)
      }
      case Op.Barrier: {
        const m = decodeBarrier(payload)
        this.need(from, m.pool, CALL_OR_HOST, 'barrier')
        return p.inbound.barrier(m, from, now)
      }
      case Op.HandoffMany: {
        const m = decodeHandoff(payload)
        this.needHolder(from, m.pool, 'handoff')
        // read while fencing, it arrived during the stall: see Fence.unlessMarkedDown
        return p.fence.unlessMarkedDown(`the handoff of ${m.workers.length} workers of ${m.pool}`, () => p.receiver.receive(m, from))
      }
      case Op.ReplicaPut: {
        const m = decodeReplicaPut(payload)
        this.needHolder(from, m.pool, 'replica')
        return p.replicator.onPut(m, from)
      }
      case Op.ReplicaGet: {
        const m = decodeReplicaGet(payload)
        this.need(from, m.pool, PoolRight.Host, 'replica')
        return p.replicator.onGet(m)
      }
      case Op.Claim: {
        const m = decodeClaim(payload)
        this.need(from, m.pool, PoolRight.Host, 'claim')
        return p.fence.afterFence(() => p.claims.answer(m, from))
      }
      default: throw new InvalidMessageError(`unknown runtime operation ${shown((payload as unknown[])[0])}`)
    }
  }

  /** A runtime cast from `from`. */
  cast (payload: unknown, from: string): void {
    const p = this.p
    switch (opOf(payload)) {
      case Op.Cast: {
        const m = decodeCast(payload)
        if (this.may(from, m.pool, CALL_OR_HOST, 'cast')) p.inbound.cast(m, from)
        return
      }
      case Op.Hint:
        if (this.may(from, decodeHint(payload).pool, PoolRight.Host, 'hint')) p.routing.staleRoutes++
        return
      case Op.SpillNote: {
        const m = decodeSpillNote(payload)
        if (this.mayHold(from, m.pool, 'spill')) p.spill.onNote(m, from)
        return
      }
      case Op.ReplicaDrop: {
        const m = decodeReplicaDrop(payload)
        if (this.mayHold(from, m.pool, 'replica')) p.replicator.onDrop(m)
        return
      }
      default: throw new InvalidMessageError(`unknown runtime cast ${shown((payload as unknown[])[0])}`)
    }
  }

  /** Throws `ForbiddenError` (counted) unless `from` holds one of `rights` on `pool`. */
  private need (from: string, pool: string, rights: number, op: RefusedOp): void {
    const access = this.p.access
    if (!access.may(from, pool, rights)) throw access.refuse(from, op, pool)
  }

  /** Throws `ForbiddenError` (counted) unless `from` may host `pool` and, in this node's view, could hold its workers (see StateSenders). */
  private needHolder (from: string, pool: string, op: RefusedOp): void {
    this.need(from, pool, PoolRight.Host, op)
    if (!this.p.senders.couldHold(from, pool)) throw this.p.access.refuseState(from, op, pool)
  }

  /** As {@link needHolder}, for what gets no answer: whether to take it (a refusal is counted). */
  private mayHold (from: string, pool: string, op: RefusedOp): boolean {
    if (!this.may(from, pool, PoolRight.Host, op)) return false
    if (this.p.senders.couldHold(from, pool)) return true
    this.p.access.refused(from, op, pool)
    return false
  }

  /** Whether `from` holds one of `rights` on `pool`; a refusal is counted. */
  private may (from: string, pool: string, rights: number, op: RefusedOp): boolean {
    const access = this.p.access
    if (access.may(from, pool, rights)) return true
    access.refused(from, op, pool)
    return false
  }
}
