/**
 * Who this node takes workers' state from. A handoff, a replica, a replica's drop and a
 * spill note are taken only from a member that, in this node's own view, could hold
 * workers of their pool: one that is on the pool's ring now, was on it within the claim
 * window, announces a target for it, or reports workers of it in its heartbeat (a node
 * draining its last workers). A member with the key that never held the pool (a client
 * node, a misconfigured one) cannot hand in state for a live worker, nor drop its
 * replicas. A hostile member can announce a target and be placed on the ring: without
 * access rules it is then trusted with the pool; the rules keep it off the ring.
 *
 * A refusal loses nothing: the sender keeps its workers and tries again later, by when
 * a sender that could hold the pool but is not yet known here as one (its record still
 * on its way) is.
 */
import type { Member } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'

/** What the check reads of the node: its view, and the rings it saw lately. */
export interface StateSendersComponents {
  self: () => string
  members: () => ReadonlyArray<Readonly<Member>>
  /** Workers of `pool` a member reported in its last heartbeat; undefined when unknown. */
  countOf: (peerId: string, pool: string) => number | undefined
  placement: () => Placement
  /** Whether `peer` was on the ring of `pool` in a placement replaced within the claim window. */
  wasOnRing: (pool: string, peer: string) => boolean
}

export class StateSenders {
  constructor (private readonly c: StateSendersComponents) {}

  /** Whether `from` could hold workers of `pool`, in this node's view. */
  couldHold (from: string, pool: string): boolean {
    if (from === this.c.self()) return true
    const member = this.c.members().find(m => m.peerId === from)
    if (member === undefined) return false
    if ((member.pools[pool]?.target ?? 0) > 0 || (this.c.countOf(from, pool) ?? 0) > 0) return true
    return this.c.placement().ring(pool)?.nodes.includes(from) === true || this.c.wasOnRing(pool, from)
  }
}
