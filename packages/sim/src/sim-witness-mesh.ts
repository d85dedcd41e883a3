import { NotStartedError, TypedEventTarget, seededRandom, sleep } from '@simplepool/core'
import type { Clock, Logger, Member, MemberFigures, MembershipLease, MemberStatus, MembershipSnapshot } from '@simplepool/core'
import { WITNESS_MESH_EVENTS, WitnessMeshCore } from '@simplepool/mesh'
import type { LinkMessage, MeshEvents } from '@simplepool/mesh'
import type { NodeMesh } from 'simplepool'
import type { SimNetwork } from './sim-network.js'
import { attachNode } from './sim-mesh.js'
import type { SimTransport } from './sim-transport.js'

/** A link redials a lost peer at most this often (as the libp2p links' `redialMs`). */
const REDIAL_MS = 1_000

/** What a simulated mesh on witness membership is made of. */
export interface SimWitnessMeshInit {
  peerId: string
  network: SimNetwork
  clock: Clock
  /** Until when the node is paused (its network input waits meanwhile). */
  pausedUntil: () => number
  transport: SimTransport
  /** The node it joins through (none: it starts a cluster). */
  bootstrap?: string
  /** Seeds the membership's own choices (when it greets a link, which link it asks). */
  seed: number
  logger: Logger
}

/**
 * A node's membership over the simulated network on witness membership, as the libp2p
 * mesh runs it: the real {@link WitnessMeshCore}, its links' messages on a stream of their
 * own between the two nodes. A connection closes (a node killed or stopped) only for the
 * nodes that spoke with it over a link, as the host's `peer:disconnect` comes only where a
 * connection was; a process gone refuses the redial one link delay later, and a link's
 * message to it (a dial) is refused too.
 */
export class SimWitnessMesh extends TypedEventTarget<MeshEvents> implements NodeMesh {
  readonly peerId: string
  private readonly c: SimWitnessMeshInit
  private readonly core: WitnessMeshCore
  readonly lease: MembershipLease
  private running = false
  private started = false
  /** Peers this node exchanged link messages with: those with a connection to it. */
  private readonly spoken = new Set<string>()
  /** When a send to each peer gone was last refused. */
  private readonly refusedAt = new Map<string, number>()

  constructor (init: SimWitnessMeshInit) {
    super()
    this.c = init
    this.peerId = init.peerId
    const core = this.core = new WitnessMeshCore({
      peerId: this.peerId,
      addresses: [],
      clock: init.clock,
      random: seededRandom(init.seed),
      send: (peer, message) => {
        if (!this.running) return
        this.spoken.add(peer)
        init.network.link(this.peerId, peer, message)
        // as the links redial a peer they lost: a process gone refuses (once a second at most)
        if (!init.network.has(peer) && !init.network.isCut(this.peerId, peer) && init.clock.monotonic() - (this.refusedAt.get(peer) ?? -Infinity) >= REDIAL_MS) {
          this.refusedAt.set(peer, init.clock.monotonic())
          init.clock.setTimeout(() => { if (this.running) this.core.membership.refused(peer) }, 1)
        }
      }
    }, {})
    this.lease = core.lease
    for (const type of WITNESS_MESH_EVENTS) {
      core.addEventListener(type, (evt) => { this.dispatchEvent(new CustomEvent(type, { detail: evt.detail })) })
    }
  }

  /** A simulated node has no multiaddr: it is reached by its peer id alone. */
  get addresses (): string[] {
    return []
  }

  get isRunning (): boolean {
    return this.running
  }

  snapshot (): MembershipSnapshot {
    if (!this.started) throw new NotStartedError('the mesh is not started')
    return this.core.snapshot()
  }

  member (peerId: string): Readonly<Member> | undefined {
    return this.core.member(peerId)
  }

  figures (peerId: string): Readonly<MemberFigures> | undefined {
    return this.core.figures(peerId)
  }

  heardFrom (peerId: string): boolean {
    return this.core.heardFrom(peerId)
  }

  unheard (): readonly string[] {
    return this.core.unheard()
  }

  unknown (): readonly string[] {
    return this.core.unknown()
  }

  departed (peerId: string): boolean {
    return this.core.departed(peerId)
  }

  markedDownAgo (peerId: string): number | undefined {
    return this.core.markedDownAgo(peerId)
  }

  /** Records go out on change, not on a heartbeat: nothing to send now. */
  announceNow (): void {}

  setStatus (status: MemberStatus): void {
    this.core.setStatus(status)
  }

  setTargets (targets: Record<string, number>): void {
    this.core.setTargets(targets)
  }

  async start (): Promise<void> {
    if (this.running) return
    const c = this.c
    attachNode(c, this.peerId, {
      onLink: (message, from) => { this.onLink(message as LinkMessage, from) },
      onDisconnect: (peer) => { this.onDisconnect(peer) }
    })
    this.running = this.started = true
    this.core.start(c.bootstrap !== undefined && c.bootstrap !== this.peerId ? [c.bootstrap] : [])
  }

  /** Leaves (its generation ends everywhere as the news spreads), gives that a moment to go out, and leaves the network. */
  async stop (): Promise<void> {
    if (!this.running) return
    await this.core.leave()
    await sleep(this.c.clock, 50)
    this.running = false
    this.core.stop()
    this.c.network.detach(this.peerId)
  }

  /** kill -9: off the network at once, nothing more sent. */
  kill (): void {
    this.running = false
    this.core.stop()
    if (this.c.network.has(this.peerId)) this.c.network.detach(this.peerId, true)
  }

  private onLink (message: LinkMessage, from: string): void {
    if (!this.running) return
    this.spoken.add(from)
    this.core.receive(from, message)
  }

  private onDisconnect (peer: string): void {
    if (!this.running || !this.spoken.delete(peer)) return
    this.core.membership.linkClosed(peer)
    // the redial: a process that is gone refuses it one round trip later (a cut one times out)
    this.c.clock.setTimeout(() => {
      if (this.running && !this.c.network.has(peer) && !this.c.network.isCut(this.peerId, peer)) this.core.membership.refused(peer)
    }, 1)
  }
}
