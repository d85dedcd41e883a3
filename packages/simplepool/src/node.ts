import { monitorEventLoopDelay } from 'node:perf_hooks'
import { AbortError, InvalidMessageError, InvalidOptionError, TimeoutError, TypedEventTarget, UnknownPoolError, consoleLogger, interceptListeners } from '@simplepool/core'
import type { Logger } from '@simplepool/core'
import { Placement } from '@simplepool/ring'
import { Mesh, validateTargets } from '@simplepool/mesh'
import type { MeshEvents, MeshInit } from '@simplepool/mesh'
import { Transport } from '@simplepool/transport'
import type { TransportInit } from '@simplepool/transport'
import {
  FIRST_NODE_OP, NODE_CRITICAL_LOOP_DELAY_MS, NODE_DEGRADED_LOOP_DELAY_MS, Runtime, checkSignal, opOf, timeoutOf, worse
} from '@simplepool/runtime'
import type {
  AbortOptions, CountOptions, HealthStatus, NodeHealth, Pool, PoolHealth, RuntimeEvents, RuntimeInit, SpawnManyOptions, SpawnOptions,
  WorkerLocation, WorkerRef
} from '@simplepool/runtime'
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_FORGET_AFTER_MS, DEFAULT_SUSPECT_AFTER_MS } from '@simplepool/core'
import { NodeMetrics } from './metrics.js'
import type { AdminNode, MemberInfo, RingsView, WatchFigures, WorkerHere } from './admin/admin-node.js'
import { AdminHttp, validateAdminOptions } from './admin/http-server.js'
import type { AdminOptions } from './admin/http-server.js'
import { addAdminRoutes } from './admin/routes.js'
import type { AdminEventLog } from './admin/event-log.js'
import { ClusterWatch } from './admin/cluster-watch.js'
import { NodeRecord } from './node-record.js'

/** Options of `createNode`. Only `pools` is required. */
export interface NodeInit extends Omit<MeshInit, 'targets' | 'counts' | 'announce'> {
  /** The pools this node runs. */
  pools: ReadonlyArray<Pool<any, any, any>>
  /** This node's target per pool: its weight on the pool's ring. A pool not named takes its own `target`, or 100000. */
  targets?: Record<string, number>
  /** Transport limits and deadlines. */
  transport?: TransportInit
  /** Runtime tuning: forwarding hops, timing-wheel resolution, spawn batch size. */
  runtime?: Omit<RuntimeInit, 'pools' | 'targets'>
  /** Also export Node.js process metrics (CPU, memory, GC, event loop) from `metrics()`. @default true */
  processMetrics?: boolean
  /** Serve the admin HTTP API (on 127.0.0.1 unless `host` says otherwise) while the node runs. Off by default. */
  admin?: AdminOptions
}

/** Events of a node: membership from the mesh, workers from the runtime. */
export interface NodeEvents extends MeshEvents, RuntimeEvents {}

/** Operations between nodes, outside the runtime's own. */
const NodeOp = {
  /** `[op, targets]`: set the receiver's own targets */
  SetTargets: FIRST_NODE_OP,
  /** `[op]` → the receiver's `health()` */
  Health: FIRST_NODE_OP + 1,
  /** `[op, pools | null]`: the receiver drains itself (those pools, or all) */
  Drain: FIRST_NODE_OP + 2,
  /** `[op, pools | null]`: the receiver takes back the targets it had before draining */
  Undrain: FIRST_NODE_OP + 3,
  /** `[op, pools | null]` → workers of those pools (or all) still on the receiver; -1 when one of them is not drained (any more) */
  Held: FIRST_NODE_OP + 4,
  /** `[op, pool]`: the receiver looks again for workers of the pool whose owner moved */
  Rebalance: FIRST_NODE_OP + 5,
  /** `[op, withinMs]` → whether the receiver marked the sender down within the last `withinMs` (or does not know it) */
  MarkedDown: FIRST_NODE_OP + 6,
  /** `[op]` → the receiver's {@link RingsView}: its placement version and each pool's ring fingerprint */
  Rings: FIRST_NODE_OP + 7,
  /** `[op, afterEventId | null]` → the receiver's {@link WatchFigures} and the events it logged after that id */
  Watch: FIRST_NODE_OP + 8,
  /** `[op, pool, id]` → {@link WorkerHere}: the worker as it lives on the receiver (or null), and its moves there that the receiver remembers */
  Inspect: FIRST_NODE_OP + 9,
  /** `[op, pool]` → per destination, the receiver's workers of the pool a rebalance would move now */
  Plan: FIRST_NODE_OP + 10
} as const

