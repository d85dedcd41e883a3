/**
 * The runtime's contracts with the node around it, and the options and answers of its
 * operations.
 */
import type { AccessRules } from './access/access-rules.js'
import type { Clock, Logger, Member, Random } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { AbortOptions } from './options.js'
import type { Pool } from './pool.js'

/** How the runtime reaches other nodes: the transport. */
export interface RuntimeTransport {
  cast: (peerId: string, payload: unknown) => void
  call: (peerId: string, payload: unknown, options: { timeoutMs?: number, signal?: AbortSignal }) => Promise<unknown>
}

/** How the question "did you mark me down?" is asked (see `RuntimeComponents.markedDown`). */
export interface MarkedDownOptions {
  /** How long a member's answer is waited for; none counts as yes. */
  timeoutMs: number
  /**
   * After a first yes, how long the other members' answers are still waited for: they
   * count as heard. After a stall, the lease on a majority is looked at as the fence ends,
   * with records as old as the stall but for those answers; after isolation it holds
   * already, and 0 is given.
   */
  straggleMs: number
}

/** What the runtime needs from the node around it. */
export interface RuntimeComponents {
  /** This node's peer id. */
  self: () => string
  /** The placement of the current membership view (the node caches it per version). */
  placement: () => Placement
  /** The members of the current view, for cluster-wide counts. */
  members: () => ReadonlyArray<Readonly<Member>>
  transport: RuntimeTransport
  /** Workers of `pool` a member reported in its last heartbeat; undefined when unknown. */
  countOf?: (peerId: string, pool: string) => number | undefined
  /**
   * Members this node never heard that others doubt and did not mark down: silent since
   * before this node joined, they may still serve their workers, so a new activation here
   * waits for them to be heard or marked down (see `ClaimWindow`). None without it.
   */
  unheard?: () => readonly string[]
  /**
   * Whether any other member marked this node down within the last `pausedMs` (and a
   * margin): asked after this node's event loop stood still. Rejecting counts as yes.
   * Without it, a stall always counts as marked down. After a first yes, the others'
   * answers are still waited for `straggleMs` (they count as heard).
   */
  markedDown?: (pausedMs: number, options: MarkedDownOptions) => Promise<boolean>
  /**
   * The lease on a majority: a node that heard no majority of the cluster's hosts for
   * `ms()` (a network partition) takes no turn and answers calls to its workers
   * `NodeIsolatedError` until it hears one again, then asks whether it was marked down
   * meanwhile (`markedDown`), and drops its activations unsaved if it was. `ms()` must be
   * shorter than the others take to mark this node down after its last record reached
   * them; the node derives it from its membership's deadlines. Off without it.
   */
  lease?: QuorumLeaseSource | HeldLeaseSource
  /** @default the system clock */
  clock?: Clock
  /** @default Math.random */
  random?: Random
  /** @default stderr */
  logger?: Logger
}

/** A lease the membership keeps itself (witness membership's `MembershipLease`); `markedDown` then asks that membership. */
export interface HeldLeaseSource {
  holds: () => boolean
}

/** What the lease on a majority of the members (`QuorumLease`) reads of the membership's records. */
export interface QuorumLeaseSource {
  /** Ms since this node last heard a record of the member; undefined when never. */
  heardAgo: (peerId: string) => number | undefined
  /** True when the member is known gone lately (a goodbye, a refused redial): it no longer counts toward a majority once lost. */
  departed: (peerId: string) => boolean
  /** How many ms ago this node's view marked the member down, if it did lately. */
  markedDownAgo: (peerId: string) => number | undefined
  /** Members the others doubt (marked down or not) that this view never heard: they count in the others' bases (see `QuorumLease`). None without it. */
  unknown?: () => readonly string[]
  /** The lease now, in ms (it follows this node's heartbeat interval, which grows with the cluster). */
  ms: () => number
}

/** Options of the runtime. */
export interface RuntimeInit {
  /** The pools this node runs. */
  pools: ReadonlyArray<Pool<any, any, any>>
  /** This node's target per pool; a pool missing here takes its own `target`, or 100000. */
  targets?: Record<string, number>
  /** How many nodes a message may be forwarded through. @default 3 */
  maxHops?: number
  /** Resolution of the timing wheel of idle deadlines and ticks, in ms. @default 100 */
  timingWheelMs?: number
  /** Ids per batch of `spawnMany`. @default 1000 */
  spawnBatch?: number
  /** Workers this node hands to their new owners per second at most, after the ring moved. @default 2000 */
  migrationsPerSecond?: number
  /**
   * An event-loop stall longer than this (ms) may have got this node marked down: before
   * any turn runs, it asks the others, and drops its activations unsaved if they did
   * (fencing). 0 turns the guard off. @default 1000
   */
  fenceAfterMs?: number
  /**
   * How long (ms) a pool's ring must stay still before this node hands over the workers
   * whose owner moved: churn within it (a node that flaps, a target set and set back)
   * moves nothing twice. Messages do not wait for it: a new owner claims a worker at
   * once. `rebalance()` does not wait either. @default 500
   */
  rebalanceDelayMs?: number
  /** How long after the ring moved a new activation first asks the id's previous owner for it, in ms. @default 60000 */
  claimWindowMs?: number
  /** Replicas and live workers of replicated pools looked at per turn of the event loop after the ring moved. @default 2000 */
  replicaWalkPerTurn?: number
  /** Who among the members may call, host and operate on what; open to every member when not given. See {@link AccessRules}. */
  access?: AccessRules
}

/** Where a worker lives. */
export interface WorkerLocation {
  node: string
  epoch: number
  /** `where` only: messages waiting in its mailbox. */
  mailbox?: number
  /**
   * `where` only: why it lives on `node`. `owner`: the node's ring names it the owner.
   * `spill`: its owner was at its hard limit and placed it on the next node of the ring.
   * `handoff`: the ring names another owner and the worker is being (or waits to be) handed there.
   */
  why?: WorkerReason
  /** `where` only: the owner the ring of `node` names for the id. */
  owner?: string
  /** `where` only, for a replicated pool: the nodes its state went to after its last turn (see `PoolDefinition.replicas`). */
  replicas?: string[]
}

/** Why a worker lives where it does; see {@link WorkerLocation.why}. */
export type WorkerReason = 'owner' | 'spill' | 'handoff'

/** How `spawn` activates. */
export type SpawnMode = 'sync' | 'async' | 'lazy'

/** Options of `spawn`. */
export interface SpawnOptions extends AbortOptions {
  /**
   * `sync`: resolves once `init` ran on the owner. `async`: once the owner accepted the
   * request. `lazy`: records nothing; the worker activates on its first message.
   * @default 'sync'
   */
  mode?: SpawnMode
}

/** Options of `spawnMany`. */
export interface SpawnManyOptions extends SpawnOptions {
  /** Called after each batch with the ids done so far. */
  onProgress?: (done: number, total: number) => void
}

/** Options of `count`. */
export interface CountOptions extends AbortOptions {
  /** This node only: no messages. */
  local?: boolean
}

/** Node-wide counters of routing, outside any pool. */
export interface RoutingStats {
  /** Casts lost after they were accepted: refused by a full mailbox, or for a worker that was not alive. */
  droppedCasts: number
  /** Hints received: another node forwarded a message this node sent to the wrong owner. */
  staleRoutes: number
}
