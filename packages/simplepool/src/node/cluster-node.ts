/**
 * A node's whole behaviour on whatever membership and transport it is given: one runtime
 * with this node's pools, and the node's own parts around them (its operations, drains,
 * health, record, metrics, admin API). This file builds and wires them, and is the
 * node's public face; what each part does is in its own file. `SimplePoolNode` gives it
 * a libp2p mesh and transport; the simulator gives it simulated ones.
 */
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_FORGET_AFTER_MS, DEFAULT_JOIN_TIMEOUT_MS, DEFAULT_STOP_DRAIN_TIMEOUT_MS, InvalidOptionError, SETTLE_PEERS_MAX_MS, TypedEventTarget, UnknownPoolError, consoleLogger, systemClock } from '@simplepool/core'
import type { Clock, Logger, Random } from '@simplepool/core'
import { Placement } from '@simplepool/ring'
import { validateTargets } from '@simplepool/mesh'
import type { MeshInit } from '@simplepool/mesh'
import type { TransportInit } from '@simplepool/transport'
import { Runtime, checkSignal, timeoutOf } from '@simplepool/runtime'
import type { AbortOptions, AccessRules, CountOptions, NodeHealth, Pool, RuntimeInit, SpawnManyOptions, SpawnOptions, WorkerLocation, WorkerRef } from '@simplepool/runtime'
import type { AdminNode, MemberInfo, RingsView, WatchFigures, WorkerHere } from '../admin/admin-node.js'
import type { AdminEventLog } from '../admin/event-log.js'
import { AdminHttp, validateAdminOptions } from '../admin/http-server.js'
import type { AdminOptions } from '../admin/http-server.js'
import { addAdminRoutes } from '../admin/routes.js'
import { ClusterWatch } from '../admin/cluster-watch.js'
import { Drains } from './drain.js'
import type { DrainOptions } from './drain.js'
import { DrainedPools } from './drained-pools.js'
import { MarkedDownQuestion } from './marked-down.js'
import { NodeMetrics } from './metrics.js'
import { routeListeners } from './node-events.js'
import type { NodeEvents } from './node-events.js'
import { NodeHealthMonitor } from './node-health.js'
import { handleNodeOp } from './node-ops.js'
import { memberCalls } from './member-calls.js'
import { AuditTrail } from '../admin/audit.js'
import type { NodeOpsComponents } from './node-ops.js'
import { decodeHoldersAnswer, encodeHealth, encodeHolders, encodeInspect, encodePlan, encodeRebalance, encodeRings, encodeSetTargets, encodeWatch, encodeDrain, encodeUndrain, encodeHeld } from './node-protocol.js'
import type { NodeOpCode, NodePayload, NodeReplies } from './node-protocol.js'
import type { NodeMesh, NodeParts, NodeTransport, PartHooks } from './node-parts.js'
import { NodeRecord } from './node-record.js'
import { joinCluster } from './settle-membership.js'
import { TargetBand } from './target-band.js'
import { fenceAfterOf, leaseParts } from './lease.js'
import { holdersIn, memberInfos } from './members.js'

/** Options of `createNode`. Only `pools` is required. */
export interface NodeInit extends Omit<MeshInit, 'targets' | 'counts' | 'announce'> {
  /** The pools this node runs. */
  pools: ReadonlyArray<Pool<any, any, any>>
  /** This node's target per pool: its weight on the pool's ring. A pool not named takes its own `target`, or 100000. */
  targets?: Record<string, number>
  /** Transport limits and deadlines. */
  transport?: TransportInit
  /** Runtime tuning: forwarding hops, timing-wheel resolution, spawn batch size. */
  runtime?: Omit<RuntimeInit, 'pools' | 'targets' | 'access'>
  /** Who among the members may call, host and operate on what; not given, every member may do everything. Give every node the same rules: see {@link AccessRules}. */
  access?: AccessRules
  /** Also export Node.js process metrics (CPU, memory, GC, event loop) from `metrics()`. @default true */
  processMetrics?: boolean
  /** Serve the admin HTTP API (on 127.0.0.1 unless `host` says otherwise) while the node runs. Off by default. */
  admin?: AdminOptions
  /** The random source of the runtime's choices (a simulation gives a seeded one). @default Math.random */
  random?: Random
  /**
   * With `bootstrap`: how long to wait to hear from a member of the cluster before the
   * start fails with `JoinTimeoutError`. The node serves nothing until it has heard one.
   * @default 30000
   */
  joinTimeoutMs?: number
}

