import { multiaddr } from '@multiformats/multiaddr'
import {
  MEMBERSHIP_SWEEP_MS, MEMBERSHIP_TOPIC, NodeUnavailableError, NotStartedError, RECONNECT_BACKOFF_MS, REDIAL_TIMEOUT_MS,
  deferOf, sleep, systemRandom, timeoutSignal
} from '@simplepool/core'
import type { Member, MemberFigures, MemberRecord, MemberStatus, MembershipSnapshot, PoolFigures, TimerHandle } from '@simplepool/core'
import type { Connection } from '@libp2p/interface'
import { createHost, stopHost } from './host.js'
import type { Host } from './host.js'
import { MembershipView } from './membership-view.js'
import { decodeRecord, encodeRecord } from './record-codec.js'
import { namesSelf } from './own-address.js'
import { isRefusal } from './dial-error.js'
import { HostedMesh } from './hosted-mesh.js'
import { Connections } from './connections.js'
import { Bootstrap } from './bootstrap.js'
import { validateTargets } from './mesh-options.js'
import type { MeshInit } from './mesh-options.js'

export type { MeshEvents, StreamHost } from './hosted-mesh.js'

/**
 * A libp2p host with gossip membership. It publishes this node's record on a heartbeat,
 * folds every record it hears into an immutable, versioned {@link MembershipSnapshot},
 * dials the members it learns of (a full mesh, which the direct transport needs), and
 * marks members suspect or down from closed connections, failed redials and missed
 * heartbeats. It re-emits the view's `member:*` events.
 */
export class Mesh extends HostedMesh<Host> {
  private connections?: Connections
  private view?: MembershipView
  private status: MemberStatus = 'joining'
  private readonly incarnation: number
  private seq = 0
  private timer: TimerHandle | undefined
  private sweepTimer: TimerHandle | undefined
  private bootstrap?: Bootstrap
  private publishQueued = false
  private readonly lastDial = new Map<string, number>()
  private readonly dialing = new Map<string, Promise<Connection | Error>>()
  private elu = performance.eventLoopUtilization()
  private load = 0

  constructor (init: MeshInit = {}) {
    super(init)
    this.incarnation = this.clock.now()
  }

  /** The current immutable view of the cluster. */
  snapshot (): MembershipSnapshot {
    return this.requireView().snapshot()
  }

  /** A member of the current view. */
  member (peerId: string): Readonly<Member> | undefined {
    return this.view?.get(peerId)
  }

  /** Sends this node's record to every peer now, rather than at the next heartbeat. */
  announceNow (): void {
    if (this.running) this.publish()
  }

  /** Latest counts and load a member reported. */
  figures (peerId: string): Readonly<MemberFigures> | undefined {
    return this.view?.figures(peerId)
  }

  /**
   * Starts the host, joins the membership topic, dials the bootstrap nodes and announces
   * `up` (or stays `joining` with `announce: false`, for an owner that has more to start
   * before it can take work).
   */
  protected async startOnce (): Promise<void> {
    if (this.stopping != null) await this.stopping
    this.status = 'joining'
    const host = await createHost({
      listen: this.opts.listen,
      announce: this.opts.announceAddresses,
      clusterKey: this.opts.clusterKey,
      witness: this.witness,
      privateKey: this.opts.privateKey,
      allow: this.opts.allow,
      heartbeatMs: this.opts.heartbeatMs
    })
    this.host = host
    this.connections = new Connections(host, this.clock)
    await host.start()
    this.running = true
    this.view = new MembershipView(this.record(), this.clock, this.opts)
    for (const type of ['member:join', 'member:update', 'member:leave', 'member:down', 'membership:change'] as const) {
      this.view.addEventListener(type, (evt) => { this.dispatchEvent(new CustomEvent(type, { detail: evt.detail })) })
    }
    // a member this node starts to doubt learns it at once, not a heartbeat later: it stops
    // counting this node toward its lease on a majority (see MemberRecord.doubts)
    for (const type of ['member:join', 'member:update', 'member:down'] as const) {
      this.view.addEventListener(type, () => { this.publishSoon() })
    }
    this.view.addEventListener('member:down', (evt) => { this.connections?.markedDown(evt.detail.peerId) })
    host.addEventListener('peer:connect', (evt) => { this.view?.onConnect(evt.detail.toString()) })
    host.addEventListener('peer:disconnect', (evt) => { this.onDisconnect(evt.detail.toString()) })
    host.services.pubsub.addEventListener('message', (evt) => {
      const msg = evt.detail
      if (msg.topic !== MEMBERSHIP_TOPIC) return
      this.onMessage(msg.type === 'signed' ? msg.from.toString() : undefined, msg.data)
    })
    // a peer that just subscribed has heard nothing from us yet: answer at once rather
    // than at the next heartbeat, so a join is agreed in one round trip, not 500 ms
    host.services.pubsub.addEventListener('subscription-change', (evt) => {
      if (evt.detail.subscriptions.some(s => s.subscribe && s.topic === MEMBERSHIP_TOPIC)) this.publishSoon()
    })
    host.services.pubsub.subscribe(MEMBERSHIP_TOPIC)
    this.scheduleHeartbeat()
    this.scheduleSweep()
    await this.dialBootstrap()
    if (this.opts.announce) this.status = 'up'
    this.publish()
  }

