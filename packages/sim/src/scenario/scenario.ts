/**
 * One simulated run from one seed: a cluster of real nodes on the simulated network,
 * the workload's traffic, the fault plan's operations for a while, then every fault
 * healed, time to settle, and the checks. The same seed gives the same run: the same
 * trace, the same digest.
 */
import { NODE_OPERATIONS } from '@simplepool/runtime'
import type { AccessRules } from '@simplepool/runtime'
import type { Logger } from '@simplepool/core'
import { SimCluster } from '../sim-cluster.js'
import type { SimNode } from '../sim-node.js'
import { INVARIANTS, checkDuring, checkEnd, checkProgress } from './checks.js'
import type { Violation } from './checks.js'
import { FaultPlan } from './faults.js'
import type { Op } from './faults.js'
import { workloadPools } from './pools.js'
import { SimStore } from './store.js'
import { POOLS, Workload } from './workload.js'
import type { WorkerBooks } from './workload.js'

/** Access rules that grant every member every right: see `ScenarioOptions.access`. */
const GRANT_ALL: AccessRules = { roles: {}, pools: { '*': { call: ['*'], host: ['*'] } }, operations: Object.fromEntries(NODE_OPERATIONS.map(op => [op, ['*']])) }

/** What a run is made of. */
/** How close together two lost nodes make a replicated worker's loss excusable, in virtual ms: its replicas follow the ring within that. */
const LOSS_WINDOW_MS = 4_000

export interface ScenarioOptions {
  seed: number
  /** Nodes at the start; joins may add up to twice as many. @default 5 */
  nodes?: number
  /** Virtual seconds of traffic and faults before the faults stop. @default 60 */
  seconds?: number
  /** Workers per pool. @default 100 */
  ids?: number
  /** Mean virtual ms between two operations or faults. @default 2500 */
  faultGapMs?: number
  /** Every line of the trace as it happens; otherwise only the last ones are kept, for a failure. */
  onTrace?: (line: string) => void
  /** A worker (`pool/id`) whose every turn, move and store write is traced. */
  watch?: string
  /** Operations and faults never drawn. */
  exclude?: readonly Op[]
  /**
   * `safety` (the default): every fault heals at the end, and the cluster must be whole
   * again. `liveness`: one fault is held to the end (see `FaultPlan.hold`), and the
   * cluster must still make progress around it.
   */
  mode?: 'safety' | 'liveness'
  /**
   * Replicas of the `counter` pool's workers (memory only) on their ring successors. With
   * them, a worker of a node killed or marked down keeps every acknowledged increment
   * unless every node of its chain (its node and the successors that node replicated to)
   * was lost within `LOSS_WINDOW_MS` of the others, or none held its replica yet. @default 0
   */
  replicas?: 0 | 1 | 2
  /**
   * Replicas and live workers a node looks at per turn of its event loop after a ring
   * change (`RuntimeInit.replicaWalkPerTurn`): a few, and the walk spans many turns, as at
   * hundreds of thousands of workers. @default the runtime's
   */
  walk?: number
  /** The nodes' membership: gossip records (the default) or witnesses (docs/design/membership-v2.md). */
  membership?: 'gossip' | 'witness'
  /**
   * Run every node under access rules that grant every member everything (`'*'`): the
   * same cluster as without, through the rules' code (the placement's and the claims'
   * filters, every check on the way in), which must change nothing.
   */
  access?: boolean
}

/** What one run found. */
export interface ScenarioResult {
  seed: number
  violation?: Violation
  /** Operations and faults applied. */
  faults: number
  /** Messages sent by the workload. */
  messages: number
  /** A digest of every delivery: equal digests, equal runs. */
  digest: string
  events: number
  virtualMs: number
  /** The last lines of the trace before the end (all of them when `onTrace` took them). */
  tail: string[]
}

/** Lines of trace kept for a failure's report. */
const TAIL_LINES = 60
/** How long the operations begun may take to end after the last fault: a stop's handoff deadline is 30 s. */
const OPERATIONS_END_MS = 120_000
/** Virtual time after the last fault before the end checks: every deadline (down, forget, claims) has run out. */
const SETTLE_MS = 30_000

