import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  MEMBERSHIP_SWEEP_MS, MEMBERSHIP_TOPIC, NodeUnavailableError, NotStartedError, RECONNECT_BACKOFF_MS, REDIAL_TIMEOUT_MS,
  STREAMS_PER_PROTOCOL, TypedEventTarget, consoleLogger, deferOf, sleep, systemClock, systemRandom, timeoutSignal, withDefaults
} from '@simplepool/core'
import type { Clock, Logger, Member, MemberFigures, MembershipLeaseEvents, MemberRecord, MemberStatus, MembershipEvents, MembershipSnapshot, PoolFigures, TimerHandle } from '@simplepool/core'
import type { Connection, Stream } from '@libp2p/interface'
import { createHost, stopHost } from './host.js'
import type { Host } from './host.js'
import { MembershipView } from './membership-view.js'
import { decodeRecord, encodeRecord } from './record-codec.js'
import { namesSelf } from './own-address.js'
import { isRefusal } from './dial-error.js'
import { HandshakeWitness } from './handshake-witness.js'
import { dialDeadline, dialProven } from './proven-dial.js'
import { Connections } from './connections.js'
import { Bootstrap } from './bootstrap.js'
import { DEFAULTS, validateMeshInit, validateTargets } from './mesh-options.js'
import type { MeshInit, MeshOptions } from './mesh-options.js'

/** Stream handling on a mesh's host, for services with a protocol of their own. */
export interface StreamHost {
  /** Registers the handler of inbound streams of a protocol; `stale`: the stream came on a stale connection (see `Connections`). */
  handle: (protocol: string, handler: (stream: Stream, remotePeer: string, stale?: boolean) => void) => Promise<void>
  /** Removes that handler. */
  unhandle: (protocol: string) => Promise<void>
  /** Opens a stream of a protocol to a member, dialing it when needed. */
  newStream: (peerId: string, protocol: string, options: { signal?: AbortSignal }) => Promise<Stream>
}

/** Events of a mesh: the membership events, and errors an operator should see. */
export interface MeshEvents extends MembershipEvents, Partial<MembershipLeaseEvents> {
  /** A named error the mesh could not raise to a caller (a bootstrap that failed). */
  'mesh:error': Error
}

/**
 * A libp2p host with gossip membership. It publishes this node's record on a heartbeat,
 * folds every record it hears into an immutable, versioned {@link MembershipSnapshot},
 * dials the members it learns of (a full mesh, which the direct transport needs), and
 * marks members suspect or down from closed connections, failed redials and missed
 * heartbeats. It re-emits the view's `member:*` events.
 */
export class Mesh extends TypedEventTarget<MeshEvents> {
  private readonly opts: MeshOptions
  private readonly logger: Logger
  private readonly clock: Clock
  private readonly witness: HandshakeWitness
  private host?: Host
  private connections?: Connections
  private view?: MembershipView
  private status: MemberStatus = 'joining'
  private targets: Record<string, number>
  private readonly incarnation: number
  private seq = 0
  private timer: TimerHandle | undefined
  private sweepTimer: TimerHandle | undefined
  private bootstrap?: Bootstrap
  private running = false
  private publishQueued = false
  private stopping?: Promise<void>
  private starting?: Promise<void>
  private readonly lastDial = new Map<string, number>()
  private readonly dialing = new Map<string, Promise<Connection | Error>>()
  private elu = performance.eventLoopUtilization()
  private load = 0

  constructor (init: MeshInit = {}) {
    super()
    validateMeshInit(init)
    this.opts = withDefaults(DEFAULTS, init) as MeshOptions
    this.logger = init.logger ?? consoleLogger('mesh')
    this.clock = init.clock ?? systemClock
    this.witness = new HandshakeWitness(this.clock)
    this.targets = { ...this.opts.targets }
    this.incarnation = this.clock.now()
  }

  /** This node's peer id; available after `start()`. */
  get peerId (): string {
    return this.requireHost().peerId.toString()
  }

  /** Multiaddrs with /p2p/<peerId>, usable as another node's bootstrap. */
  get addresses (): string[] {
    return this.requireHost().getMultiaddrs().map(String)
  }

