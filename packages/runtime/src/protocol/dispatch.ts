import { InvalidMessageError } from '@simplepool/core'
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
}

/**
 * What another node sends this node's runtime, decoded and handed to the part that
 * answers it: one switch per kind (calls, casts), the only place that maps an operation
 * to its decoder. A message that does not decode is refused with `InvalidMessageError`.
 */
export class Dispatch {
  constructor (private readonly p: DispatchParts) {}

  /** A runtime call from `from`, read at `now`; the transport sends back what this returns or throws. */
  call (payload: unknown, from: string, now: number): unknown {
    const p = this.p
    switch (opOf(payload)) {
      case Op.Call: return p.inbound.call(decodeCall(payload), from, now)
      case Op.Spawn: return p.inbound.spawn(decodeSpawn(payload), from)
      case Op.Where:
      case Op.Stop: return p.inbound.worker(decodeWorker(payload), from)
      case Op.SpawnMany: return p.inbound.spawnMany(decodeSpawnMany(payload), from)
      case Op.Count: return p.inbound.count(decodeCount(payload))
      case Op.Barrier: return p.inbound.barrier(decodeBarrier(payload), from, now)
      case Op.HandoffMany: {
        // read while fencing, it arrived during the stall: see Fence.unlessMarkedDown
        const m = decodeHandoff(payload)
        return p.fence.unlessMarkedDown(`the handoff of ${m.workers.length} workers of ${m.pool}`, () => p.receiver.receive(m, from))
      }
      case Op.ReplicaPut: return p.replicator.onPut(decodeReplicaPut(payload), from)
      case Op.ReplicaGet: return p.replicator.onGet(decodeReplicaGet(payload))
      case Op.Claim: {
        const m = decodeClaim(payload)
        return p.fence.afterFence(() => p.claims.answer(m, from))
      }
      default: throw new InvalidMessageError(`unknown runtime operation ${String((payload as unknown[])[0])}`)
    }
  }

  /** A runtime cast from `from`. */
  cast (payload: unknown, from: string): void {
    const p = this.p
    switch (opOf(payload)) {
      case Op.Cast:
        p.inbound.cast(decodeCast(payload), from)
        return
      case Op.Hint:
        decodeHint(payload)
        p.routing.staleRoutes++
        return
      case Op.SpillNote:
        p.spill.onNote(decodeSpillNote(payload), from)
        return
      case Op.ReplicaDrop:
        p.replicator.onDrop(decodeReplicaDrop(payload))
        return
      default: throw new InvalidMessageError(`unknown runtime cast ${String((payload as unknown[])[0])}`)
    }
  }
}