export async function runScenario (options: ScenarioOptions): Promise<ScenarioResult> {
  const nodes = options.nodes ?? 5
  const seconds = options.seconds ?? 60
  const tail: string[] = []
  // the pools, the trace and the workload need each other: made in turn, found through here
  const made: { sim?: SimCluster, workload?: Workload } = {}
  const trace = (line: string): void => {
    const stamped = `${((made.sim?.clock.monotonic() ?? 0) / 1_000).toFixed(3).padStart(8)}s ${line}`
    options.onTrace?.(stamped)
    tail.push(stamped)
    if (tail.length > TAIL_LINES) tail.shift()
  }
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (msg: string) => { trace(`warn: ${msg}`) },
    error: (msg: string) => { trace(`error: ${msg}`) }
  }
  const store = new SimStore()
  const pools = workloadPools(options.replicas ?? 0, store, {
    turn: (pool, ctx, msg, n) => { made.workload?.turn(pool, ctx, msg, n) },
    outOfOrder: (pool, id, from, seq, last) => { made.workload?.outOfOrder(pool, id, from, seq, last) },
    clockOf: (peerId) => {
      const n = made.sim?.nodes.get(peerId)
      if (n === undefined) throw new Error(`no node ${peerId}`)
      return n.time.clock
    }
  })
  const cluster = made.sim = new SimCluster({ seed: options.seed, pools, logger, membership: options.membership, ...(options.access === true ? { access: GRANT_ALL } : {}), ...(options.walk !== undefined ? { runtime: { replicaWalkPerTurn: options.walk } } : {}) })
  const books = made.workload = new Workload(cluster, options.ids ?? 100, trace)
  books.watch = options.watch
  books.holdersOf = (pool, id, node) => cluster.nodes.get(node)?.runtime.replicator.holders(pool, id)
  if (options.watch?.startsWith('ledger/') === true) {
    const key = options.watch.slice('ledger/'.length)
    store.onWrite = (k, value, epoch, ok) => { if (k === key) trace(`watch ${options.watch ?? ''}: store write ${value} epoch ${epoch}${ok ? '' : ' REFUSED'}`) }
  }
  // the workers whose memory a kill or a marked-down node may have cost
  const exempt = new Set<string>()
  const replicas = options.replicas ?? 0
  // nodes lost lately (killed, marked down, fenced): a replicated worker loses memory only
  // when its node and the successors it replicated to went within LOSS_WINDOW_MS of each other
  const lost = new Map<string, number>()
  // a replicated worker's excuse holds for what was acknowledged before it, never after:
  // per worker, how many increments were acknowledged at its last excuse, and the loss it
  // was for (the lost node and when: the others marking it down, or its fence, later, do
  // not raise it again)
  const excusedAcked = new Map<string, number>()
  const excusedFor = new Map<string, string>()
  // per node lost lately, per counter id: the nodes its replicas went to as it was lost
  const targetsOf = new Map<string, Map<string, readonly string[]>>()
  // per node lost lately, the counter workers on it (or leaving it) as it was first lost
  const heldWhenLost = new Map<string, Set<string>>()
  const lossy = (peerId: string, why: string): void => {
    const now = cluster.clock.monotonic()
    const since = now - 10_000
    // its copy is on that node, or was leaving it lately (a claim or handoff under way takes no state before it lands)
    const on = (b: WorkerBooks, peer: string): boolean => b.holder === peer || (b.movedFrom === peer && b.movedAt >= since)
    for (const [peer, at] of lost) if (at < now - LOSS_WINDOW_MS) lost.delete(peer)
    // lost when killed, first marked down, or fenced (it dropped its copies) if neither came
    // first: the fence of a node back from being marked down, or the others marking it down
    // one after another, does not start its window again
    for (const peer of targetsOf.keys()) if (!lost.has(peer)) targetsOf.delete(peer)
    for (const peer of heldWhenLost.keys()) if (!lost.has(peer)) heldWhenLost.delete(peer)
    const first = !lost.has(peerId)
    if (first) {
      lost.set(peerId, now)
      heldWhenLost.set(peerId, new Set([...books.books].filter(([key, b]) => key.startsWith('counter/') && on(b, peerId)).map(([key]) => key)))
    }
    {
      // where its workers' replicas were as it was lost (later its ring moves on without
      // them); lost again within the window, of the workers that came to it since, as they
      // are now (a worker handed to it between its fences; seed 41136, skipped, shows one
      // whose holders the books still cannot tell)
      const replicator = cluster.nodes.get(peerId)?.runtime.replicator
      const lostAt = lost.get(peerId) as number
      const targets = targetsOf.get(peerId) ?? new Map<string, readonly string[]>()
      for (let i = 0; replicas > 0 && replicator !== undefined && i < books.ids; i++) {
        const id = String(i)
        const b = books.of('counter', id)
        if (!first && !(b.holder === peerId && b.movedAt > lostAt)) continue
        // live there: its successors that acknowledged its replica; dropped by its fence just
        // now, after it last ran there: those that held it as its last increment was
        // acknowledged there (seed 7025 with --replicas 1 --partitions: acknowledged while
        // its node served the pool alone, none); handed on: its successors, from which it
        // starts again (a holder no successor any more keeps it only a while, and serves it
        // to no one: seed 3038)
        const successors = replicator.successors('counter', id, replicas)
        const held = replicator.holders('counter', id) ?? (b.holder === peerId && b.ackedOn?.node === peerId ? b.ackedOn.holders : undefined)
        targets.set(id, held?.filter(p => successors.includes(p)) ?? successors)
      }
      targetsOf.set(peerId, targets)
    }
    // a replicated worker on a node lost lately may have lost its memory when every node
    // that held its replica as that node was lost (see `Replicator.holders`: its successors
    // that acknowledged it, of that node's own ring then, not since, seed 3096; the owner
    // claiming it, where it ran a worker it did not own, seed 3022) was lost too; or when
    // none held it: no successor, as the only node serving the pool or one that others
    // joined while it stood still (seed 1001 with --replicas 1), one come back while it
    // served alone and not seen yet (seed 3264), or named during a turn still running (seed
    // 5059 with --replicas 2); or none reached, cut off (seed 7256 with --partitions)
    let n = 0
    for (const [key, b] of books.books) {
      const of = (peer: string): boolean => on(b, peer)
      if (replicas > 0 && key.startsWith('counter/')) {
        const id = key.slice('counter/'.length)
        for (const [x, at] of lost) {
          // its copy is on that node or was leaving it; or was there when that node was lost, and has moved since
          // to a node that started it from nothing, its replica's holder cut off (seed 52077
          // with --replicas 1 --partitions --walk 3: that holder lost later in the window)
          if (!of(x) && heldWhenLost.get(x)?.has(key) !== true) continue
          const held = (targetsOf.get(x)?.get(id) ?? []).some(p => !lost.has(p))
          const loss = `${x}@${at}`
          if (held || excusedFor.get(key) === loss) continue
          n++
          excusedFor.set(key, loss)
          excusedAcked.set(key, b.acked)
        }
      } else if (of(peerId)) {
        if (!exempt.has(key)) n++
        exempt.add(key)
      }
    }
    trace(`${why}: ${n} more workers may lose their memory (lost lately: ${[...lost.keys()].join(', ')})`)
  }
  const listen = (node: SimNode): void => {
    node.node.addEventListener('worker:migrate', (e) => { if (e.detail.to === node.peerId) books.moved(e.detail.pool, e.detail.id, node.peerId) })
    // a replicated worker may start from its replica on a node no turn of it ran on yet
    if (replicas > 0) node.node.addEventListener('worker:activate', (e) => { if (e.detail.pool === 'counter') books.activated(e.detail.pool, e.detail.id, node.peerId) })
    if (options.watch !== undefined) {
      // the watched worker's life on this node, for a replay's trace
      const mine = (d: { pool: string, id: string }): boolean => `${d.pool}/${d.id}` === options.watch
      node.node.addEventListener('worker:activate', (e) => { if (mine(e.detail)) trace(`watch ${options.watch ?? ''}: activated on ${node.peerId}, epoch ${e.detail.epoch}`) })
      node.node.addEventListener('worker:passivate', (e) => { if (mine(e.detail)) trace(`watch ${options.watch ?? ''}: passivated on ${node.peerId} (${e.detail.reason})`) })
      node.node.addEventListener('worker:migrate', (e) => { if (mine(e.detail) && e.detail.from === node.peerId) trace(`watch ${options.watch ?? ''}: handed from ${node.peerId} to ${e.detail.to}`) })
    }
    node.node.addEventListener('member:down', (e) => { lossy(e.detail.peerId, `${node.peerId} marked ${e.detail.peerId} down`) })
    node.node.addEventListener('node:fence', (e) => {
      if (e.detail.dropped === 0) return
      lossy(node.peerId, `${node.peerId} fenced ${e.detail.dropped} copies`)
      books.dropped(node.peerId)
    })
  }
  for (let i = 1; i <= nodes; i++) listen(cluster.add(`n${i}`))
  // a graceful stop hands its workers to the nodes that stay; with no other running node
  // serving a pool (each drained, its target 0, or stopping) they had nowhere to go, and
  // those of a pool without `save` ended with their memory, as designed. A node serves a
  // pool as the rings say: its status `up` (a node drained whole stays `draining` whatever
  // targets it is given since), its target above 0, and not marked down by the stopping
  // node (its rings leave it out: a handoff there fails, and the workers stay; seed 11222).
  // Per pool, the nodes that serve it.
  const servedBesides = (node: SimNode): Map<string, Set<string>> => {
    const up = (n: SimNode): boolean => n.view.snapshot().members.find(m => m.peerId === n.peerId)?.status === 'up'
    const down = new Set(node.view.snapshot().members.filter(m => m.liveness === 'down').map(m => m.peerId))
    const serving = (pool: string): Set<string> => new Set(cluster.running().filter(n => n !== node && up(n) && !down.has(n.peerId) && (n.runtime.pool(pool)?.target ?? 0) > 0).map(n => n.peerId))
    return new Map(POOLS.map(pool => [pool, serving(pool)]))
  }
  // what other nodes served, and what the node held, as each stop began: a node that starts
  // serving while the stop runs (an undrain a moment before its end) may come too late for
  // the stopping node to hear, and a worker it held may meanwhile start afresh there; so a
  // pool counts as served only by a node that served it from the stop's start to its end
  // (one drained during the stop and another come a moment before its end served none of
  // it throughout: seed 154201)
  const atStop = new Map<string, { served: Map<string, Set<string>>, held: Set<string> }>()
  const plan = new FaultPlan(cluster, {
    joined: (node) => { listen(node) },
    stopping: (node) => {
      const held = new Set([...books.books].filter(([, b]) => b.holder === node.peerId).map(([key]) => key))
      atStop.set(node.peerId, { served: servedBesides(node), held })
    },
    stopped: (node) => {
      const start = atStop.get(node.peerId)
      const end = servedBesides(node)
      const serving = new Set<string>(POOLS.filter(pool => [...(end.get(pool) ?? [])].some(n => start === undefined || start.served.get(pool)?.has(n) === true)))
      let n = 0
      for (const [key, b] of books.books) {
        if ((b.holder !== node.peerId && start?.held.has(key) !== true) || serving.has(key.slice(0, key.indexOf('/')))) continue
        // a replicated worker's excuse covers what was acknowledged until now, as a loss's does
        if (replicas > 0 && key.startsWith('counter/')) {
          n++
          excusedAcked.set(key, b.acked)
        } else {
          if (!exempt.has(key)) n++
          exempt.add(key)
        }
      }
      if (n > 0) trace(`${node.peerId} stopped with no other node serving their pools: ${n} more workers may lose their memory`)
    },
    killed: (node) => {
      lossy(node.peerId, `${node.peerId} was killed`)
      books.killed(node.peerId)
    },
    trace
  }, nodes * 2, nodes + 1, options.exclude)
  const result = (violation?: Violation): ScenarioResult => ({
    seed: options.seed,
    violation,
    faults: plan.applied,
    messages: books.sent,
    digest: `${cluster.network.digest}-${cluster.clock.events}`,
    events: cluster.clock.events,
    virtualMs: cluster.clock.monotonic(),
    tail
  })
  try {
    await cluster.started()
    books.start(10)
    plan.start(options.faultGapMs ?? 2_500)
    await cluster.advance(seconds * 1_000)
    plan.stop()
    books.stop()
    trace('faults stop; every link mended')
    const held = options.mode === 'liveness' ? plan.hold() : undefined
    // stops, drains and undrains begun end (or fail) before the checks; one that never
    // ends is a call that never ends
    const ended = await cluster.until(Promise.all(plan.inFlight.keys()), OPERATIONS_END_MS).then(() => true, () => false)
    const stuck = [...plan.inFlight.values()].map(op => op.what)
    await cluster.advance(SETTLE_MS)
    const input = { sim: cluster, store, workload: books, unsettled: plan.unsettled, exempt, excusedAcked, replicas }
    const violation = checkDuring(input) ??
      (ended ? undefined : { invariant: INVARIANTS[5], detail: `operations never ended: ${stuck.join('; ')}` }) ??
      (held === undefined ? await checkEnd(input) : await checkProgress(input, held.involved, held.what))
    if (violation !== undefined) trace(`VIOLATION ${violation.invariant}: ${violation.detail}`)
    return result(violation)
  } finally {
    for (const n of cluster.running()) n.kill()
  }
}
