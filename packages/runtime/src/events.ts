import { TypedEventTarget, interceptListeners } from '@simplepool/core'
import type { WireError } from '@simplepool/core'
import type { NodeOperation } from './access/access-rules.js'

/** Which worker an event is about. */
export interface WorkerEventDetail {
  pool: string
  id: string
  node: string
  epoch: number
}

/** A worker's code failed: a turn or tick threw, `load`/`init`/`save` threw, or a call ran past its deadline. */
export interface WorkerFailDetail extends WorkerEventDetail {
  during: 'turn' | 'tick' | 'activation' | 'save' | 'timeout'
  error: WireError
}

/** A worker was saved and deactivated (`handoff`: its handoff went unanswered, and the store is where its state is sure to be; see the handoff sender). */
export interface WorkerPassivateDetail extends WorkerEventDetail {
  reason: 'idle' | 'stop' | 'shutdown' | 'handoff'
}

/** A worker moved between nodes with its state: fired on the node it left and on the one it reached. */
export interface WorkerMigrateDetail extends WorkerEventDetail {
  from: string
  to: string
}

/**
 * Two copies of a worker met in a handoff and this node's, the older (`epoch`), was
 * dropped unsaved for the newer (`newerEpoch`, on `keptOn`): what the dropped copy did
 * since they parted is lost. It happens where a pool chose `partition: 'available'` and
 * both sides of a cut served it, and after a node that was marked down kept a copy.
 */
export interface WorkerConflictDetail extends WorkerEventDetail {
  newerEpoch: number
  keptOn: string
}

/** This node's event loop stood still long enough to be marked down; it asked the others. */
export interface NodeFenceDetail {
  node: string
  /** Why it fenced: its event loop stood still, or it heard no majority of the cluster (a partition). */
  cause: 'stall' | 'isolation'
  /** How long it stood still, or heard no majority, in ms. */
  pausedMs: number
  /** Some member marked this node down meanwhile (or could not say); after an isolation, also when this node marked members down meanwhile. Its activations went. */
  markedDown: boolean
  /** Activations dropped unsaved because of it. */
  dropped: number
  /** Activations of `available` pools kept though this node was marked down while cut off: they served on both sides (see `worker:conflict`). */
  kept?: number
}

/** A migration on this node: the workers whose owner moved going to their new owners. */
export interface MigrationDetail {
  node: string
  /** Workers handed over since it began. */
  moved: number
  /** Workers still to hand over or to look at. */
  backlog: number
  elapsedMs: number
}

/** What a refusal was of, as counted and announced: a message kind, or a node operation . */
export type RefusedOp = 'call' | 'cast' | 'spawn' | 'where' | 'count' | 'barrier' | 'handoff' | 'claim' | 'replica' | 'spill' | 'hint' | NodeOperation

/** The access rules refused a peer (`count` times since the last event about it): once a second per peer at most. */
export interface AccessDenyDetail {
  /** The node that refused. */
  node: string
  /** The refused peer, as its connection's Noise handshake proved it. */
  peer: string
  /** The pool of the last refusal, or null for a node operation. */
  pool: string | null
  /** What the last refusal was of. */
  op: RefusedOp
  /** Refusals of this peer this event covers: the first, and those since the last event. */
  count: number
}

/** Events of the runtime. */
export interface RuntimeEvents extends Record<string, unknown> {
  'worker:activate': WorkerEventDetail
  'worker:passivate': WorkerPassivateDetail
  'worker:fail': WorkerFailDetail
  'worker:migrate': WorkerMigrateDetail
  'worker:conflict': WorkerConflictDetail
  'node:fence': NodeFenceDetail
  /** The ring moved and this node began handing workers over; once a second while it goes on; when nothing is left. */
  'migration:start': MigrationDetail
  'migration:progress': MigrationDetail
  'migration:done': MigrationDetail
  /** The access rules refused a peer: once a second per peer at most, with how many refusals it covers. */
  'access:deny': AccessDenyDetail
}

/**
 * The runtime's events, with a count of listeners per name: an activation must not pay
 * for a `CustomEvent` nobody listens to (at a million activations a second it would
 * cost more than the activations).
 */
export class WorkerEvents extends TypedEventTarget<RuntimeEvents> {
  private readonly listeners = new Map<string, number>()

  constructor () {
    super()
    interceptListeners(this, (own, type, listener, options) => {
      if (listener != null) this.listeners.set(type, (this.listeners.get(type) ?? 0) + 1)
      own(type, listener, options)
    }, (own, type, listener, options) => {
      const n = this.listeners.get(type) ?? 0
      if (listener != null && n > 0) this.listeners.set(type, n - 1)
      own(type, listener, options)
    })
  }

  /** True when someone may listen to `type` (a listener added twice counts twice: never a false negative). */
  has (type: keyof RuntimeEvents & string): boolean {
    return (this.listeners.get(type) ?? 0) > 0
  }
}
