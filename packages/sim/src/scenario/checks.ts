/**
 * The invariants a run is held to, each named in a failure. Safety (1-5, 7) is checked
 * as the run goes (stale turns, order) and at its end; 6 once the cluster had time to
 * settle after the last fault.
 */
import type { SimCluster } from '../sim-cluster.js'
import type { SimNode } from '../sim-node.js'
import type { Unsettled } from './faults.js'
import type { SimStore } from './store.js'
import { CHECKED_POOLS } from './workload.js'
import type { Workload } from './workload.js'
import type { WorkMsg } from './pools.js'

/** The invariants, by name. */
export const INVARIANTS = {
  1: 'acknowledged-writes-durable',
  2: 'graceful-keeps-memory',
  3: 'one-live-copy',
  4: 'per-sender-order',
  5: 'every-call-ends',
  6: 'whole-again',
  7: 'bounded-memory',
  8: 'progress-under-held-fault',
  9: 'replicas-on-successors'
} as const
export type InvariantName = typeof INVARIANTS[keyof typeof INVARIANTS]

/** A broken invariant, and what shows it. */
export interface Violation {
  invariant: InvariantName
  detail: string
}

/** Whether `at` lies in a window where membership may disagree (each fault's window runs on past its end: see faults.ts). */
function unsettledAt (at: number, windows: readonly Unsettled[]): boolean {
  return windows.some(w => at >= w.from && at <= w.to)
}

/** What the checks read. */
export interface CheckInput {
  sim: SimCluster
  store: SimStore
  workload: Workload
  unsettled: readonly Unsettled[]
  /** Workers whose memory a kill or a marked-down node may have cost, by `pool/id`. */
  exempt: ReadonlySet<string>
  /**
   * Replicated workers (`--replicas`) that may have lost their memory, by `pool/id`: how
   * many increments were acknowledged when they last may have; every one acknowledged
   * since must be there.
   */
  excusedAcked?: ReadonlyMap<string, number>
  /** Replicas of each `counter` worker (`--replicas`): at the end, each on its owner's successors, with its live state. */
  replicas?: number
}

/** The invariants checked as the run went: stale turns while membership was agreed, and order. */
export function checkDuring (input: CheckInput): Violation | undefined {
  const stale = input.workload.staleTurns.find(t => !unsettledAt(t.at, input.unsettled))
  if (stale !== undefined) {
    return { invariant: INVARIANTS[3], detail: `${stale.pool}/${stale.id} took a turn on ${stale.node} with epoch ${stale.epoch} at ${stale.at.toFixed(1)} ms, after epoch ${stale.newer} had, with no fault in effect` }
  }
  const order = input.workload.orderBreaks[0]
  if (order !== undefined) return { invariant: INVARIANTS[4], detail: order }
  return undefined
}

/** The invariants checked at the end, once the cluster had time to settle. */
export async function checkEnd (input: CheckInput): Promise<Violation | undefined> {
  const { sim, workload, store } = input
  const waiting = workload.waiting()
  if (waiting.length !== 0) return { invariant: INVARIANTS[5], detail: `${waiting.length} calls never ended: ${waiting.slice(0, 3).join('; ')}` }
  const nodes = sim.running()
  if (nodes.length === 0) return { invariant: INVARIANTS[6], detail: 'no node is running' }
  for (const n of nodes) {
    const pending = n.node.transport.pendingCalls()
    if (pending > 0) return { invariant: INVARIANTS[7], detail: `${n.peerId} still waits on ${pending} calls` }
    if (n.runtime.migrationBacklog > 0) return { invariant: INVARIANTS[7], detail: `${n.peerId} still has ${n.runtime.migrationBacklog} workers to hand over` }
  }
  const fingerprints = new Set(nodes.map(n => JSON.stringify(n.node.rings().rings)))
  const members = new Set(nodes.map(n => n.view.snapshot().members.filter(m => m.liveness !== 'down' && m.status !== 'leaving').map(m => m.peerId).join(',')))
  if (fingerprints.size > 1 || members.size > 1) {
    return { invariant: INVARIANTS[6], detail: `the running nodes disagree: members ${[...members].join(' | ')}; rings ${fingerprints.size}` }
  }
  // at most one live copy of each worker, and count() says how many there are
  for (const pool of CHECKED_POOLS) {
    let live = 0
    for (let i = 0; i < workload.ids; i++) {
      const holders = nodes.filter(n => n.runtime.pool(pool)?.epochOf(String(i)) !== undefined).map(n => n.peerId)
      if (holders.length > 1) return { invariant: INVARIANTS[3], detail: `${pool}/${i} is live on ${holders.join(' and ')}` }
      live += holders.length
    }
    const counted = await sim.until(nodes[0].node.count(pool), 30_000).catch((err: Error) => err)
    if (counted instanceof Error) return { invariant: INVARIANTS[6], detail: `count(${pool}) failed: ${counted.name}: ${counted.message}` }
    if (counted !== live) return { invariant: INVARIANTS[6], detail: `count(${pool}) says ${counted}, ${live} are live` }
  }
  // each replicated worker's replicas are on its owner's successors, with the state it holds
  const replicated = replicasKept(input, nodes)
  if (!(replicated instanceof Map)) return replicated
  // every worker answers, with every acknowledged increment
  for (const pool of CHECKED_POOLS) {
    for (let i = 0; i < workload.ids; i++) {
      const id = String(i)
      const asker = nodes[i % nodes.length]
      const value = await sim.until(asker.node.ref<WorkMsg, number>(pool, id).call({ op: 'get' }), 30_000).catch((err: Error) => err)
      if (value instanceof Error) return { invariant: INVARIANTS[6], detail: `${pool}/${id} did not answer ${asker.peerId}: ${value.name}: ${value.message}` }
      const b = workload.of(pool, id)
      const high = b.acked + b.unknown
      if (pool === 'ledger') {
        const stored = store.read(id) ?? 0
        if (stored < b.acked || stored > high) return { invariant: INVARIANTS[1], detail: `ledger/${id}: the store holds ${stored}, acknowledged ${b.acked}, unknown ${b.unknown}` }
        if (value !== stored) return { invariant: INVARIANTS[1], detail: `ledger/${id}: the live worker holds ${value}, the store ${stored}` }
      } else {
        if (value > high) return { invariant: INVARIANTS[3], detail: `${pool}/${id} holds ${value}: more than the ${high} increments sent (a turn ran twice)` }
        for (const kept of pool === 'counter' ? replicated.get(id) ?? [] : []) {
          if (kept.n !== value) return { invariant: INVARIANTS[9], detail: `counter/${id} holds ${value}; its replica on ${kept.on} holds ${kept.n}` }
        }
        const since = input.excusedAcked?.get(`${pool}/${id}`)
        if (since !== undefined) {
          if (value < b.acked - since) return { invariant: INVARIANTS[2], detail: `${pool}/${id} holds ${value}, acknowledged ${b.acked}, ${b.acked - since} of them since it last may have lost its memory` }
        } else if (value < b.acked && !input.exempt.has(`${pool}/${id}`)) {
          return { invariant: INVARIANTS[2], detail: `${pool}/${id} holds ${value}, acknowledged ${b.acked}, and it never lived on a node killed or marked down` }
        }
      }
    }
  }
  return undefined
}