/** Options of {@link SimplePoolNode.stop}. */
export interface StopOptions extends AbortOptions {
  /**
   * How long to hand workers to the nodes that stay before leaving; what is left then is
   * saved (`save`) and deactivated. 0 skips the handoff. @default 30000
   */
  drainTimeoutMs?: number
}

/**
 * A node on the membership and transport its `parts` make: the runtime and everything
 * the node does around it. {@link SimplePoolNode} is one on libp2p.
 */
export class ClusterNode<M extends NodeMesh, T extends NodeTransport> extends TypedEventTarget<NodeEvents> implements AdminNode {
  /** Membership. */
  readonly mesh: M
  /** Direct messages to other nodes. */
  readonly transport: T
  /** This node's pools and workers. */
  readonly runtime: Runtime
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly bootstrap: readonly string[]
  private readonly joinTimeoutMs: number
  private readonly band = new TargetBand()
  private placementCache?: Placement
  private readonly metricsExport: NodeMetrics
  private readonly healthMonitor: NodeHealthMonitor
  /** What this node records for operators: its events and the last moves onto it. */
  private readonly record: NodeRecord
  private readonly drained: DrainedPools
  private readonly drains: Drains
  private readonly markedDown: MarkedDownQuestion
  private readonly ops: NodeOpsComponents
  private readonly admin?: AdminHttp
  /** The admin API's watch of the cluster (dashboard, cluster events); idle while nobody watches. */
  private readonly watch?: ClusterWatch
  private adminBound?: { host: string, port: number }
  /** Set when `stop` begins: see node-ops.ts. */
  private stopping = false

