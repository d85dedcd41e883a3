/**
 * SimplePool: long-lived, addressable workers across a peer-to-peer cluster of Node.js
 * processes, with no central server. Define pools with `definePool`, start nodes with
 * `createNode`, and talk to any worker by id through `node.ref(pool, id)`: SimplePool
 * activates it on the node the ring names, routes every message to its one live copy,
 * passivates it when idle, and reports counts and health on every node.
 *
 * This root holds what an application needs: nodes, pools, refs, the named errors and
 * their helpers, the options and events, and the few tools of a deployment (a key file, a
 * cluster key, loggers). Everything else (the ring, the mesh, the transport, the runtime's
 * parts, every tuning constant) lives in the layer packages, `@simplepool/core`,
 * `@simplepool/ring`, `@simplepool/mesh`, `@simplepool/transport` and
 * `@simplepool/runtime`, for code that builds on them.
 *
 * @example
 * ```ts
 * import { createNode, definePool } from 'simplepool'
 * const counters = definePool<{ n: number }, 'inc' | 'get', number>({
 *   name: 'counter',
 *   init: () => ({ n: 0 }),
 *   handle: (state, msg) => msg === 'inc' ? ++state.n : state.n
 * })
 * const node = await createNode({ pools: [counters] })
 * await node.ref('counter', 'c-1').call('inc') // 1
 * await node.stop()
 * ```
 *
 * @packageDocumentation
 */
import '@simplepool/core/polyfill'

// nodes and pools
export { SimplePoolNode, createNode } from './node/simplepool-node.js'
export { ClusterNode } from './node/cluster-node.js'
export type { NodeInit, StopOptions } from './node/cluster-node.js'
export type { NodeMesh, NodeParts, NodeTransport, PartHooks } from './node/node-parts.js'
export type { NodeEvents } from './node/node-events.js'
export type { DrainOptions } from './node/drain.js'
export { WorkerRef, definePool } from '@simplepool/runtime'
export type {
  AbortOptions, CountOptions, HealthStatus, HealthThresholds, NodeHealth, Pool, PoolDefinition, PoolHealth, PlacementContext, PlacementFn,
  RefCallOptions, SendOptions, SpawnManyOptions, SpawnMode, SpawnOptions, WorkerContext, WorkerLocation, WorkerReason,
  MigrationDetail, NodeFenceDetail, RuntimeEvents, WorkerConflictDetail, WorkerEventDetail, WorkerFailDetail, WorkerMigrateDetail, WorkerPassivateDetail
} from '@simplepool/runtime'

// who may do what inside the cluster
export { ANY_MEMBER, ANY_POOL, NODE_OPERATIONS, validateAccessRules } from '@simplepool/runtime'
export type { AccessDenyDetail, AccessRules, NodeOperation, PoolGrant, RefusedOp } from '@simplepool/runtime'

// named errors, and what to read of them
export {
  AbortError, ClusterKeyError, ForbiddenError, HandoffError, InvalidMessageError, InvalidOptionError, JoinTimeoutError, NoHandlerError, NodeIsolatedError,
  NodeUnavailableError, NotStartedError, OverloadedError, SimplePoolError, StaleWriteError, TimeoutError, UnknownPoolError, WorkerNotAliveError,
  fromWireError, isSimplePoolError, isStaleWrite, mayHaveArrived, toWireError
} from '@simplepool/core'
export type { WireError } from '@simplepool/core'

// where workers keep their state (adapters: @simplepool/store)
export type { StoreCallOptions, WorkerStore } from '@simplepool/core'

// membership as a node reports it, time and logging
export { ManualClock, consoleLogger, silentLogger, systemClock } from '@simplepool/core'
export type { Clock, Liveness, Logger, Member, MemberStatus, PoolFigures, PoolTarget } from '@simplepool/core'

// a deployment: the cluster key, the node's identity, the mesh's options
export { generateClusterKey, loadKeyFile } from '@simplepool/mesh'
export type { KeyFile, MeshInit } from '@simplepool/mesh'

// the admin API and the figures it serves
export type { MemberInfo, RingsView, WatchFigures, WorkerHere } from './admin/admin-node.js'
export type { AdminOptions } from './admin/http-server.js'
export type { AdminEvent } from './admin/event-log.js'
export type { AdminWriteDetail, WriteBy } from './admin/audit.js'
export type { Tick, TickNode, TickPool } from './admin/cluster-watch.js'
export type { WorkerMove } from './admin/move-log.js'