  /** Announces `leaving`, gives the announcement a moment to go out, then stops the host. */
  protected async stopOnce (): Promise<void> {
    this.running = false
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer)
    this.bootstrap?.stop()
    this.timer = this.sweepTimer = undefined
    this.status = 'leaving'
    try {
      await this.publishNow()
      await sleep(this.clock, 50)
    } catch (err) {
      this.logger.debug('could not announce leaving', err)
    }
    if (this.host != null) await stopHost(this.host)
  }

  /** Changes this node's announced status (`draining`, `up`...); published at once. */
  setStatus (status: MemberStatus): void {
    this.status = status
    this.publish()
  }

  /** Replaces this node's targets; published at once. */
  setTargets (targets: Record<string, number>): void {
    validateTargets(targets)
    this.targets = { ...targets }
    this.publish()
  }

  /** The view's answers (see {@link MembershipView.heardFrom}, `unheard`, `unknown`, `markedDownAgo`, `departed`). */
  protected queries (): MembershipView | undefined {
    return this.view
  }

  /** A stream on a connection this mesh holds stale (see `Connections`): the transport does not send on it. */
  protected override staleOf (peer: string, connection: Connection): boolean {
    return this.connections?.isStale(peer, connection) === true
  }

  /**
   * A connection to the peer: the open one, or a new dial to the addresses it announced.
   * Throws `NodeUnavailableError` when the peer is unknown or cannot be reached.
   */
  async connect (peerId: string, options: { signal?: AbortSignal } = {}): Promise<Connection> {
    const open = this.openConnection(peerId)
    if (open != null) return open
    const m = this.view?.get(peerId)
    if (m == null || m.addresses.length === 0) throw new NodeUnavailableError(`peer ${peerId} is not a known member`)
    const targets = m.addresses.map(a => multiaddr(a))
    try {
      // a stale connection is open (see Connections): libp2p would hand it back
      const conn = await this.dialNamed(targets, peerId, options.signal, this.connections?.hasStale(peerId) === true)
      this.connections?.dialed(peerId)
      return conn
    } catch (err) {
      this.connections?.dialFailed(peerId, this.view?.get(peerId)?.liveness === 'alive')
      throw err
    }
  }

  private openConnection (peerId: string): Connection | undefined {
    this.requireHost()
    return this.connections?.newestOpen(peerId)
  }

  private record (): MemberRecord {
    const counts = this.opts.counts?.() ?? {}
    const pools: Record<string, PoolFigures> = {}
    for (const [name, target] of Object.entries(this.targets)) pools[name] = { target, count: counts[name] ?? 0 }
    for (const [name, count] of Object.entries(counts)) pools[name] ??= { target: 0, count }
    return {
      peerId: this.requireHost().peerId.toString(),
      addresses: this.addresses,
      status: this.status,
      pools,
      incarnation: this.incarnation,
      seq: ++this.seq,
      load: this.load,
      heartbeatMs: this.interval(),
      epoch: this.opts.epochs?.last() ?? 0,
      doubts: this.view?.doubted() ?? [],
      downs: this.view?.markedDown() ?? [],
      gone: this.view?.gone() ?? [],
      hears: this.view?.heard() ?? []
    }
  }

  /** Publishes once on the next turn, however many peers asked during this one. */
  private publishSoon (): void {
    if (this.publishQueued) return
    this.publishQueued = true
    deferOf(this.clock)(() => {
      this.publishQueued = false
      if (this.running) this.publish()
    })
  }

  private publish (): void {
    void this.publishNow().catch((err) => { this.logger.debug('publish failed', err) })
  }

  private async publishNow (): Promise<void> {
    if (this.host == null || this.view == null) return
    const record = this.record()
    this.view.updateSelf(record)
    await this.host.services.pubsub.publish(MEMBERSHIP_TOPIC, encodeRecord(record))
  }

  private scheduleHeartbeat (): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.running) return
      const next = performance.eventLoopUtilization()
      this.load = performance.eventLoopUtilization(next, this.elu).utilization
      this.elu = next
      this.publish()
      this.scheduleHeartbeat()
    }, this.interval())
  }

  /**
   * The interval between this node's records: the configured one, stretched in a big
   * cluster so each node receives at most `maxRecordsPerSecond` records.
   */
  private interval (): number {
    const members = this.view?.snapshot().members.length ?? 1
    return Math.max(this.opts.heartbeatMs, Math.ceil(1_000 * members / this.opts.maxRecordsPerSecond))
  }

  /**
   * Deadlines are checked more often than records are sent, so a silent peer is marked
   * down close to its deadline rather than up to a whole heartbeat later.
   */
  private scheduleSweep (): void {
    this.sweepTimer = this.clock.setTimeout(() => {
      if (!this.running) return
      this.view?.sweep()
      this.redialDown()
      this.scheduleSweep()
    }, MEMBERSHIP_SWEEP_MS)
  }

  /**
   * Members marked down or suspect (and not known gone) are dialed again, at most once per
   * `RECONNECT_BACKOFF_MS` each, until the view forgets them: once a cut network heals,
   * neither side may hear the other's records again unless one of them dials (both marked
   * the other down), and a member that went away meanwhile refuses the dial, which proves
   * it gone (a node that lost its lease on a majority stops waiting for it; a member kept
   * suspect because others may still hear it goes down).
   */
  private redialDown (): void {
    const view = this.view
    if (view === undefined) return
    for (const m of view.snapshot().members) {
      if (m.liveness !== 'alive' && m.status !== 'leaving' && !view.departed(m.peerId)) this.reach(m.peerId, REDIAL_TIMEOUT_MS)
    }
  }

  private onMessage (from: string | undefined, data: Uint8Array): void {
    let record: MemberRecord
    try {
      record = decodeRecord(data)
    } catch (err) {
      this.logger.warn(`dropped a membership record from ${from ?? 'an unsigned sender'}`, err)
      return
    }
    // gossipsub signs every message: a peer may only speak for itself
    if (from !== record.peerId) {
      this.logger.warn(`dropped a membership record for ${record.peerId} signed by ${from ?? 'nobody'}`)
      return
    }
    this.view?.onRecord(record)
    if (record.status !== 'leaving') this.reach(record.peerId)
  }

  /**
   * Makes sure there is a connection to a member we hear of: a full mesh is what the
   * direct transport needs, and a record relayed by others proves nothing about whether
   * we can reach it. Members we could not reach are tried again, at most once per
   * `RECONNECT_BACKOFF_MS`, so a healed partition heals the view too.
   */
  private reach (peerId: string, timeoutMs?: number): void {
    if (this.openConnection(peerId) != null || this.dialing.has(peerId)) return
    const now = this.clock.monotonic()
    if (now - (this.lastDial.get(peerId) ?? -Infinity) < RECONNECT_BACKOFF_MS) return
    this.lastDial.set(peerId, now)
    void this.dial(peerId, timeoutMs).then((result) => { this.dialed(peerId, result) })
  }

  /**
   * A dial that was refused makes the member down, unless it connected to us in the
   * meantime. A dial that timed out does not: on a loaded machine dials are slow while
   * records still flow, and silence has its own deadlines.
   */
  private dialed (peerId: string, result: Connection | Error): void {
    // a connection open to it, stale or not, says it is there
    if (result instanceof Error && isRefusal(result) && this.connections?.anyOpen(peerId) !== true) this.view?.onUnreachable(peerId)
  }

  private onDisconnect (peerId: string): void {
    if (!this.running || this.view == null) return
    const before = this.view.get(peerId)
    this.view.onDisconnect(peerId)
    if (before == null || before.status === 'leaving') return
    // a killed process refuses the redial at once; a dropped connection comes back
    this.lastDial.set(peerId, this.clock.monotonic())
    void this.dial(peerId, this.opts.reconnectWindowMs).then((result) => { this.dialed(peerId, result) })
  }

  /** Dials a member once at a time; resolves with the named error on failure. */
  private async dial (peerId: string, timeoutMs = this.opts.dialTimeoutMs): Promise<Connection | Error> {
    const inFlight = this.dialing.get(peerId)
    if (inFlight != null) return inFlight
    const p = this.connect(peerId, { signal: timeoutSignal(this.clock, timeoutMs) }).catch((err: Error) => {
      this.logger.debug(`dial ${peerId} failed`, err)
      return err
    }).finally(() => { this.dialing.delete(peerId) })
    this.dialing.set(peerId, p)
    return p
  }

  private async dialBootstrap (): Promise<void> {
    const self = this.peerId
    this.bootstrap = new Bootstrap({
      clock: this.clock,
      random: this.opts.random ?? systemRandom,
      logger: this.logger,
      dial: async (addr) => { await this.dialNamed([multiaddr(addr)], addr) },
      reached: () => (this.view?.reachablePeers().length ?? 0) > 0,
      running: () => this.running,
      report: (err) => { this.emit('mesh:error', err) }
    })
    await this.bootstrap.dial(this.opts.bootstrap.filter(a => !namesSelf(a, self, this.addresses)))
  }

  private requireView (): MembershipView {
    if (this.view == null) throw new NotStartedError('the mesh is not started')
    return this.view
  }
}
