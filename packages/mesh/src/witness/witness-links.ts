import { multiaddr } from '@multiformats/multiaddr'
import { sleep, timeoutSignal } from '@simplepool/core'
import type { Clock, Logger } from '@simplepool/core'
import type { Libp2p, Stream } from '@libp2p/interface'
import { isRefusal } from '../dial-error.js'
import { dialProven } from '../proven-dial.js'
import { MAX_WITNESS_MESSAGE_BYTES, decodeWitnessMessage, encodeWitnessMessage } from './witness-codec.js'
import type { WitnessMessage } from './witness-messages.js'

/** The protocol of witness links: one stream each way per link, each message a 4-byte length and its cbor. */
export const WITNESS_PROTOCOL = '/simplepool/witness/1'
/** Messages held for a link while its stream opens; past this, the oldest go (a beat is sent again in half a second). */
const QUEUE_MAX = 64

/** What witness links need. */
export interface WitnessLinksInit {
  host: Libp2p
  clock: Clock
  logger: Logger
  /** The addresses a member listens on, from the membership. */
  addressesOf: (peer: string) => readonly string[] | undefined
  /** A message came on a link. */
  receive: (from: string, message: WitnessMessage) => void
  /** The stream to `peer` closed, or could not be opened (a timeout, a reset: nothing proven). */
  closed: (peer: string) => void
  /** A dial of `peer` was refused: no process listens where it was. */
  refused: (peer: string) => void
  /** How long a dial may take. */
  dialTimeoutMs: number
  /** Least time between two dials of one peer. */
  redialMs: number
  /**
   * Of a pair not yet connected, the side with the greater peer id waits this long for the
   * other's connection before it dials too (and then, most often, finds it open): each
   * connection costs both ends their handshakes, and when many nodes start at once two
   * dials a pair were half the storm. @default redialMs
   */
  acceptMs?: number
}

interface Outbound {
  stream?: Stream
  queue: Uint8Array[]
}

/**
 * Witness links over libp2p (see `WitnessDetector`): `send` writes a message on this
 * node's own stream to the peer, opening it (and a connection) when there is none; every
 * stream a peer opens here is read, message by message. A stream that closes is reported
 * (`closed`) and the peer dialed again at once: a process killed refuses the dial, which
 * proves it gone (`refused`), while a connection that only dropped comes back.
 */
export class WitnessLinks {
  private readonly init: WitnessLinksInit
  private readonly out = new Map<string, Outbound>()
  private readonly lastDial = new Map<string, number>()
  private running = false
  /** The last connection to a peer closed (a killed process's do at once): its link is lost, whatever its stream says yet. */
  private readonly onDisconnect = (evt: CustomEvent<{ toString: () => string }>): void => {
    const peer = evt.detail.toString()
    const o = this.out.get(peer)
    if (o?.stream !== undefined) this.lost(peer, o)
  }

  constructor (init: WitnessLinksInit) {
    this.init = init
  }

  async start (): Promise<void> {
    this.running = true
    this.init.host.addEventListener('peer:disconnect', this.onDisconnect)
    await this.init.host.handle(WITNESS_PROTOCOL, (stream, connection) => {
      this.read(stream, connection.remotePeer.toString())
    }, { runOnLimitedConnection: false })
  }

