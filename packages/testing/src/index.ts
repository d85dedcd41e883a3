/**
 * SimplePool's multi-process test harness: real node processes on 127.0.0.1, forked with
 * `child_process.fork` and driven over IPC, with kill, graceful stop, pause and resume,
 * and a wait for every node to agree on the membership.
 *
 * @example
 * ```ts
 * import { startCluster } from '@simplepool/testing'
 * const cluster = await startCluster({ nodes: 3 })
 * try {
 *   const [a, b] = cluster.nodes
 *   await a.request('call', { peer: b.peerId, payload: { op: 'echo', value: 1 } })
 * } finally {
 *   await cluster.stop()
 * }
 * ```
 *
 * @packageDocumentation
 */
export { Cluster, NodeHandle, startCluster } from './cluster.js'
export type { ClusterOptions, NodeOptions, NodeEvent } from './cluster.js'
export type { ChildConfig, ChildMessage, Request } from './protocol.js'
export { CHILD_CONFIG_ENV } from './protocol.js'
export type { StatsDelta } from './process-meter.js'
export { PrivateNetwork } from './private-network.js'
export { FileStore } from './file-store.js'
export type { StoredValue } from './file-store.js'
export { Samples, closedLoop, fixedRate, percentile } from './samples.js'
export type { ClosedLoopResult, FixedRateResult } from './samples.js'
export { TEST_PG_SHOWN, TEST_PG_URL, dropTestTable, postgresUnreachable } from './test-postgres.js'
