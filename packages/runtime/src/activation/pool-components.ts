import type { Clock, Logger, Random } from '@simplepool/core'
import type { Activation } from './activation.js'
import type { DeadlineWatch } from './deadline-watch.js'
import type { Scheduler } from './scheduler.js'
import type { TimingWheel } from './timing-wheel.js'
import type { WorkerEvents } from '../events.js'
import type { WorkerRef } from '../ref.js'

/** What the pools of one node share, and what they ask of the node's other parts. */
export interface PoolComponents {
  readonly clock: Clock
  readonly random: Random
  readonly logger: Logger
  readonly scheduler: Scheduler
  /** Idle deadlines and ticks. */
  readonly wheel: TimingWheel<Activation>
  /** Deadlines of calls waiting on workers that are busy, loading or saving. */
  readonly watch: DeadlineWatch
  readonly events: WorkerEvents
  self: () => string
  ref: <M, R>(pool: string, id: string) => WorkerRef<M, R>
  /** A number larger than every epoch this node handed out before. */
  nextEpoch: () => number
  /** The nodes to claim a new activation from while the ring moved lately (they may still hold it); empty otherwise. */
  holders: (pool: string, id: string) => readonly string[]
  /**
   * Claims worker `id` from `holders` until one hands it over (true: the handoff filled
   * the activation meanwhile) or none holds it (false: start it from `load`). `waiting`
   * says whether the activation still waits for the claim.
   */
  claimFirst: (pool: string, id: string, holders: readonly string[], waiting: () => boolean) => Promise<boolean>
  /**
   * An activation whose claim took nothing leaves, unsaved, when its worker belongs to
   * another node now; what waited in its mailbox follows to that node (once the node
   * knows, after a stall, that it was not marked down). False: it stays. True as well when
   * it waits no more (the fence dropped it, or a handoff filled it).
   */
  redirect: (act: Activation) => Promise<boolean>
  /** True while the node, back from a stall, finds out whether its activations are stale. */
  fencing: () => boolean
  /** Settles once the fence under way (if any) is over: its activations kept, or dropped. */
  fenceSettled: () => Promise<void>
  /** An activation of `pool` left this node (stopped, moved, dropped, failed). */
  removed: (pool: string, id: string) => void
  /** Replicates `act`'s state to its successors after a turn (see `Replicator.afterTurn`); rejects with `StaleWriteError` when one holds a newer copy. */
  replicate: (pool: string, act: Activation) => Promise<void>
  /** The state of the freshest replica of `pool`/`id`, here or on its chain's nodes (a new activation starts from it); undefined when none is kept. */
  takeReplica: (pool: string, id: string) => Promise<{ state: unknown, epoch: number } | undefined>
  /** `act` is ready here: a replica of it kept here goes, and its successors get its state. */
  replicaReady: (pool: string, act: Activation) => void
  /** `act` left this node for good (passivated or stopped): its replicas go. */
  dropReplicas: (pool: string, act: Activation) => void
}
