import { DEFAULT_CALL_TIMEOUT_MS, InvalidOptionError, MAX_TIMER_MS, NoHandlerError, NodeUnavailableError, NotStartedError } from '@simplepool/core'
import type { TransportHandlers, TransportStats } from '@simplepool/transport'
import type { NodeTransport } from 'simplepool'
import type { SimNetwork } from './sim-network.js'

/**
 * A node's transport on the simulated network, as the node uses the real one: calls and
 * casts go over the node's links, a peer given up on fails the calls waiting on it, and
 * a stopped transport refuses to send and fails what it waited on. What arrives goes to
 * the handlers the node set.
 */
export class SimTransport implements NodeTransport {
  readonly stats: TransportStats = { framesOut: 0, framesIn: 0, envelopesOut: 0, envelopesIn: 0, droppedCasts: 0, lateReplies: 0, invalidFrames: 0, timeouts: 0 }
  private readonly peer: string
  private readonly network: SimNetwork
  private handlers: TransportHandlers = {}
  private running = false

  constructor (peer: string, network: SimNetwork) {
    this.peer = peer
    this.network = network
  }

  setHandlers (handlers: TransportHandlers): void {
    this.handlers = handlers
  }

  async start (): Promise<void> {
    this.running = true
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.network.failCalls(this.peer, undefined, new NodeUnavailableError('the transport stopped'))
  }

  cast (peerId: string, payload: unknown): void {
    if (!this.running) throw new NotStartedError('the transport is not started')
    this.stats.envelopesOut++
    this.network.cast(this.peer, peerId, payload)
  }

  async call (peerId: string, payload: unknown, options: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<unknown> {
    if (!this.running) throw new NotStartedError('the transport is not started')
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) throw new InvalidOptionError(`timeoutMs must be a number in (0, ${MAX_TIMER_MS}], got ${String(timeoutMs)}`)
    this.stats.envelopesOut++
    return await this.network.call(this.peer, peerId, payload, timeoutMs, options.signal)
  }

  peerDown (peerId: string, reason = `peer ${peerId} is down`): void {
    this.network.failCalls(this.peer, peerId, new NodeUnavailableError(reason, { peer: peerId }))
  }

  /** Calls pending to one peer, or to all. */
  pendingCalls (peerId?: string): number {
    return this.network.pendingCalls(this.peer, peerId)
  }

  /** A call that arrived: the node's handler answers, or the stream is refused as a stopped transport's is. */
  handleCall (payload: unknown, from: string): unknown {
    if (!this.running) throw new NodeUnavailableError(`peer ${this.peer} takes no calls: its transport is stopped`, { peer: this.peer })
    this.stats.envelopesIn++
    const h = this.handlers.onCall
    if (h === undefined) throw new NoHandlerError('this node takes no calls')
    return h(payload, from)
  }

  /** A cast that arrived; lost when the transport is stopped, as on a closed stream. */
  handleCast (payload: unknown, from: string): void {
    if (!this.running) return
    this.stats.envelopesIn++
    this.handlers.onCast?.(payload, from)
  }
}
