import { multiaddr } from '@multiformats/multiaddr'
import { NodeUnavailableError, NotStartedError, sleep, systemRandom } from '@simplepool/core'
import type { Member, MemberFigures, MembershipLease, MembershipSnapshot, MemberStatus } from '@simplepool/core'
import type { Connection, Libp2p } from '@libp2p/interface'
import { createLinkHost, stopHost } from './host.js'
import type { Host } from './host.js'
import { HostedMesh } from './hosted-mesh.js'
import { Bootstrap } from './bootstrap.js'
import { namesSelf } from './own-address.js'
import { validateTargets } from './mesh-options.js'
import type { MeshInit } from './mesh-options.js'
import { WITNESS_MESH_EVENTS, WitnessMeshCore } from './witness/witness-mesh-core.js'
import { WitnessLinks } from './witness/witness-links.js'

/** A link's dial may queue behind many handshakes when many nodes start at once. */
const LINK_DIAL_TIMEOUT_MS = 10_000
/** A lost link is dialled again at most this often. */
const LINK_REDIAL_MS = 1_000

/**
 * A libp2p host on witness membership (docs/design/membership-v2.md): no gossip and no
 * full mesh. Each node keeps links to its witnesses and to the members that name it, and
 * learns the member list by pulling it from a bootstrap member as it joins, then by the
 * records pushed over the links. A member is down once a majority of its witnesses doubts
 * it, and a node holds its lease (see {@link MembershipLease}) while a majority of its own
 * witnesses echoes it. Connections other than links open when the transport first calls a
 * member. Its cost per node does not grow with the cluster (the witness benchmark).
 *
 * What it does not do that `Mesh` does: other members' counts and load are not carried
 * (`figures` is undefined; `count()` asks every member, as it always did), and the host
 * runs no Identify and no gossipsub, so the two kinds of mesh do not mix in one cluster.
 */
export class WitnessMesh extends HostedMesh<Libp2p> {
  private readonly witnesses: number | undefined
  private core?: WitnessMeshCore
  private links?: WitnessLinks
  private bootstrap?: Bootstrap
  /** The bootstrap peers reached, by peer id, and the address each was reached at. */
  private readonly reached = new Map<string, string>()
  /** The membership's lease, once it runs; held until then (a node that has not joined holds nothing). */
  readonly lease: MembershipLease = {
    holds: () => this.core?.lease.holds() ?? true,
    ready: () => this.core?.lease.ready() ?? false,
    markedDown: async (pausedMs, options) => await (this.core?.lease.markedDown(pausedMs, options) ?? Promise.resolve(true))
  }

  constructor (init: MeshInit = {}) {
    super(init)
    this.witnesses = init.witnesses
  }

  snapshot (): MembershipSnapshot {
    return this.requireCore().snapshot()
  }

  member (peerId: string): Readonly<Member> | undefined {
    return this.core?.member(peerId)
  }

  figures (peerId: string): Readonly<MemberFigures> | undefined {
    return this.core?.figures(peerId)
  }

  protected queries (): WitnessMeshCore | undefined {
    return this.core
  }

  /** Records go out as they change, not on a heartbeat: nothing to send now. */
  announceNow (): void {}

  setStatus (status: MemberStatus): void {
    this.core?.setStatus(status)
  }

  setTargets (targets: Record<string, number>): void {
    validateTargets(targets)
    this.targets = { ...targets }
    this.core?.setTargets(this.targets)
  }

