import { DEFAULT_DOWN_AFTER_MS, DEFAULT_FORGET_AFTER_MS, DEFAULT_HEARTBEAT_MS, DEFAULT_MAX_RECORDS_PER_SECOND, DEFAULT_SUSPECT_AFTER_MS, MEMBERSHIP_SWEEP_MS, NotStartedError, TypedEventTarget, deferOf, sleep } from '@simplepool/core'
import type { Clock, EpochMark, Logger, Member, MemberFigures, MemberRecord, MemberStatus, MembershipSnapshot, TimerHandle } from '@simplepool/core'
import { MembershipView, decodeRecord, encodeRecord } from '@simplepool/mesh'
import type { MeshEvents } from '@simplepool/mesh'
import type { NodeMesh } from 'simplepool'
import type { SimHandlers, SimNetwork } from './sim-network.js'
import type { SimTransport } from './sim-transport.js'

/** What a simulated mesh is made of. */
export interface SimMeshInit {
  peerId: string
  network: SimNetwork
  clock: Clock
  /** Until when the node is paused (its network input waits meanwhile). */
  pausedUntil: () => number
  /** The transport that takes the calls and casts that arrive. */
  transport: SimTransport
  counts: () => Record<string, number>
  epochs: EpochMark
  incarnation: number
  logger: Logger
  heartbeatMs?: number
  suspectAfterMs?: number
  downAfterMs?: number
  forgetAfterMs?: number
}

/** Puts a simulated mesh's node on the network: its transport takes the calls and casts that arrive, its membership its own messages (`membership`). */
export function attachNode (c: Pick<SimMeshInit, 'network' | 'pausedUntil' | 'transport'>, peerId: string, membership: Pick<SimHandlers, 'onGossip' | 'onLink' | 'onDisconnect'>): void {
  c.network.attach(peerId, {
    handleCall: (payload, from) => c.transport.handleCall(payload, from),
    handleCast: (payload, from) => { c.transport.handleCast(payload, from) },
    ...membership,
    pausedUntil: c.pausedUntil
  })
}

/**
 * A node's membership over the simulated network, as the libp2p mesh keeps it: the real
 * {@link MembershipView}, fed by the records each node sends every heartbeat (stretched
 * in a big cluster as the mesh stretches it) and at once on any change, and swept for
 * silence; a node that first hears of a peer answers it at once, as the mesh answers a
 * new subscriber; a closed connection makes the peer suspect, and down when the redial
 * is refused. Left out: relaying records through third nodes (a record crosses only its
 * own link, so a cut link silences a node to the other side as a partition does).
 */
export class SimMesh extends TypedEventTarget<MeshEvents> implements NodeMesh {
  readonly peerId: string
  private readonly c: SimMeshInit
  private view?: MembershipView
  private status: MemberStatus = 'joining'
  private targets: Record<string, number> = {}
  private seq = 0
  private heartbeat?: TimerHandle
  private sweeper?: TimerHandle
  private running = false
  private publishQueued = false

  constructor (init: SimMeshInit) {
    super()
    this.c = init
    this.peerId = init.peerId
  }

  /** A simulated node has no multiaddr: it is reached by its peer id alone. */
  get addresses (): string[] {
    return []
  }

  get isRunning (): boolean {
    return this.running
  }

  snapshot (): MembershipSnapshot {
    return this.requireView().snapshot()
  }

  member (peerId: string): Readonly<Member> | undefined {
    return this.view?.get(peerId)
  }

  figures (peerId: string): Readonly<MemberFigures> | undefined {
    return this.view?.figures(peerId)
  }

  heardFrom (peerId: string): boolean {
    return this.view?.heardFrom(peerId) ?? false
  }

  unheard (): readonly string[] {
    return this.view?.unheard() ?? []
  }

  unknown (): readonly string[] {
    return this.view?.unknown() ?? []
  }

  /** True when the peer is known gone lately: it said goodbye, or refused a redial (see {@link MembershipView.departed}). */
  departed (peerId: string): boolean {
    return this.view?.departed(peerId) ?? false
  }

  markedDownAgo (peerId: string): number | undefined {
    return this.view?.markedDownAgo(peerId)
  }

  announceNow (): void {
    if (this.running) this.publish()
  }

  setStatus (status: MemberStatus): void {
    this.status = status
    this.publish()
  }

  setTargets (targets: Record<string, number>): void {
    this.targets = { ...targets }
    this.publish()
  }

  async start (): Promise<void> {
    if (this.running) return
    const c = this.c
    attachNode(c, this.peerId, {
      onGossip: (bytes, from) => { this.onGossip(bytes as Uint8Array, from) },
      onDisconnect: (peer) => { this.onDisconnect(peer) }
    })
    this.running = true
    this.status = 'joining'
    this.view = new MembershipView(this.record(), c.clock, {
      suspectAfterMs: c.suspectAfterMs ?? DEFAULT_SUSPECT_AFTER_MS,
      downAfterMs: c.downAfterMs ?? DEFAULT_DOWN_AFTER_MS,
      forgetAfterMs: c.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS,
      epochs: c.epochs
    })
    for (const type of ['member:join', 'member:update', 'member:leave', 'member:down', 'membership:change'] as const) {
      this.view.addEventListener(type, (evt) => { this.dispatchEvent(new CustomEvent(type, { detail: evt.detail })) })
    }
    // as the mesh does: a member this node starts to doubt learns it at once
    for (const type of ['member:join', 'member:update', 'member:down'] as const) {
      this.view.addEventListener(type, () => { this.publishSoon() })
    }
    this.beat()
    this.sweep()
    this.publish()
  }

