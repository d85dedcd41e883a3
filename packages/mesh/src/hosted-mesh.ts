import type { Multiaddr } from '@multiformats/multiaddr'
import { NotStartedError, STREAMS_PER_PROTOCOL, TypedEventTarget, consoleLogger, systemClock, withDefaults } from '@simplepool/core'
import type { Clock, Logger, MembershipEvents, MembershipLeaseEvents } from '@simplepool/core'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { HandshakeWitness } from './handshake-witness.js'
import { dialDeadline, dialProven } from './proven-dial.js'
import { DEFAULTS, validateMeshInit } from './mesh-options.js'
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

/** What a membership (the gossip view, the witness core) answers of members beyond its snapshot: what the runtime asks before it fences or takes work over. */
export interface MemberQueries {
  heardFrom: (peerId: string) => boolean
  unheard: () => readonly string[]
  unknown: () => readonly string[]
  markedDownAgo: (peerId: string) => number | undefined
  departed: (peerId: string) => boolean
}

/**
 * What a mesh shares whatever its membership (`Mesh`, gossip; `WitnessMesh`): its options,
 * clock and logger, the libp2p host it runs and what a node reads of it, dials named by
 * what they proved, and stream handling for the transport. Each kind says how it connects
 * to a member (`connect`), what its membership answers once it runs (`queries`), and
 * whether a stream came on a stale connection (`staleOf`).
 */
export abstract class HostedMesh<H extends Libp2p> extends TypedEventTarget<MeshEvents> {
  protected readonly opts: MeshOptions
  protected readonly logger: Logger
  protected readonly clock: Clock
  /** What the dials' handshakes proved (see `dialProven`). */
  protected readonly witness: HandshakeWitness
  protected targets: Record<string, number>
  protected host?: H
  protected running = false
  protected starting?: Promise<void>
  protected stopping?: Promise<void>

  constructor (init: MeshInit) {
    super()
    validateMeshInit(init)
    this.opts = withDefaults(DEFAULTS, init) as MeshOptions
    this.logger = init.logger ?? consoleLogger('mesh')
    this.clock = init.clock ?? systemClock
    this.witness = new HandshakeWitness(this.clock)
    this.targets = { ...this.opts.targets }
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
  get libp2p (): H {
    return this.requireHost()
  }

  /** Starts the host and the membership (see each kind's `startOnce`). Calling it again while it runs, or after, is harmless. */
  async start (): Promise<void> {
    if (this.running) return
    this.starting ??= this.startOnce().finally(() => { this.starting = undefined })
    await this.starting
  }

  /** Leaves the membership and stops the host (see each kind's `stopOnce`); a stop during a start waits for it, so no half-started host is left behind. */
  async stop (): Promise<void> {
    if (this.starting != null) await this.starting.catch(() => {})
    if (!this.running) return this.stopping
    this.stopping = this.stopOnce()
    await this.stopping
  }

  protected abstract startOnce (): Promise<void>
  protected abstract stopOnce (): Promise<void>

  /** True between `start()` and `stop()`. */
  get isRunning (): boolean {
    return this.running
  }

  /** A member proved it is alive by a message of its own; false when it is unknown here or down (or before `start()`). */
  heardFrom (peerId: string): boolean {
    return this.queries()?.heardFrom(peerId) ?? false
  }

  /** Members this node never heard that others doubt and did not mark down. */
  unheard (): readonly string[] {
    return this.queries()?.unheard() ?? []
  }

  /** Members this node never heard that others doubt, marked down or not. */
  unknown (): readonly string[] {
    return this.queries()?.unknown() ?? []
  }

  /** How many ms ago this node last marked the peer down, if it did lately. */
  markedDownAgo (peerId: string): number | undefined {
    return this.queries()?.markedDownAgo(peerId)
  }

  /** True when the peer is known gone lately (it said goodbye, or refused a redial). */
  departed (peerId: string): boolean {
    return this.queries()?.departed(peerId) ?? false
  }

  /** The membership's answers, once it runs. */
  protected abstract queries (): MemberQueries | undefined

  /** A connection to the member: an open one, or a dial of the addresses it announced; `NodeUnavailableError` when it is unknown or cannot be reached. */
  abstract connect (peerId: string, options?: { signal?: AbortSignal }): Promise<Connection>

  /** Opens a stream of `protocol` to the peer, dialing it first when needed. */
  async newStream (peerId: string, protocol: string, options: { signal?: AbortSignal } = {}): Promise<Stream> {
    const conn = await this.connect(peerId, options)
    return await conn.newStream(protocol, { signal: dialDeadline(this.clock, this.opts.dialTimeoutMs, options.signal) })
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
          handler(stream, peer, this.staleOf(peer, connection))
        }, {
          maxInboundStreams: STREAMS_PER_PROTOCOL,
          maxOutboundStreams: STREAMS_PER_PROTOCOL
        })
      },
      unhandle: async (protocol) => { await this.requireHost().unhandle(protocol) },
      newStream: async (peerId, protocol, options) => await this.newStream(peerId, protocol, options)
    }
  }

  /** Whether a stream that came on `connection` came on a stale one (see `Connections`): a mesh that keeps no such account says no. */
  protected staleOf (_peer: string, _connection: Connection): boolean {
    return false
  }

  /** Dials `targets` until the deadline or `signal`, its failure named by what it proved (see `dialProven`); `force`: a new connection even when one is open. */
  protected async dialNamed (targets: Multiaddr[], label: string, signal?: AbortSignal, force = false): Promise<Connection> {
    const witness = this.opts.clusterKey != null ? this.witness : undefined
    return await dialProven({ host: this.requireHost(), clock: this.clock, witness, targets, label, signal: () => dialDeadline(this.clock, this.opts.dialTimeoutMs, signal), force, timeoutMs: this.opts.dialTimeoutMs })
  }

  protected requireHost (): H {
    if (this.host == null) throw new NotStartedError('the mesh is not started')
    return this.host
  }
}