/** A node back from a stall asks about the stall and this much before it (its last record may be that old). */
const MARKED_DOWN_MARGIN_MS = 5_000

/** Options of `drain`. */
export interface DrainOptions extends AbortOptions {
  /** Drain only these pools; the node keeps serving the others. @default every pool */
  pools?: string[]
  /**
   * false: resolve once the node has begun to drain; its end shows in the event log
   * (`drain:done`, `drain:cancel` when undone first, `drain:fail`). @default true
   */
  wait?: boolean
}

/** Options of {@link SimplePoolNode.stop}. */
export interface StopOptions extends AbortOptions {
  /**
   * How long to hand workers to the nodes that stay before leaving; what is left then is
   * saved (`save`) and deactivated. 0 skips the handoff. @default 30000
   */
  drainTimeoutMs?: number
}

/** How long `drain` waits for a node to empty by default, in ms. */
const DEFAULT_DRAIN_TIMEOUT_MS = 10 * 60_000

/** A target change smaller than this share of the announced target moves nothing. */
const TARGET_BAND = 0.05

/** How long `stop` hands workers to the other nodes before it saves what is left, by default. */
const DEFAULT_STOP_DRAIN_TIMEOUT_MS = 30_000

/** How often `stop` looks whether its workers have left. */
const STOP_DRAIN_POLL_MS = 50

/** How often `drain` asks how many workers are left. */
const DRAIN_POLL_MS = 200

/** How often a drain logs how many workers are left, at most. */
const DRAIN_PROGRESS_MS = 1_000

/** A joining node takes work once no new member appeared for this long (two heartbeats), or after the maximum. */
const SETTLE_QUIET_MS = 1_000
const SETTLE_MAX_MS = 5_000
const SETTLE_POLL_MS = 50

/** How long an event-loop delay window lasts before `health()` starts a new one, in ms. */
const LOOP_WINDOW_MS = 10_000

/**
 * A SimplePool node: one libp2p host (membership and direct streams) and one runtime
 * with this node's pools. Make one with {@link createNode}.
 */