  /** The libp2p host, for services that open streams of their own. */
  get libp2p (): Host {
    return this.requireHost()
  }

  /** True between `start()` and `stop()`. */
  get isRunning (): boolean {
    return this.running
  }

  /** The current immutable view of the cluster. */
  snapshot (): MembershipSnapshot {
    return this.requireView().snapshot()
  }

  /** A member of the current view. */
  member (peerId: string): Readonly<Member> | undefined {
    return this.view?.get(peerId)
  }

  /** True when the peer is known gone lately: it said goodbye, or refused a redial (see {@link MembershipView.departed}). */
  departed (peerId: string): boolean {
    return this.view?.departed(peerId) ?? false
  }

  /** How many ms ago this node last marked the peer down, if it did lately. */
  markedDownAgo (peerId: string): number | undefined {
    return this.view?.markedDownAgo(peerId)
  }

  /** A member proved it is alive by a message of its own; false when it is unknown here or down. See {@link MembershipView.heardFrom}. */
  heardFrom (peerId: string): boolean {
    return this.view?.heardFrom(peerId) ?? false
  }

  /** Members this node never heard that others doubt and did not mark down (see {@link MembershipView.unheard}). */
  unheard (): readonly string[] {
    return this.view?.unheard() ?? []
  }

  /** Members this node never heard that others doubt, marked down or not (see {@link MembershipView.unknown}). */
  unknown (): readonly string[] {
    return this.view?.unknown() ?? []
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
   * before it can take work). Calling it again while it runs, or after, is harmless.
   */
  async start (): Promise<void> {
    if (this.running) return
    this.starting ??= this.startOnce().finally(() => { this.starting = undefined })
    await this.starting
  }

  private async startOnce (): Promise<void> {
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
  async stop (): Promise<void> {
    // a stop during start waits for the start, so no half-started host is left behind
    if (this.starting != null) await this.starting.catch(() => {})
    if (!this.running) return this.stopping
    this.running = false
    this.stopping = (async () => {
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
    })()
    await this.stopping
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

  /**
   * Stream handling on this host, for a service with a protocol of its own (the
   * transport): register a handler of inbound streams, remove it, and open a stream to a
   * member. The shape is the transport's `TransportComponents` minus clock and logger.
   */
  streams (): StreamHost {
    return {
      handle: async (protocol, handler) => {
        await this.requireHost().handle(protocol, (stream, connection) => {
          const peer = connection.remotePeer.toString()
          handler(stream, peer, this.connections?.isStale(peer, connection) === true)
        }, {
          maxInboundStreams: STREAMS_PER_PROTOCOL,
          maxOutboundStreams: STREAMS_PER_PROTOCOL
        })
      },
      unhandle: async (protocol) => { await this.requireHost().unhandle(protocol) },
      newStream: async (peerId, protocol, options) => await this.newStream(peerId, protocol, options)
    }
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

  /** Dials `targets` until the deadline or `signal`, its failure named by what it proved (see `dialProven`). */
  private async dialNamed (targets: Multiaddr[], label: string, signal?: AbortSignal, force = false): Promise<Connection> {
    const witness = this.opts.clusterKey != null ? this.witness : undefined
    return await dialProven({ host: this.requireHost(), clock: this.clock, witness, targets, label, signal: () => dialDeadline(this.clock, this.opts.dialTimeoutMs, signal), force, timeoutMs: this.opts.dialTimeoutMs })
  }

  /** Opens a stream of `protocol` to the peer, dialing it first when needed. */
  async newStream (peerId: string, protocol: string, options: { signal?: AbortSignal } = {}): Promise<Stream> {
    const conn = await this.connect(peerId, options)
    return conn.newStream(protocol, { signal: dialDeadline(this.clock, this.opts.dialTimeoutMs, options.signal) })
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

  private requireHost (): Host {
    if (this.host == null) throw new NotStartedError('the mesh is not started')
    return this.host
  }

  private requireView (): MembershipView {
    if (this.view == null) throw new NotStartedError('the mesh is not started')
    return this.view
  }
}