  /** Announces `leaving`, gives it a moment to go out (as the mesh does), and leaves the network. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.clearTimers()
    this.status = 'leaving'
    this.send()
    await sleep(this.c.clock, 50)
    this.c.network.detach(this.peerId)
  }

  /** kill -9: off the network at once, nothing more sent. */
  kill (): void {
    this.running = false
    this.clearTimers()
    if (this.c.network.has(this.peerId)) this.c.network.detach(this.peerId, true)
  }

  private clearTimers (): void {
    if (this.heartbeat !== undefined) this.c.clock.clearTimeout(this.heartbeat)
    if (this.sweeper !== undefined) this.c.clock.clearTimeout(this.sweeper)
    this.heartbeat = this.sweeper = undefined
  }

  private record (): MemberRecord {
    const counts = this.c.counts()
    const pools: MemberRecord['pools'] = {}
    for (const [name, target] of Object.entries(this.targets)) pools[name] = { target, count: counts[name] ?? 0 }
    for (const [name, count] of Object.entries(counts)) pools[name] ??= { target: 0, count }
    return { peerId: this.peerId, addresses: this.addresses, status: this.status, pools, incarnation: this.c.incarnation, seq: ++this.seq, load: 0, heartbeatMs: this.interval(), epoch: this.c.epochs.last(), doubts: this.view?.doubted() ?? [], downs: this.view?.markedDown() ?? [], gone: this.view?.gone() ?? [], hears: this.view?.heard() ?? [] }
  }

  private publish (): void {
    if (this.running) this.send()
  }

  /** This node's record to every node on the network, as the gossip topic carries it. */
  private send (): void {
    if (this.view === undefined) return
    const record = this.record()
    this.view.updateSelf(record)
    const bytes = encodeRecord(record)
    for (const peer of this.c.network.peers()) if (peer !== this.peerId) this.c.network.gossip(this.peerId, peer, bytes)
  }

  private publishSoon (): void {
    if (this.publishQueued) return
    this.publishQueued = true
    deferOf(this.c.clock)(() => {
      this.publishQueued = false
      this.publish()
    })
  }

  private onGossip (bytes: Uint8Array, from: string): void {
    if (!this.running || this.view === undefined) return
    let record: MemberRecord
    try {
      record = decodeRecord(bytes)
    } catch (err) {
      this.c.logger.warn(`dropped a membership record from ${from}`, err)
      return
    }
    // the real gossip is signed: a node speaks only for itself
    if (record.peerId !== from) return
    const known = this.view.get(from) !== undefined
    this.view.onRecord(record)
    // a peer heard of for the first time has not heard from us: answer at once
    if (!known) this.publishSoon()
  }

  private onDisconnect (peer: string): void {
    if (!this.running || this.view === undefined) return
    const before = this.view.get(peer)
    this.view.onDisconnect(peer)
    if (before === undefined || before.status === 'leaving') return
    // the redial: a process that is gone refuses it one round trip later
    this.c.clock.setTimeout(() => {
      if (!this.running || this.view === undefined) return
      if (this.c.network.has(peer)) this.view.onConnect(peer)
      else this.view.onUnreachable(peer)
    }, 1)
  }

  /** The interval between records: the heartbeat, stretched so each node receives at most the mesh's records per second. */
  private interval (): number {
    const members = this.view?.snapshot().members.length ?? 1
    return Math.max(this.c.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, Math.ceil(1_000 * members / DEFAULT_MAX_RECORDS_PER_SECOND))
  }

  private beat (): void {
    this.heartbeat = this.c.clock.setTimeout(() => {
      this.publish()
      if (this.running) this.beat()
    }, this.interval())
  }

  private sweep (): void {
    this.sweeper = this.c.clock.setTimeout(() => {
      this.view?.sweep()
      if (this.running) this.redialDown()
      if (this.running) this.sweep()
    }, MEMBERSHIP_SWEEP_MS)
  }

  /**
   * As the mesh does: members marked down or suspect (and not known gone) are dialed
   * again; one that left the network refuses, once a link to it carries the dial (a cut
   * one times out). Records need no dial here: they go to every node on the network.
   */
  private redialDown (): void {
    const view = this.view
    if (view === undefined) return
    for (const m of view.snapshot().members) {
      if (m.liveness === 'alive' || m.status === 'leaving' || view.departed(m.peerId)) continue
      if (!this.c.network.has(m.peerId) && !this.c.network.isCut(this.peerId, m.peerId)) view.onUnreachable(m.peerId)
    }
  }

  private requireView (): MembershipView {
    if (this.view === undefined) throw new NotStartedError('the mesh is not started')
    return this.view
  }
}