  async stop (): Promise<void> {
    this.running = false
    this.init.host.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const o of this.out.values()) o.stream?.abort(new Error('witness links stopped'))
    this.out.clear()
    await this.init.host.unhandle(WITNESS_PROTOCOL)
  }

  /** Sends a message to `peer`, opening the link's stream when needed. */
  send (peer: string, message: WitnessMessage): void {
    if (!this.running) return
    const bytes = frame(encodeWitnessMessage(message))
    let o = this.out.get(peer)
    if (o?.stream !== undefined && o.stream.status === 'open') {
      o.stream.send(bytes)
      return
    }
    if (o === undefined) {
      const now = this.init.clock.monotonic()
      if (now - (this.lastDial.get(peer) ?? -Infinity) < this.init.redialMs) return
      this.lastDial.set(peer, now)
      this.out.set(peer, o = { queue: [] })
      const self = this.init.host.peerId.toString()
      const wait = self > peer && this.init.host.getConnections().every(c => c.remotePeer.toString() !== peer) ? (this.init.acceptMs ?? this.init.redialMs) : 0
      void this.open(peer, o, wait)
    }
    if (o.queue.length >= QUEUE_MAX) o.queue.shift()
    o.queue.push(bytes)
  }

  private async open (peer: string, o: Outbound, waitMs = 0): Promise<void> {
    if (waitMs > 0) await sleep(this.init.clock, waitMs)
    if (!this.running || this.out.get(peer) !== o) return
    const addresses = this.init.addressesOf(peer) ?? []
    const signal = (): AbortSignal => timeoutSignal(this.init.clock, this.init.dialTimeoutMs)
    let stream: Stream | undefined
    for (let attempt = 1; stream === undefined; attempt++) {
      try {
        if (addresses.length === 0) throw new Error(`no address known for ${peer}`)
        // (a dial whose handshake the peer closed is made again: one that died meanwhile refuses it, which proves it gone)
        const connection = await dialProven({ host: this.init.host, clock: this.init.clock, targets: addresses.map(a => multiaddr(a)), label: peer, signal, timeoutMs: this.init.dialTimeoutMs, force: attempt > 1 })
        stream = await connection.newStream(WITNESS_PROTOCOL, { signal: signal() })
      } catch (err) {
        // the connection handed back was closing (its peer just went): once more on a new one, which a dead peer refuses
        if (attempt === 1 && this.running && !isRefusal(err)) continue
        if (this.out.get(peer) === o) this.out.delete(peer)
        this.init.logger.debug(`witness link to ${peer} not opened: ${(err as Error).message}`)
        if (!this.running) return
        if (isRefusal(err)) this.init.refused(peer)
        else this.init.closed(peer)
        return
      }
    }
    if (!this.running || this.out.get(peer) !== o) {
      stream.abort(new Error('witness link no longer wanted'))
      return
    }
    o.stream = stream
    stream.addEventListener('close', () => { this.lost(peer, o) })
    // (nothing is read on a stream this node opened: the peer writes on its own)
    for (const bytes of o.queue.splice(0)) stream.send(bytes)
  }

  /** The stream to `peer` closed: reported, and the peer dialed again at once (a refusal proves it gone). */
  private lost (peer: string, o: Outbound): void {
    if (this.out.get(peer) !== o) return
    this.out.delete(peer)
    if (o.stream?.status === 'open') o.stream.abort(new Error(`the connection to ${peer} closed`))
    if (!this.running) return
    this.init.closed(peer)
    this.lastDial.delete(peer)
    const again: Outbound = { queue: [] }
    this.out.set(peer, again)
    this.lastDial.set(peer, this.init.clock.monotonic())
    void this.open(peer, again)
  }

  /** Reads a peer's stream: each message is handed on; a malformed one is dropped, and a length past the limit ends the stream. */
  private read (stream: Stream, from: string): void {
    let pending = new Uint8Array(0)
    stream.addEventListener('message', (evt) => {
      const chunk = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
      let buf = pending.byteLength === 0 ? chunk : concat(pending, chunk)
      while (buf.byteLength >= 4) {
        const length = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0)
        if (length > MAX_WITNESS_MESSAGE_BYTES) {
          stream.abort(new Error(`witness message of ${length} bytes from ${from} exceeds ${MAX_WITNESS_MESSAGE_BYTES}`))
          return
        }
        if (buf.byteLength < 4 + length) break
        const body = buf.subarray(4, 4 + length)
        buf = buf.subarray(4 + length)
        try {
          this.init.receive(from, decodeWitnessMessage(body))
        } catch (err) {
          this.init.logger.warn(`dropped a witness message from ${from}`, err)
        }
      }
      pending = buf.byteLength === 0 ? new Uint8Array(0) : buf.slice()
    })
  }
}

function frame (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.byteLength)
  new DataView(out.buffer).setUint32(0, body.byteLength)
  out.set(body, 4)
  return out
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}