export class SimplePoolNode extends TypedEventTarget<NodeEvents> implements AdminNode {
  /** Membership and the libp2p host. */
  readonly mesh: Mesh
  /** Direct messages to other nodes. */
  readonly transport: Transport
  /** This node's pools and workers. */
  readonly runtime: Runtime
  private readonly metricsExport: NodeMetrics
  private readonly logger: Logger
  private readonly bootstrap: readonly string[]
  /** The targets this node announces, which the rings follow; see {@link ringTargets}. */
  private readonly announced: Record<string, number> = {}
  /** How long the mesh remembers members marked down (`forgetAfterMs`). */
  private readonly forgetAfterMs: number
  /** Targets this node had before it was drained, per drained pool. */
  private readonly drained = new Map<string, number>()
  private placementCache?: Placement
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 })
  private loopWindowStart = 0
  private lastLoopP99 = 0
  private readonly admin?: AdminHttp
  /** The admin API's watch of the cluster (dashboard, cluster events); idle while nobody watches. */
  private readonly watch?: ClusterWatch
  /** What this node records for operators: its events and the last moves onto it. */
  private readonly record: NodeRecord
  private adminBound?: { host: string, port: number }

  constructor (init: NodeInit) {
    super()
    if (init == null || typeof init !== 'object') throw new InvalidOptionError(`createNode takes an options object, got ${typeof init}`)
    const { pools, targets, transport, runtime, processMetrics, admin, ...meshInit } = init
    if (targets !== undefined) validateTargets(targets)
    this.logger = init.logger ?? consoleLogger('simplepool')
    if (admin !== undefined) {
      const options = validateAdminOptions(admin)
      this.admin = new AdminHttp(options)
      this.watch = new ClusterWatch(this, options.token !== undefined, this.logger)
      // the routes read the node only when asked: adding them before it is built is safe
      addAdminRoutes(this.admin, this, this.watch)
    }
    this.bootstrap = init.bootstrap ?? []
    this.forgetAfterMs = init.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS
    let mesh: Mesh | undefined
    this.runtime = new Runtime({
      self: () => (mesh as Mesh).peerId,
      placement: () => this.placement(),
      members: () => (mesh as Mesh).snapshot().members,
      countOf: (peerId, pool) => (mesh as Mesh).figures(peerId)?.counts[pool],
      markedDown: async (pausedMs, options) => await this.markedDown(pausedMs, options),
      transport: {
        cast: (peer, payload) => { this.transport.cast(peer, payload) },
        call: async (peer, payload, options) => await this.transport.call(peer, payload, options)
      },
      clock: init.clock,
      logger: this.logger
    }, {
      // a stall the others may have taken for a failure: as long as it takes them to suspect one
      fenceAfterMs: meshInit.suspectAfterMs ?? DEFAULT_SUSPECT_AFTER_MS,
      ...runtime,
      pools,
      targets
    })
    // joining until the transport takes calls: an `up` node must answer whoever routes to it
    mesh = new Mesh({ ...meshInit, targets: this.ringTargets(), counts: () => this.runtime.counts(), announce: false, logger: this.logger })
    this.mesh = mesh
    this.transport = new Transport({ ...mesh.streams(), clock: init.clock, logger: this.logger }, transport)
    this.transport.setHandlers({
      onCall: (payload, from) => opOf(payload) >= FIRST_NODE_OP ? this.nodeOp(payload as unknown[], from) : this.runtime.handleCall(payload, from),
      onCast: (payload, from) => { this.runtime.handleCast(payload, from) }
    })
    // a new ring: the workers whose owner moved are handed over
    mesh.addEventListener('membership:change', () => { this.runtime.onPlacement(this.placement()) })
    // pending calls to a peer the membership gave up on fail at once, not at their deadline
    mesh.addEventListener('member:down', (evt) => { this.transport.peerDown(evt.detail.peerId) })
    mesh.addEventListener('member:leave', (evt) => { this.transport.peerDown(evt.detail.peerId, `peer ${evt.detail.peerId} left`) })
    this.metricsExport = new NodeMetrics(this, processMetrics ?? true)
    // listeners go to the part that raises the event, so no event is dispatched twice
    interceptListeners(this, (own, type, listener, options) => {
      const target = this.targetOf(type)
      if (target !== undefined) target.addEventListener(type, listener, options)
      else own(type, listener, options)
    }, (own, type, listener, options) => {
      const target = this.targetOf(type)
      if (target !== undefined) target.removeEventListener(type, listener, options)
      else own(type, listener, options)
    })
    this.record = new NodeRecord(this)
  }

  /**
   * What an operator watches happen on this node. Every node keeps it (a bounded buffer),
   * so a watcher on any node can show the whole cluster's events.
   */
  get eventLog (): AdminEventLog {
    return this.record.events
  }

  /** This node's peer id. */
  get peerId (): string {
    return this.mesh.peerId
  }

  /** Multiaddrs with `/p2p/<peerId>`, usable as another node's `bootstrap`. */
  get addresses (): string[] {
    return this.mesh.addresses
  }

  /** Starts the host, the transport and the runtime, then announces `up`. */
  async start (): Promise<void> {
    // first: a port already taken fails the start before anything else runs
    if (this.admin !== undefined && this.adminBound === undefined) this.adminBound = await this.admin.listen()
    await this.mesh.start()
    await this.transport.start()
    this.runtime.start()
    this.runtime.onPlacement(this.placement())
    this.loopDelay.enable()
    if (this.bootstrap.length > 0) await this.settleMembership()
    this.mesh.setStatus('up')
  }

  /** Where the admin API listens, once started with `admin`; undefined otherwise. */
  get adminAddress (): { host: string, port: number } | undefined {
    return this.adminBound
  }

  /**
   * Waits, before this node takes work, until it knows the cluster: until no new member has
   * appeared for two heartbeats (at most 5 s). A node that took work knowing only its
   * bootstrap node would activate workers that others still hold, instead of claiming them.
   */
  private async settleMembership (): Promise<void> {
    const started = performance.now()
    let members = this.mesh.snapshot().members.length
    let changedAt = started
    while (performance.now() - started < SETTLE_MAX_MS) {
      await new Promise(resolve => setTimeout(resolve, SETTLE_POLL_MS))
      const now = this.mesh.snapshot().members.length
      if (now !== members) {
        members = now
        changedAt = performance.now()
      } else if (members > 1 && performance.now() - changedAt >= SETTLE_QUIET_MS) {
        return
      }
    }
  }

  /**
   * Leaves the cluster gracefully: hands this node's workers to the nodes that stay, with
   * their state (for up to `drainTimeoutMs`), then announces `leaving`, saves and
   * deactivates what is left, and stops taking messages. Calling it twice is harmless.
   */
  async stop (options: StopOptions = {}): Promise<void> {
    // watchers first: a tick would ask members while the transport goes away
    this.watch?.close()
    if (this.mesh.isRunning) await this.drainBeforeStop(options)
    // tell the others, so they stop routing here while what is left is saved
    if (this.mesh.isRunning) this.mesh.setStatus('leaving')
    await this.runtime.stop(options)
    await this.transport.stop()
    await this.mesh.stop()
    this.loopDelay.disable()
    this.eventLog.close()
    await this.admin?.close()
    this.adminBound = undefined
  }

  /** A ref to worker `id` of `pool`; throws `UnknownPoolError` for a pool no node runs. */
  ref<M = unknown, R = unknown> (pool: string, id: string): WorkerRef<M, R>
  ref<S, M, R> (pool: Pool<S, M, R>, id: string): WorkerRef<M, R>
  ref (pool: string | Pool<any, any, any>, id: string): WorkerRef {
    return this.runtime.ref(typeof pool === 'string' ? pool : pool.name, id)
  }

  /** Activates a worker on its owner: `sync` (the default), `async` or `lazy`. */
  async spawn (pool: string, id: string, options?: SpawnOptions): Promise<WorkerLocation | null> {
    return await this.runtime.spawn(pool, id, options)
  }

  /** Activates many workers in batches, yielding between them. Resolves with how many are live. */
  async spawnMany (pool: string, ids: readonly string[], options?: SpawnManyOptions): Promise<number> {
    return await this.runtime.spawnMany(pool, ids, options)
  }

  /** True when the worker is live somewhere; never activates it. */
  async alive (pool: string, id: string, options?: AbortOptions): Promise<boolean> {
    return await this.runtime.alive(pool, id, options)
  }

  /** Where the worker is live, or null; never activates it. */
  async where (pool: string, id: string, options?: AbortOptions): Promise<WorkerLocation | null> {
    return await this.runtime.where(pool, id, options)
  }

  /** Workers of a pool: exact over the cluster, or this node's with `{ local: true }`. */
  async count (pool: string, options?: CountOptions): Promise<number> {
    return await this.runtime.count(pool, options)
  }

  /** Saves and deactivates a worker now (after the messages queued before). True when one was live. */
  async stopWorker (pool: string, id: string, options?: AbortOptions): Promise<boolean> {
    return await this.runtime.stopWorker(pool, id, options)
  }

  /** Every member this node knows, itself included, with targets and counts from their heartbeats. */
  members (): MemberInfo[] {
    const self = this.peerId
    const ownCounts = this.runtime.counts()
    return this.mesh.snapshot().members.map((m) => {
      const counts = m.peerId === self ? ownCounts : (this.mesh.figures(m.peerId)?.counts ?? {})
      const pools: Record<string, { target: number, count: number }> = {}
      for (const [name, p] of Object.entries(m.pools)) pools[name] = { target: p.target, count: counts[name] ?? 0 }
      return { peerId: m.peerId, status: m.status, liveness: m.liveness, addresses: m.addresses, pools }
    })
  }

  /**
   * Sets a node's targets (its ring weights) for the pools named; any node may set any
   * node's. The change reaches every node with that node's next heartbeat.
   */
  async setTargets (peerId: string, targets: Record<string, number>, options: AbortOptions = {}): Promise<void> {
    validateTargets(targets)
    checkSignal(options.signal)
    await this.nodeCall(peerId, [NodeOp.SetTargets, targets], options)
  }

  /**
   * Takes a node out of service for maintenance: its targets for the pools (all, by
   * default) go to 0 (and its status to `draining` when all), so their workers move to the
   * other nodes through the handoff, at the migration budget, while the node keeps routing.
   * Resolves once the node holds none of them; rejects with `TimeoutError` if it does not
   * within `timeoutMs` (default 10 minutes). Any node may drain any node.
   */
  async drain (peerId: string, options: DrainOptions = {}): Promise<void> {
    checkSignal(options.signal)
    const pools = options.pools ?? null
    await this.nodeCall(peerId, [NodeOp.Drain, pools], options)
    if (options.wait !== false) {
      await this.untilDrained(peerId, pools, options)
      return
    }
    // not waited for: its end (done, undone, failed) is logged, and no request's signal ends it
    this.untilDrained(peerId, pools, { timeoutMs: options.timeoutMs }).catch((err: Error) => {
      // undone by an undrain: what the operator asked for, not a failure
      if (err.name !== 'AbortError') this.logger.warn(`the drain of ${peerId} did not finish: ${err.name}: ${err.message}`)
    })
  }

  /**
   * Polls a drained node until it holds none of the pools' workers, logging its progress
   * once a second for watchers. Rejects with `AbortError` when the drain is undone
   * meanwhile, `TimeoutError` at the deadline.
   */
  private async untilDrained (peerId: string, pools: string[] | null, options: AbortOptions): Promise<void> {
    const deadline = performance.now() + timeoutOf(options, DEFAULT_DRAIN_TIMEOUT_MS)
    let loggedAt = performance.now()
    let lastHeld = -1
    try {
      for (;;) {
        const held = await this.nodeCall(peerId, [NodeOp.Held, pools], options) as number
        if (held === 0) {
          this.eventLog.add('drain:done', { member: peerId, pools })
          return
        }
        if (held < 0) throw new AbortError(`the drain of ${peerId} was undone`, { peer: peerId })
        // once a second while it moves: the watchers' progress bar
        if (held !== lastHeld && performance.now() - loggedAt >= DRAIN_PROGRESS_MS) {
          this.eventLog.add('drain:progress', { member: peerId, pools, left: held })
          loggedAt = performance.now()
          lastHeld = held
        }
        if (performance.now() > deadline) throw new TimeoutError(`${held} workers are still on ${peerId}`, { peer: peerId, held })
        await new Promise(resolve => setTimeout(resolve, DRAIN_POLL_MS))
        checkSignal(options.signal)
      }
    } catch (err) {
      const e = err as Error
      this.eventLog.add(e.name === 'AbortError' ? 'drain:cancel' : 'drain:fail', { member: peerId, pools, error: { name: e.name, message: e.message } })
      throw err
    }
  }

  /** Puts a drained node back in service with the targets it had; its share of workers moves back to it. */
  async undrain (peerId: string, options: DrainOptions = {}): Promise<void> {
    checkSignal(options.signal)
    await this.nodeCall(peerId, [NodeOp.Undrain, options.pools ?? null], options)
  }

  /** Every node looks again for workers of `pool` whose owner moved, and hands them over now. */
  async rebalance (pool: string, options: AbortOptions = {}): Promise<void> {
    checkSignal(options.signal)
    const members = this.mesh.snapshot().members.filter(m => m.liveness !== 'down' && m.pools[pool] !== undefined)
    await Promise.all(members.map(async m => await this.nodeCall(m.peerId, [NodeOp.Rebalance, pool], options)))
  }

  /** This node's health, per pool and as a whole; see the README for the rules. */
  health (): NodeHealth {
    const now = performance.now()
    const loopP99 = this.loopDelayP99(now)
    const pools: Record<string, PoolHealth> = {}
    let status: HealthStatus = 'online'
    const reasons: string[] = []
    for (const view of this.runtime.poolViews()) {
      const judged = view.health()
      pools[view.name] = judged
      status = worse(status, judged.status)
      for (const r of judged.reasons) reasons.push(`${view.name}: ${r}`)
    }
    if (loopP99 >= NODE_CRITICAL_LOOP_DELAY_MS) {
      status = 'critical'
      reasons.push(`event-loop delay p99 ${loopP99.toFixed(0)} ms`)
    } else if (loopP99 >= NODE_DEGRADED_LOOP_DELAY_MS) {
      status = worse(status, 'degraded')
      reasons.push(`event-loop delay p99 ${loopP99.toFixed(0)} ms`)
    }
    return { node: this.peerId, status, eventLoopDelayP99Ms: loopP99, migrationBacklog: this.runtime.migrationBacklog, pools, reasons }
  }

  /** Another node's health, asked over the transport (this node's own without a message). */
  async healthOf (peerId: string, options: AbortOptions = {}): Promise<NodeHealth> {
    checkSignal(options.signal)
    return await (this.nodeCall(peerId, [NodeOp.Health], options) as Promise<NodeHealth>)
  }

  /** This node's rings: its placement version and each pool's ring fingerprint. */
  rings (): RingsView {
    const placement = this.placement()
    const rings: Record<string, string> = {}
    for (const pool of placement.pools()) rings[pool] = placement.ring(pool)?.fingerprint ?? ''
    return { node: this.peerId, version: placement.version, rings }
  }

  /** Another node's rings (see {@link rings}), asked of it. */
  async ringsOf (peerId: string, options: AbortOptions = {}): Promise<RingsView> {
    checkSignal(options.signal)
    return await (this.nodeCall(peerId, [NodeOp.Rings], options) as Promise<RingsView>)
  }

  /** This node's figures for a watcher, and the events it logged after `afterEventId`. */
  watchFigures (afterEventId?: string): WatchFigures {
    return this.record.figures(afterEventId)
  }

  /** Another node's {@link watchFigures}, asked of it. */
  async watchFiguresOf (peerId: string, afterEventId: string | undefined, options: AbortOptions = {}): Promise<WatchFigures> {
    checkSignal(options.signal)
    return await (this.nodeCall(peerId, [NodeOp.Watch, afterEventId ?? null], options) as Promise<WatchFigures>)
  }

  /**
   * Worker `id` as `peerId` sees it: as it lives there (epoch, mailbox, why it is there;
   * see `Runtime.whereHere`), or null, and its moves there that `peerId` remembers.
   */
  async inspectOn (peerId: string, pool: string, id: string, options: AbortOptions = {}): Promise<WorkerHere> {
    checkSignal(options.signal)
    return await (this.nodeCall(peerId, [NodeOp.Inspect, pool, id], options) as Promise<WorkerHere>)
  }

  /** What a rebalance of `pool` would move from `peerId` now: per destination, how many workers. */
  async movePlanOf (peerId: string, pool: string, options: AbortOptions = {}): Promise<Record<string, number>> {
    checkSignal(options.signal)
    return await (this.nodeCall(peerId, [NodeOp.Plan, pool], options) as Promise<Record<string, number>>)
  }

  /** This node's metrics in the Prometheus text format. */
  async metrics (): Promise<string> {
    return await this.metricsExport.text()
  }

  /** The content type of {@link metrics}, for an HTTP response. */
  get metricsContentType (): string {
    return this.metricsExport.contentType
  }

  /** The placement of the current membership, rebuilt only when its version moved. */
  placement (): Placement {
    const snap = this.mesh.snapshot()
    if (this.placementCache?.version !== snap.version) this.placementCache = Placement.fromSnapshot(snap, this.placementCache)
    return this.placementCache
  }

  private targetOf (type: string): EventTarget | undefined {
    if (type.startsWith('worker:') || type.startsWith('node:') || type.startsWith('migration:')) return this.runtime.events
    if (type.startsWith('member:') || type.startsWith('membership:') || type.startsWith('mesh:')) return this.mesh
    return undefined
  }

  /**
   * After a stall of `pausedMs`: did any other member mark this node down meanwhile? The
   * question counts as a sign of life (see `NodeOp.MarkedDown`), so a member that answers
   * no will not mark this node down for that stall. A member that does not answer, or a
   * stall so long that the others forgot what they marked, counts as yes.
   */
  private async markedDown (pausedMs: number, options: { timeoutMs: number }): Promise<boolean> {
    // stood still so long that the others have forgotten they marked it down: it was
    if (pausedMs + MARKED_DOWN_MARGIN_MS >= this.forgetAfterMs) return true
    this.mesh.announceNow()
    const others = this.mesh.snapshot().members.filter(m => m.peerId !== this.peerId && m.liveness !== 'down' && m.status !== 'leaving')
    const answers = await Promise.all(others.map(async m =>
      await this.transport.call(m.peerId, [NodeOp.MarkedDown, pausedMs + MARKED_DOWN_MARGIN_MS], options).catch(() => true)))
    return answers.some(a => a !== false)
  }

  /**
   * The targets the rings follow: each pool's target, except that a change within 5% of
   * the one announced keeps the announced one, so nudging a target moves no worker (and a
   * target that drifts by small steps moves them once per 5%, not on every step).
   */
  private ringTargets (): Record<string, number> {
    const targets = this.runtime.targets()
    for (const [pool, t] of Object.entries(targets)) {
      const prev = this.announced[pool]
      if (prev === undefined || t === 0 || prev === 0 || Math.abs(t - prev) > TARGET_BAND * prev) this.announced[pool] = t
      targets[pool] = this.announced[pool]
    }
    return targets
  }

  /** Applies all the targets or none: every pool named must be one of this node's. */
  private applyTargets (targets: Record<string, number>): void {
    for (const pool of Object.keys(targets)) {
      if (this.runtime.pool(pool) === undefined) throw new UnknownPoolError(`node ${this.peerId} does not run pool ${pool}`, { pool })
    }
    for (const [pool, t] of Object.entries(targets)) this.runtime.setTarget(pool, t)
    this.mesh.setTargets(this.ringTargets())
  }

  private nodeOp (p: unknown[], from: string = this.peerId): unknown {
    switch (p[0]) {
      case NodeOp.SetTargets: {
        validateTargets(p[1])
        this.applyTargets(p[1])
        return true
      }
      case NodeOp.Health: return this.health()
      case NodeOp.Rings: return this.rings()
      case NodeOp.Drain:
        this.drainSelf(this.poolsOf(p[1]), p[1] == null)
        return true
      case NodeOp.Undrain:
        this.undrainSelf(this.poolsOf(p[1]))
        return true
      case NodeOp.MarkedDown: {
        const within = p[1]
        if (typeof within !== 'number' || !Number.isFinite(within) || within < 0) throw new InvalidMessageError('withinMs must be a number >= 0')
        // the question itself proves the asker alive: its silence restarts before the answer,
        // so no sweep can mark it down after a "no". Unknown here (forgotten) or down: yes.
        if (!this.mesh.heardFrom(from)) return true
        const ago = this.mesh.markedDownAgo(from)
        return ago !== undefined && ago <= within
      }
      case NodeOp.Held: {
        const pools = this.poolsOf(p[1])
        // undrained since: -1 tells the drain's caller to stop waiting
        if (pools.some(pool => !this.drained.has(pool))) return -1
        return pools.reduce((n, pool) => n + (this.runtime.pool(pool)?.size ?? 0), 0)
      }
      case NodeOp.Rebalance:
        this.poolsOf([p[1]])
        this.runtime.rebalance()
        return true
      case NodeOp.Watch: {
        const after = p[1]
        if (after !== null && after !== undefined && typeof after !== 'string') throw new InvalidMessageError('afterEventId must be a string or null')
        return this.watchFigures(after ?? undefined)
      }
      case NodeOp.Inspect: {
        const [pool] = this.poolsOf([p[1]])
        if (typeof p[2] !== 'string') throw new InvalidMessageError('id must be a string')
        return { where: this.runtime.whereHere(pool, p[2]), moves: this.record.moves.of(pool, p[2]) }
      }
      case NodeOp.Plan: {
        const [pool] = this.poolsOf([p[1]])
        return this.runtime.movePlan(pool)
      }
      default: throw new InvalidMessageError(`unknown node operation ${String(p[0])}`)
    }
  }

  /** A node operation on this node, or on another through the transport. */
  private async nodeCall (peerId: string, payload: unknown[], options: AbortOptions): Promise<unknown> {
    if (peerId === this.peerId) return this.nodeOp(payload)
    return await this.transport.call(peerId, payload, { timeoutMs: timeoutOf(options, DEFAULT_CALL_TIMEOUT_MS), signal: options.signal })
  }

  /** The pools a node operation names (`null`: all of this node's), each checked. */
  private poolsOf (pools: unknown): string[] {
    if (pools == null) return this.runtime.poolNames()
    if (!Array.isArray(pools)) throw new InvalidMessageError('pools must be an array of pool names')
    for (const pool of pools) {
      if (typeof pool !== 'string' || this.runtime.pool(pool) === undefined) throw new UnknownPoolError(`node ${this.peerId} does not run pool ${String(pool)}`, { pool })
    }
    return pools as string[]
  }

  private drainSelf (pools: string[], all: boolean): void {
    this.eventLog.add('drain:start', { member: this.peerId, pools: all ? null : pools })
    for (const pool of pools) {
      if (!this.drained.has(pool)) this.drained.set(pool, this.runtime.targets()[pool])
      this.runtime.setTarget(pool, 0)
    }
    // the mesh folds this node's own record into its view at once: the ring change (and
    // the handoff) follows through `membership:change`
    this.mesh.setTargets(this.ringTargets())
    if (all) this.mesh.setStatus('draining')
    // an operator's drain: hand over now, without the settling delay meant for churn
    this.runtime.rebalance()
  }

  /**
   * Hands every worker to the nodes that stay, through the handoff, before a stop: a
   * graceful stop loses no state even for pools without `save`. Gives up at the deadline,
   * and for pools no other node serves (a whole cluster stopping), whose workers are saved.
   */
  private async drainBeforeStop (options: StopOptions): Promise<void> {
    const timeoutMs = options.drainTimeoutMs ?? DEFAULT_STOP_DRAIN_TIMEOUT_MS
    if (timeoutMs <= 0) return
    this.drainSelf(this.runtime.poolNames(), true)
    const deadline = performance.now() + timeoutMs
    while (performance.now() < deadline && options.signal?.aborted !== true) {
      const placement = this.placement()
      const waiting = this.runtime.poolNames().some(pool =>
        (this.runtime.pool(pool)?.size ?? 0) > 0 && (placement.ring(pool)?.nodes.length ?? 0) > 0)
      if (!waiting) return
      await new Promise(resolve => setTimeout(resolve, STOP_DRAIN_POLL_MS))
    }
  }

  private undrainSelf (pools: string[]): void {
    this.eventLog.add('drain:undo', { member: this.peerId, pools })
    for (const pool of pools) {
      const target = this.drained.get(pool)
      if (target === undefined) continue
      this.drained.delete(pool)
      this.runtime.setTarget(pool, target)
    }
    this.mesh.setTargets(this.ringTargets())
    if (this.drained.size === 0) this.mesh.setStatus('up')
  }

  private loopDelayP99 (now: number): number {
    if (now - this.loopWindowStart >= LOOP_WINDOW_MS) {
      if (this.loopDelay.count > 0) this.lastLoopP99 = this.loopDelay.percentile(99) / 1e6
      this.loopDelay.reset()
      this.loopWindowStart = now
    }
    return this.loopDelay.count > 0 ? Math.max(this.lastLoopP99, this.loopDelay.percentile(99) / 1e6) : this.lastLoopP99
  }
}

/**
 * Starts a node and resolves once it has joined (its bootstrap nodes, if any, dialed) and
 * announced `up`. `createNode({ pools })` alone is a one-node cluster on loopback.
 *
 * @example
 * ```ts
 * const node = await createNode({ pools: [rooms], bootstrap: [seed], targets: { 'chat-room': 100_000 } })
 * await node.ref('chat-room', 'room-42').call({ type: 'join', user: 'ada' })
 * ```
 */
export async function createNode (init: NodeInit): Promise<SimplePoolNode> {
  const node = new SimplePoolNode(init)
  try {
    await node.start()
  } catch (err) {
    await node.stop().catch(() => {})
    throw err
  }
  return node
}