  /** Starts the host and the links, and joins through the bootstrap addresses (none: starts a cluster). */
  protected async startOnce (): Promise<void> {
    if (this.stopping != null) await this.stopping
    const host = this.host = await createLinkHost({
      listen: this.opts.listen,
      announce: this.opts.announceAddresses,
      clusterKey: this.opts.clusterKey,
      witness: this.witness,
      privateKey: this.opts.privateKey,
      allow: this.opts.allow
    })
    this.reached.clear()
    try {
      await host.start()
    } catch (err) {
      // a port taken, an address that does not parse: nothing is left behind
      await stopHost(host as Host).catch(() => {})
      this.host = undefined
      throw err
    }
    this.running = true
    const links = this.links = new WitnessLinks({
      host,
      clock: this.clock,
      logger: this.logger,
      addressesOf: (peer) => this.core?.membership.addressesOf(peer) ?? (this.reached.has(peer) ? [this.reached.get(peer) as string] : undefined),
      receive: (from, m) => { this.core?.receive(from, m) },
      closed: (peer) => { this.core?.membership.linkClosed(peer) },
      refused: (peer) => { this.core?.membership.refused(peer) },
      dialTimeoutMs: LINK_DIAL_TIMEOUT_MS,
      redialMs: LINK_REDIAL_MS
    })
    const core = this.core = new WitnessMeshCore({
      peerId: host.peerId.toString(),
      addresses: this.addresses,
      clock: this.clock,
      random: this.opts.random ?? systemRandom,
      send: (peer, m) => { links.send(peer, m) },
      unlinked: (peer) => { links.close(peer) },
      options: this.witnesses !== undefined ? { witnesses: this.witnesses } : {}
    }, this.targets)
    for (const type of WITNESS_MESH_EVENTS) {
      core.addEventListener(type, (evt) => { this.dispatchEvent(new CustomEvent(type, { detail: evt.detail })) })
    }
    await links.start()
    const others = this.opts.bootstrap.filter(a => !namesSelf(a, host.peerId.toString(), this.addresses))
    if (others.length === 0) {
      core.start([])
      return
    }
    // the join pulls the member list from the peers reached (their ids come from the dials):
    // those the first round reached, or the first a later round reaches
    let begun = false
    let firstRound = true
    const begin = (): void => {
      if (begun || this.reached.size === 0 || !this.running) return
      begun = true
      core.start([...this.reached.keys()])
    }
    this.bootstrap = new Bootstrap({
      clock: this.clock,
      random: this.opts.random ?? systemRandom,
      logger: this.logger,
      dial: async (addr) => {
        const conn = await this.dialNamed([multiaddr(addr)], addr)
        this.reached.set(conn.remotePeer.toString(), addr)
        if (!firstRound) begin()
      },
      reached: () => this.reached.size > 0,
      running: () => this.running,
      report: (err) => { this.emit('mesh:error', err) }
    })
    await this.bootstrap.dial(others)
    firstRound = false
    begin()
  }

  /** Leaves (the others drop this node from their views as the news spreads), then stops the links and the host. */
  protected async stopOnce (): Promise<void> {
    this.bootstrap?.stop()
    try {
      await this.core?.leave()
      // the news goes out on the links before they close
      await sleep(this.clock, 50)
    } catch (err) {
      this.logger.debug('could not announce leaving', err)
    }
    this.running = false
    this.core?.stop()
    await this.links?.stop()
    // (libp2p leaves timers behind that `stopHost` clears: see there)
    if (this.host != null) await stopHost(this.host as Host)
  }

  /** A connection to the member: the newest open, or a dial of the addresses it announced. */
  async connect (peerId: string, options: { signal?: AbortSignal } = {}): Promise<Connection> {
    const open = this.requireHost().getConnections().filter(c => c.remotePeer.toString() === peerId && c.status === 'open')
    if (open.length > 0) return open[open.length - 1]
    const addresses = this.core?.membership.addressesOf(peerId)
    if (addresses === undefined || addresses.length === 0) throw new NodeUnavailableError(`peer ${peerId} is not a known member`, { peer: peerId })
    return await this.dialNamed(addresses.map(a => multiaddr(a)), peerId, options.signal)
  }

  private requireCore (): WitnessMeshCore {
    if (this.core == null) throw new NotStartedError('the mesh is not started')
    return this.core
  }
}
