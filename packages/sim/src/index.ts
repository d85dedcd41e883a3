/**
 * SimplePool's deterministic simulator: many nodes' real runtimes in one process, on a
 * virtual clock that takes every timer and yield of every node in one order, over a
 * simulated network that delays, orders and partitions as the real transport's links
 * do. The same seed gives the same run, message for message.
 *
 * @example
 * ```ts
 * import { seededRandom } from '@simplepool/core'
 * import { SimClock, SimNetwork } from '@simplepool/sim'
 * const clock = new SimClock()
 * const net = new SimNetwork(clock, seededRandom(1))
 * // build runtimes with `clock` and `net.attach(peer, runtime)` as their transport, then:
 * await clock.run(60_000)
 * ```
 *
 * @packageDocumentation
 */
export * from './sim-clock.js'
export * from './sim-network.js'
export * from './sim-mesh.js'
export * from './sim-transport.js'
export * from './sim-node.js'
export * from './sim-cluster.js'
export * from './membership-model.js'