/**
 * After the faults, every live `counter` worker has a replica on each of the `replicas`
 * nodes that follow its owner on the ring, of its epoch: graceful operations and the
 * ring's changes left them where a failover looks for them. Returns, per id, the value
 * a replica holds (the worker's answer must match it), or the violation.
 */
function replicasKept (input: CheckInput, nodes: readonly SimNode[]): Map<string, Array<{ n: number, on: string }>> | Violation {
  const kept = new Map<string, Array<{ n: number, on: string }>>()
  const n = input.replicas ?? 0
  if (n <= 0) return kept
  const byId = new Map(nodes.map(node => [node.peerId, node]))
  for (let i = 0; i < input.workload.ids; i++) {
    const id = String(i)
    for (const holder of nodes) {
      const epoch = holder.runtime.pool('counter')?.epochOf(id)
      if (epoch === undefined) continue
      const ring = holder.placement().ring('counter')
      const owner = ring?.ownerOf(id)
      if (ring === undefined || owner !== holder.peerId) return { invariant: INVARIANTS[9], detail: `counter/${id} is live on ${holder.peerId}, whose ring names ${owner ?? 'nobody'}` }
      const first = ring.ownerWithout(id, owner)
      const successors = [first, n > 1 && first !== undefined ? ring.ownerWithout(id, owner, first) : undefined].filter((p): p is string => p !== undefined && p !== owner)
      for (const peer of successors) {
        const r = byId.get(peer)?.runtime.replicator.peek('counter', id)
        if (r === undefined || r.epoch !== epoch) {
          return { invariant: INVARIANTS[9], detail: `counter/${id} is live on ${holder.peerId} with epoch ${epoch}; its successor ${peer} keeps ${r === undefined ? 'no replica' : `one of epoch ${r.epoch}`}` }
        }
        kept.set(id, [...(kept.get(id) ?? []), { n: (r.state as { n: number }).n, on: peer }])
      }
    }
  }
  return kept
}

/**
 * Liveness, with a fault held in place: the cluster still makes progress. From every
 * running node the fault does not involve, every worker answers (within a call's
 * deadline, tried three times as a client would) and takes an increment.
 */
export async function checkProgress (input: CheckInput, involved: readonly string[], what: string): Promise<Violation | undefined> {
  const { sim, workload } = input
  const askers = sim.running().filter(n => !involved.includes(n.peerId) && n.time.pausedUntil() <= sim.clock.monotonic())
  if (askers.length === 0) return undefined
  for (const pool of CHECKED_POOLS) {
    for (let i = 0; i < workload.ids; i++) {
      const asker = askers[i % askers.length]
      let last: Error | undefined
      for (let attempt = 0; attempt < 3; attempt++) {
        const r = await sim.until(asker.node.ref<WorkMsg, number>(pool, String(i)).call({ op: 'get' }), 30_000).catch((err: Error) => err)
        last = r instanceof Error ? r : undefined
        if (last === undefined) break
      }
      if (last !== undefined) return { invariant: INVARIANTS[8], detail: `${pool}/${i} did not answer ${asker.peerId} three times with ${what}: ${last.name}: ${last.message}` }
    }
  }
  return undefined
}
