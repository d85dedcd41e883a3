/**
 * The two parts a node runs on, as the node uses them: the membership (a libp2p mesh in
 * production, a simulated one in `@simplepool/sim`) and the transport of direct messages.
 * The node is written against these shapes alone, so the simulator runs the node's own
 * drain, stop and node operations, not a copy of them.
 */
import type { EpochMark, Logger, MemberFigures, MembershipLease, MembershipSnapshot, MemberStatus, TypedEventTarget } from '@simplepool/core'
import type { MeshEvents } from '@simplepool/mesh'
import type { TransportHandlers, TransportStats } from '@simplepool/transport'
import type { RuntimeTransport } from '@simplepool/runtime'

/** What the node reads and does of its membership. `Mesh` is one. */
export interface NodeMesh extends TypedEventTarget<MeshEvents> {
  readonly peerId: string
  readonly addresses: string[]
  readonly isRunning: boolean
  snapshot: () => MembershipSnapshot
  figures: (peerId: string) => Readonly<MemberFigures> | undefined
  heardFrom: (peerId: string) => boolean
  /** Members never heard here that others doubt and did not mark down (a member silent since before this node joined). */
  unheard: () => readonly string[]
  /** Members never heard here that others doubt, marked down or not (they count in the others' bases). */
  unknown: () => readonly string[]
  markedDownAgo: (peerId: string) => number | undefined
  departed: (peerId: string) => boolean
  announceNow: () => void
  /**
   * A lease the membership keeps itself (witness membership): the node fences by it, and
   * asks it whether this node was held down, rather than the lease on a majority of
   * records and the question to every member. It emits `lease:lost` when this node learns
   * it is held down.
   */
  readonly lease?: MembershipLease
  setStatus: (status: MemberStatus) => void
  setTargets: (targets: Record<string, number>) => void
  start: () => Promise<void>
  stop: () => Promise<void>
}

/** What the node uses of its transport. `Transport` is one. */
export interface NodeTransport extends RuntimeTransport {
  readonly stats: Readonly<TransportStats>
  setHandlers: (handlers: TransportHandlers) => void
  peerDown: (peerId: string, reason?: string) => void
  start: () => Promise<void>
  stop: () => Promise<void>
}

/** What the node gives its parts as they are made: the counts its records announce, and its logger. */
export interface PartHooks {
  counts: () => Record<string, number>
  /** The runtime's epoch mark, which the node's records carry and raise. */
  epochs: EpochMark
  logger: Logger
}

/** A node's membership and transport, made for it. */
export interface NodeParts<M extends NodeMesh, T extends NodeTransport> {
  mesh: M
  transport: T
}
