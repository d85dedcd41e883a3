/**
 * What the admin API reads and asks of the node it is served by, and the shapes of the
 * answers. The node implements {@link AdminNode}; no admin file knows more of it, so the
 * node can build its admin API without the two importing each other.
 */
import type { Liveness, MemberStatus } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { AbortOptions, HealthStatus, NodeHealth, WorkerLocation } from '@simplepool/runtime'
import type { AdminEvent, AdminEventLog } from './event-log.js'
import type { WorkerMove } from './move-log.js'

/** One member as `members()` shows it. */
export interface MemberInfo {
  peerId: string
  status: MemberStatus
  liveness: Liveness
  addresses: readonly string[]
  /** Per pool: the member's target and its worker count, as of its last heartbeat (this node's: now). */
  pools: Record<string, { target: number, count: number }>
}

/** What a node's rings are: equal fingerprints on two nodes mean they place every id alike. */
export interface RingsView {
  node: string
  /** Version of the membership snapshot the node's placement was built from (local to that node). */
  version: number
  /** Per pool: the fingerprint of its ring (`id:weight` pairs) on that node. */
  rings: Record<string, string>
}

/** One node's answer about one worker: see {@link AdminNode.inspectOn}. */
export interface WorkerHere {
  where: WorkerLocation | null
  moves: WorkerMove[]
}

/** A node's figures for a watcher (the dashboard), asked once a second only while one is open. */
export interface WatchFigures {
  node: string
  /** Wall-clock ms on that node. */
  at: number
  health: HealthStatus
  reasons: string[]
  loopP99Ms: number
  rssBytes: number
  heapUsedBytes: number
  migrationBacklog: number
  /** Replicas the node keeps for workers owned elsewhere, and their bytes of state (absent from a node before replicas). */
  replicas?: { count: number, bytes: number }
  /** Per pool: live workers, target, and counters since the pool started (turns, failures, turn latencies as a sparse histogram). */
  pools: Record<string, { count: number, target: number, turns: number, failures: number, latency: number[] }>
  /** Each pool's ring fingerprint (see {@link RingsView}). */
  rings: Record<string, string>
  /** Events logged after the watcher's last, oldest first; `gap` when some were missed. */
  events: AdminEvent[]
  gap: boolean
}

/** The options of a drain or undrain the admin API asks for. */
export interface AdminDrainOptions {
  pools?: string[]
  signal?: AbortSignal
  /** false: answer once the drain has begun. */
  wait?: boolean
}

/**
 * The node as the admin API sees it: its view of the members, its own figures and
 * events, the same questions asked of any other member, and the operator's writes.
 * `SimplePoolNode` implements it; see its methods for what each does.
 */
export interface AdminNode {
  readonly peerId: string
  /** This node's events, which `/v1/events` streams. */
  readonly eventLog: AdminEventLog
  readonly metricsContentType: string
  members: () => MemberInfo[]
  placement: () => Pick<Placement, 'version' | 'ownerOf'>
  rings: () => RingsView
  ringsOf: (peerId: string, options?: AbortOptions) => Promise<RingsView>
  health: () => NodeHealth
  healthOf: (peerId: string, options?: AbortOptions) => Promise<NodeHealth>
  watchFigures: (afterEventId?: string) => WatchFigures
  watchFiguresOf: (peerId: string, afterEventId: string | undefined, options?: AbortOptions) => Promise<WatchFigures>
  inspectOn: (peerId: string, pool: string, id: string, options?: AbortOptions) => Promise<WorkerHere>
  movePlanOf: (peerId: string, pool: string, options?: AbortOptions) => Promise<Record<string, number>>
  metrics: () => Promise<string>
  drain: (peerId: string, options?: AdminDrainOptions) => Promise<void>
  undrain: (peerId: string, options?: AdminDrainOptions) => Promise<void>
  setTargets: (peerId: string, targets: Record<string, number>, options?: AbortOptions) => Promise<void>
  rebalance: (pool: string, options?: AbortOptions) => Promise<void>
  stopWorker: (pool: string, id: string, options?: AbortOptions) => Promise<boolean>
  /** A handle on one worker, for an operator's call or cast. */
  ref: (pool: string, id: string) => {
    call: (msg: unknown, options?: AbortOptions) => Promise<unknown>
    cast: (msg: unknown) => void
  }
}
