import { DEFAULT_DOWN_AFTER_MS, DEFAULT_HEARTBEAT_MS, DEFAULT_LEASE_MARGIN_MS, DEFAULT_SUSPECT_AFTER_MS } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import type { RuntimeComponents } from '@simplepool/runtime'
import { WITNESS_DEFAULTS } from '@simplepool/mesh'
import type { NodeMesh } from './node-parts.js'

/**
 * The lease on a majority (see the runtime's QuorumLease) for a node that sends a record
 * every `heartbeatMs`: the others mark it down after `downAfterMs` of silence, or four of
 * its records, whichever is longer, counted from the last record that reached them,
 * which may be one interval older than the last this node heard of them; less a margin
 * (`DEFAULT_LEASE_MARGIN_MS`, or a quarter of that deadline when it is short), so the
 * lease is always at least half the deadline and two records long.
 */
export function leaseOf (heartbeatMs: number, downAfterMs: number): number {
  const deadline = Math.max(downAfterMs, 4 * heartbeatMs)
  return deadline - heartbeatMs - Math.min(DEFAULT_LEASE_MARGIN_MS, deadline / 4)
}

/**
 * The runtime's lease, and its question after a stall or a cut, on the node's membership:
 * the lease it keeps itself when it keeps one (witness membership), else the lease on a
 * majority of the members' records and the question to every member (`ask`).
 */
export function leaseParts (mesh: NodeMesh, clock: Clock, ask: NonNullable<RuntimeComponents['markedDown']>, deadlines: { heartbeatMs?: number, downAfterMs?: number }): Pick<RuntimeComponents, 'lease' | 'markedDown'> {
  const own = mesh.lease
  if (own !== undefined) return { lease: { holds: own.holds }, markedDown: async (pausedMs, options) => await own.markedDown(pausedMs, options) }
  return {
    markedDown: ask,
    lease: {
      // a member whose last record doubts this node does not hear it (a link cut one way)
      heardAgo: (peerId) => {
        const f = mesh.figures(peerId)
        return f === undefined || f.doubts.includes(mesh.peerId) ? undefined : clock.monotonic() - f.lastSeen
      },
      departed: (peerId) => mesh.departed(peerId),
      markedDownAgo: (peerId) => mesh.markedDownAgo(peerId),
      unknown: () => mesh.unknown(),
      ms: () => leaseOf(mesh.figures(mesh.peerId)?.heartbeatMs ?? deadlines.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, deadlines.downAfterMs ?? DEFAULT_DOWN_AFTER_MS)
    }
  }
}

/**
 * How long the event loop may stand still before the runtime fences and asks whether it
 * was marked down (`fenceAfterMs`): as long as the others take to suspect a silent node
 * (`suspectAfterMs`). On a membership that keeps its own lease (witness), at most the
 * witnesses' miss deadline, and never off (0): the lease is looked at on the stall guard's
 * beat, and a witness may hold a node down once its lease lapsed, `leaseMs` after its last
 * beat went out.
 */
export function fenceAfterOf (mesh: NodeMesh, suspectAfterMs = DEFAULT_SUSPECT_AFTER_MS): number {
  if (mesh.lease === undefined) return suspectAfterMs
  return suspectAfterMs > 0 ? Math.min(suspectAfterMs, WITNESS_DEFAULTS.missMs) : WITNESS_DEFAULTS.missMs
}