  /**
   * @param parts makes the membership and the transport, given what they ask of the node
   */
  constructor (init: NodeInit, parts: (hooks: PartHooks) => NodeParts<M, T>) {
    super()
    if (init == null || typeof init !== 'object') throw new InvalidOptionError(`createNode takes an options object, got ${typeof init}`)
    const { pools, targets, runtime, processMetrics, admin } = init
    if (targets !== undefined) validateTargets(targets)
    const adminOptions = admin !== undefined ? validateAdminOptions(admin) : undefined
    this.clock = init.clock ?? systemClock
    this.logger = init.logger ?? consoleLogger('simplepool')
    this.bootstrap = init.bootstrap ?? []
    this.joinTimeoutMs = init.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS
    if (typeof this.joinTimeoutMs !== 'number' || !(this.joinTimeoutMs > 0)) throw new InvalidOptionError(`joinTimeoutMs must be a positive number, got ${String(init.joinTimeoutMs)} (${typeof init.joinTimeoutMs})`)
    // The mesh and the transport first, so that the runtime is given the transport itself:
    // a remote call goes straight to it, through no closure of the node's. The mesh asks
    // the runtime for its counts only when it announces (after start), and is given the
    // targets below; it stays `joining` until the transport takes calls, since an `up`
    // node must answer whoever routes to it.
    const made = parts({
      counts: () => this.runtime.counts(),
      epochs: { last: () => this.runtime.epochs.last, observe: (e) => { this.runtime.epochs.observe(e) } },
      logger: this.logger
    })
    this.mesh = made.mesh
    this.transport = made.transport
    this.runtime = new Runtime({
      self: () => this.mesh.peerId,
      placement: () => this.placement(),
      members: () => this.mesh.snapshot().members,
      // a membership that keeps its own lease (witness) carries no counts: every member is taken to hold some
      countOf: (peerId, pool) => this.mesh.figures(peerId)?.counts[pool] ?? (this.mesh.lease !== undefined ? 1 : undefined),
      unheard: () => this.mesh.unheard(),
      ...leaseParts(this.mesh, this.clock, async (pausedMs, options) => await this.markedDown.ask(pausedMs, options), init),
      transport: this.transport,
      clock: init.clock,
      random: init.random,
      logger: this.logger
    }, {
      // a stall the others may have taken for a failure: as long as it takes them to suspect one
      fenceAfterMs: fenceAfterOf(this.mesh, init.suspectAfterMs),
      ...runtime,
      pools,
      targets,
      access: init.access
    })
    // the rings follow the runtime's targets, through the band; the mesh publishes nothing before it starts
    this.announceTargets()
    // a new ring: the workers whose owner moved are handed over
    this.mesh.addEventListener('membership:change', () => { this.runtime.onPlacement(this.placement()) })
    // pending calls to a peer the membership gave up on fail at once, not at their deadline
    this.mesh.addEventListener('member:down', (evt) => { this.transport.peerDown(evt.detail.peerId) })
    this.mesh.addEventListener('member:leave', (evt) => { this.transport.peerDown(evt.detail.peerId, `peer ${evt.detail.peerId} left`) })
    // held down (witness membership): it stops serving now, not at the lease's next look
    this.mesh.addEventListener('lease:lost', () => { this.runtime.leaseChanged() })
    this.metricsExport = new NodeMetrics(this, processMetrics ?? true)
    routeListeners(this, { mesh: this.mesh, runtime: this.runtime.events })
    this.healthMonitor = new NodeHealthMonitor({
      clock: this.clock,
      self: () => this.peerId,
      pools: () => this.runtime.poolViews(),
      migrationBacklog: () => this.runtime.migrationBacklog,
      replicas: () => this.runtime.replicator.figures
    })
    // operators' writes asked of this node, as `admin:write` events
    const audit = new AuditTrail(this, this.logger, this.clock, () => this.peerId)
    this.record = new NodeRecord({
      events: this,
      clock: this.clock,
      self: () => this.peerId,
      placement: () => this.placement(),
      health: () => this.health(),
      pools: () => this.runtime.poolViews(),
      rings: () => this.rings()
    })
    this.drained = new DrainedPools({
      self: () => this.peerId,
      targets: () => this.runtime.targets(),
      setTarget: (pool, target) => { this.runtime.setTarget(pool, target) },
      sizeOf: (pool) => this.runtime.pool(pool)?.size ?? 0,
      announceTargets: () => { this.announceTargets() },
      setStatus: (status) => { this.mesh.setStatus(status) },
      rebalance: () => { this.runtime.rebalance() },
      events: this.record.events
    })
    this.drains = new Drains({
      clock: this.clock,
      logger: this.logger,
      events: this.record.events,
      start: async (peerId, pools, options) => { await this.ask(peerId, encodeDrain({ pools }), options) },
      undo: async (peerId, pools, options) => { await this.ask(peerId, encodeUndrain({ pools }), options) },
      held: async (peerId, pools, options) => await this.ask(peerId, encodeHeld({ pools }), options),
      drainSelf: () => { this.drained.drain(this.runtime.poolNames(), true) },
      handingOver: () => {
        const placement = this.placement()
        const members = this.mesh.snapshot().members
        // a member still joining serves the pool once it is up, within moments: the workers
        // wait for it rather than end here with their memory (a stop 18 ms before a join
        // ended took itself for the last node serving)
        const joining = (pool: string): boolean => members.some(m =>
          m.peerId !== this.peerId && m.status === 'joining' && m.liveness !== 'down' && (m.pools[pool]?.target ?? 0) > 0)
        // a claim passed on to the node a worker went to: announced `leaving`, the claimer
        // drops its call, reads 'none', and starts the worker afresh while it comes
        return this.runtime.claimsPassingOn > 0 ||
          this.runtime.poolViews().some(view => view.size > 0 && ((placement.ring(view.name)?.nodes.length ?? 0) > 0 || joining(view.name)))
      },
      heardFromAllSince: (since) => this.mesh.snapshot().members.every(m =>
        m.peerId === this.peerId || m.liveness === 'down' || m.status === 'leaving' || (this.mesh.figures(m.peerId)?.lastSeen ?? -Infinity) > since)
    })
    this.markedDown = new MarkedDownQuestion({
      self: () => this.peerId,
      clock: this.clock,
      forgetAfterMs: init.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS,
      members: () => this.mesh.snapshot().members,
      announceNow: () => { this.mesh.announceNow() },
      heardFrom: (peerId) => this.mesh.heardFrom(peerId),
      markedDownAgo: (peerId) => this.mesh.markedDownAgo(peerId),
      call: async (peerId, payload, options) => await this.transport.call(peerId, payload, options)
    })
    this.ops = {
      self: () => this.peerId,
      poolNames: () => this.runtime.poolNames(),
      runs: (pool) => this.runtime.pool(pool) !== undefined,
      applyTargets: (targets) => { this.applyTargets(targets) },
      stopping: () => this.stopping,
      drained: this.drained,
      markedDown: (from, withinMs) => this.markedDown.answer(from, withinMs),
      rebalance: () => { this.runtime.rebalance() },
      health: () => this.health(),
      rings: () => this.rings(),
      holders: () => holdersIn(this.mesh.snapshot().members),
      watchFigures: (afterEventId) => this.watchFigures(afterEventId),
      whereHere: (pool, id) => this.runtime.whereHere(pool, id),
      movesOf: (pool, id) => this.record.moves.of(pool, id),
      movePlan: (pool) => this.runtime.movePlan(pool),
      access: this.runtime.access,
      audit: (from, action, target, error) => { audit.record({ kind: 'peer', peer: from }, action, target, error) }
    }
    this.transport.setHandlers(memberCalls(this.runtime, this.ops))
    if (adminOptions !== undefined) {
      this.admin = new AdminHttp(adminOptions, (by, action, target, error) => { audit.record(by, action, target, error) })
      this.watch = new ClusterWatch(this, adminOptions.token !== undefined, this.logger)
      addAdminRoutes(this.admin, this, this.watch)
    }
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

  /** Where the admin API listens, once started with `admin`; undefined otherwise. */
  get adminAddress (): { host: string, port: number } | undefined {
    return this.adminBound
  }

  /** Starts the host, the transport and the runtime, joins, then announces `up`; a start that fails stops what it started. */
  async start (): Promise<void> {
    const since = this.clock.monotonic()
    // what dialling the bootstrap addresses met, for the error of a join that fails
    const failures = new Set<string>()
    const onError = (evt: CustomEvent<Error>): void => { failures.add(`${evt.detail.name}: ${evt.detail.message}`) }
    this.mesh.addEventListener('mesh:error', onError)
    try {
      // first: a port already taken fails the start before anything else runs
      if (this.admin !== undefined && this.adminBound === undefined) this.adminBound = await this.admin.listen()
      await this.mesh.start()
      await this.transport.start()
      this.runtime.start()
      this.runtime.onPlacement(this.placement())
      this.healthMonitor.start()
      if (this.bootstrap.length > 0) {
        await joinCluster({
          clock: this.clock,
          mesh: this.mesh,
          bootstrap: this.bootstrap,
          failures: () => [...failures],
          timeoutMs: this.joinTimeoutMs,
          since,
          ringsOf: async (peer) => (await this.ringsOf(peer, { timeoutMs: SETTLE_PEERS_MAX_MS })).rings,
          holdersOf: async (peer) => decodeHoldersAnswer(await this.ask(peer, encodeHolders(), { timeoutMs: SETTLE_PEERS_MAX_MS }))
        })
      }
    } catch (err) {
      await this.stop({ drainTimeoutMs: 0 }).catch(() => {})
      throw err
    } finally {
      this.mesh.removeEventListener('mesh:error', onError)
    }
    this.mesh.setStatus('up')
  }

  /**
   * Leaves the cluster gracefully: hands this node's workers to the nodes that stay, with
   * their state (for up to `drainTimeoutMs`), then announces `leaving`, saves and
   * deactivates what is left, and stops taking messages. Calling it twice is harmless.
   */
  async stop (options: StopOptions = {}): Promise<void> {
    this.stopping = true
    // watchers first: a tick would ask members while the transport goes away
    this.watch?.close()
    if (this.mesh.isRunning) await this.drains.beforeStop(options.drainTimeoutMs ?? DEFAULT_STOP_DRAIN_TIMEOUT_MS, options.signal)
    // tell the others, so they stop routing here while what is left is saved
    if (this.mesh.isRunning) this.mesh.setStatus('leaving')
    await this.runtime.stop(options)
    await this.transport.stop()
    await this.mesh.stop()
    this.healthMonitor.stop()
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
  spawn (pool: string, id: string, options?: SpawnOptions): Promise<WorkerLocation | null> {
    // the runtime's promise itself: an `async` wrapper would add turns of the microtask queue to every spawn
    return this.runtime.spawn(pool, id, options)
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
    return memberInfos(this.mesh.snapshot().members, this.peerId, this.runtime.counts(), (peerId) => this.mesh.figures(peerId)?.counts)
  }

  /**
   * Sets a node's targets (its ring weights) for the pools named; any node may set any
   * node's. The change reaches every node with that node's next heartbeat.
   */
  async setTargets (peerId: string, targets: Record<string, number>, options: AbortOptions = {}): Promise<void> {
    validateTargets(targets)
    checkSignal(options.signal)
    await this.ask(peerId, encodeSetTargets({ targets }), options)
  }

  /**
   * Takes a node out of service for maintenance: its targets for the pools (all, by
   * default) go to 0 (and its status to `draining` when all), so their workers move to the
   * other nodes through the handoff, at the migration budget, while the node keeps routing.
   * Resolves once the node holds none of them; rejects with `TimeoutError` if it does not
   * within `timeoutMs` (default 10 minutes). Any node may drain any node.
   */
  async drain (peerId: string, options: DrainOptions = {}): Promise<void> {
    await this.drains.drain(peerId, options)
  }

  /** Puts a drained node back in service with the targets it had; its share of workers moves back to it. */
  async undrain (peerId: string, options: DrainOptions = {}): Promise<void> {
    await this.drains.undrain(peerId, options)
  }

  /** Every node looks again for workers of `pool` whose owner moved, and hands them over now. */
  async rebalance (pool: string, options: AbortOptions = {}): Promise<void> {
    checkSignal(options.signal)
    const members = this.mesh.snapshot().members.filter(m => m.liveness !== 'down' && m.pools[pool] !== undefined)
    await Promise.all(members.map(async m => await this.ask(m.peerId, encodeRebalance({ pool }), options)))
  }

  /** This node's health, per pool and as a whole; see the README for the rules. */
  health (): NodeHealth {
    return this.healthMonitor.health()
  }

  /** Another node's health, asked over the transport (this node's own without a message). */
  async healthOf (peerId: string, options: AbortOptions = {}): Promise<NodeHealth> {
    checkSignal(options.signal)
    return await this.ask(peerId, encodeHealth(), options)
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
    return await this.ask(peerId, encodeRings(), options)
  }

  /** This node's figures for a watcher, and the events it logged after `afterEventId`. */
  watchFigures (afterEventId?: string): WatchFigures {
    return this.record.figures(afterEventId)
  }

  /** Another node's {@link watchFigures}, asked of it. */
  async watchFiguresOf (peerId: string, afterEventId: string | undefined, options: AbortOptions = {}): Promise<WatchFigures> {
    checkSignal(options.signal)
    return await this.ask(peerId, encodeWatch({ afterEventId: afterEventId ?? null }), options)
  }

  /**
   * Worker `id` as `peerId` sees it: as it lives there (epoch, mailbox, why it is there;
   * see `Runtime.whereHere`), or null, and its moves there that `peerId` remembers.
   */
  async inspectOn (peerId: string, pool: string, id: string, options: AbortOptions = {}): Promise<WorkerHere> {
    checkSignal(options.signal)
    return await this.ask(peerId, encodeInspect({ pool, id }), options)
  }

  /** What a rebalance of `pool` would move from `peerId` now: per destination, how many workers. */
  async movePlanOf (peerId: string, pool: string, options: AbortOptions = {}): Promise<Record<string, number>> {
    checkSignal(options.signal)
    return await this.ask(peerId, encodePlan({ pool }), options)
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
    if (this.placementCache?.version !== snap.version) this.placementCache = Placement.fromSnapshot(snap, this.placementCache, this.runtime.access.hostRight)
    return this.placementCache
  }

  /** Announces this node's targets as the band lets them through: the rings follow them. */
  private announceTargets (): void {
    this.mesh.setTargets(this.band.announce(this.runtime.targets()))
  }

  /** Applies all the targets or none: every pool named must be one of this node's. */
  private applyTargets (targets: Record<string, number>): void {
    for (const pool of Object.keys(targets)) {
      if (this.runtime.pool(pool) === undefined) throw new UnknownPoolError(`node ${this.peerId} does not run pool ${pool}`, { pool })
    }
    this.runtime.access.checkSelf(Object.keys(targets).filter(pool => targets[pool] > 0))
    for (const [pool, t] of Object.entries(targets)) this.runtime.setTarget(pool, t)
    this.announceTargets()
  }

  /** A node operation on `peerId`: answered here when it is this node, else asked over the transport. */
  private async ask<Op extends NodeOpCode> (peerId: string, payload: NodePayload<Op>, options: AbortOptions): Promise<NodeReplies[Op]> {
    if (peerId === this.peerId) return handleNodeOp(payload, peerId, this.ops) as NodeReplies[Op]
    return await this.transport.call(peerId, payload, { timeoutMs: timeoutOf(options, DEFAULT_CALL_TIMEOUT_MS), signal: options.signal }) as NodeReplies[Op]
  }
}
