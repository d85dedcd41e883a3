/**
 * SimplePool: long-lived, addressable workers across a peer-to-peer cluster of Node.js
 * processes, with no central server. Define pools with `definePool`, start nodes with
 * `createNode`, and talk to any worker by id through `node.ref(pool, id)`: SimplePool
 * activates it on the node the ring names, routes every message to its one live copy,
 * passivates it when idle, and reports counts and health on every node.
 *
 * The layers are re-exported too: contracts (`@simplepool/core`), placement
 * (`@simplepool/ring`), the libp2p mesh (`@simplepool/mesh`), the transport
 * (`@simplepool/transport`) and the runtime (`@simplepool/runtime`).
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

export * from '@simplepool/core'
export * from '@simplepool/ring'
export * from '@simplepool/mesh'
export * from '@simplepool/transport'
export * from '@simplepool/runtime'
export { SimplePoolNode, createNode } from './node/simplepool-node.js'
export { ClusterNode } from './node/cluster-node.js'
export type { NodeInit, StopOptions } from './node/cluster-node.js'
export type { NodeMesh, NodeParts, NodeTransport, PartHooks } from './node/node-parts.js'
export type { NodeEvents } from './node/node-events.js'
export type { DrainOptions } from './node/drain.js'
export { NodeMetrics } from './node/metrics.js'
export type { MemberInfo, RingsView, WatchFigures, WorkerHere } from './admin/admin-node.js'
export type { AdminOptions } from './admin/http-server.js'
export type { AdminEvent } from './admin/event-log.js'
export type { Tick, TickNode, TickPool } from './admin/cluster-watch.js'
export type { WorkerMove } from './admin/move-log.js'
