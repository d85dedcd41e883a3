import { multiaddr } from '@multiformats/multiaddr'
import { deferOf, sleep, timeoutSignal } from '@simplepool/core'
import type { Clock, Logger } from '@simplepool/core'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { isRefusal } from '../dial-error.js'
import { dialProven } from '../proven-dial.js'
import { MAX_WITNESS_MESSAGE_BYTES, decodeWitnessMessage, encodeWitnessMessage } from './witness-codec.js'
import { MessageReader, frame } from './witness-framing.js'
import { isRosterMessage } from './witness-messages.js'
import type { LinkMessage } from './witness-messages.js'

/** The protocol of witness links: one stream each way per link, each message a 4-byte length and its cbor. */
export const WITNESS_PROTOCOL = '/simplepool/witness/1'
/** Messages held for a link while its stream opens; past this, the oldest go (a beat is sent again in half a second). */
const QUEUE_MAX = 64
/** Bytes of the roster's messages held for a peer that reads slowly; past this the link is taken for lost (anti-entropy mends what it missed). */
const BACKLOG_MAX_BYTES = 4 * 1024 * 1024

/** What witness links need. */
export interface WitnessLinksInit {
  host: Libp2p
  clock: Clock
  logger: Logger
  /** The addresses a member listens on, from the membership. */
  addressesOf: (peer: string) => readonly string[] | undefined
  /** A message came on a link. */
  receive: (from: string, message: LinkMessage) => void
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
  /** Frames held while the stream opens; `keep` marks the roster's, which are never the ones dropped. */
  queue: Array<{ bytes: Uint8Array, keep: boolean }>
  /** Frames of this turn, written together at its end (see `flush`). */
  batch?: Uint8Array[]
  /** The batch holds a roster message, which waits for a drain rather than go. */
  batchKeeps?: boolean
  /** The roster's messages waiting for the stream to drain (they are not dropped as beats are), and their bytes. */
  backlog?: { frames: Uint8Array[], bytes: number }
}

/**
 * Witness links over libp2p (see `WitnessDetector`): `send` writes a message on this
 * node's own stream to the peer, opening it (and a connection) when there is none; every
 * stream a peer opens here is read, message by message. A stream that closes is reported
 * (`closed`) and the peer dialed again at once (at most once per `redialMs`): a process
 * killed refuses the dial, which proves it gone (`refused`), while a connection that only
 * dropped comes back. A peer that reads nothing (stopped, or its link half open) gets
 * nothing more once its stream's buffer is full: a beat is worth only its freshness, and
 * the next one supersedes it.
 */
export class WitnessLinks {
  private readonly init: WitnessLinksInit
  private readonly out = new Map<string, Outbound>()
  private readonly inbound = new Set<Stream>()
  /** When each peer was last dialed, or will be (a dial that waits first: see `acceptMs`). */
  private readonly lastDial = new Map<string, number>()
  private running = false
  /** The last connection to a peer closed (a killed process's do at once): its link is lost, whatever its stream says yet. */
  private readonly onDisconnect = (evt: CustomEvent<{ toString: () => string }>): void => {
    const peer = evt.detail.toString()
    const o = this.out.get(peer)
    if (o?.stream !== undefined) this.lost(peer, o)
  }

  private readonly self: string
  private readonly defer: (fn: () => void) => void

  constructor (init: WitnessLinksInit) {
    this.init = init
    this.self = init.host.peerId.toString()
    this.defer = deferOf(init.clock)
  }

  async start (): Promise<void> {
    this.running = true
    this.init.host.addEventListener('peer:disconnect', this.onDisconnect)
    await this.init.host.handle(WITNESS_PROTOCOL, (stream, connection) => {
      this.read(stream, connection.remotePeer.toString())
    }, { runOnLimitedConnection: false })
  }

  /** Closes every link, both ways, and stops reading. */
  async stop (): Promise<void> {
    this.running = false
    this.init.host.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const o of this.out.values()) o.stream?.abort(new Error('witness links stopped'))
    this.out.clear()
    for (const s of this.inbound) s.abort(new Error('witness links stopped'))
    this.inbound.clear()
    await this.init.host.unhandle(WITNESS_PROTOCOL)
  }

  /** The link to `peer` is no longer needed: this node's stream to it closes (the peer closes its own). */
  close (peer: string): void {
    const o = this.out.get(peer)
    this.out.delete(peer)
    o?.stream?.abort(new Error('witness link no longer needed'))
  }

  /**
   * Sends a message to `peer`, opening the link's stream when needed. A beat to a peer whose
   * stream is full is dropped (the next one supersedes it); the roster's messages wait for
   * the stream to drain, up to `BACKLOG_MAX_BYTES`.
   */
  send (peer: string, message: LinkMessage): void {
    if (!this.running || peer === this.self) return
    const body = encodeWitnessMessage(message)
    if (body.byteLength > MAX_WITNESS_MESSAGE_BYTES) {
      this.init.logger.warn(`a witness message of ${body.byteLength} bytes to ${peer} was not sent: over ${MAX_WITNESS_MESSAGE_BYTES}`)
      return
    }
    const bytes = frame(body)
    const o = this.out.get(peer)
    const stream = o?.stream
    if (o !== undefined && stream !== undefined) {
      // closing for writes (this node closed its connection) is as good as closed
      if (stream.writeStatus !== 'writable') {
        this.lost(peer, o)
        return
      }
      if (o.backlog !== undefined || (stream.writableNeedsDrain && isRosterMessage(message))) {
        this.hold(peer, o, stream, bytes)
        return
      }
      // a peer that reads nothing: what is queued for it already says all this would
      if (stream.writableNeedsDrain) return
      // what is sent to a peer in one turn goes as one write: a flood, a pull's answer or
      // the beats of a sweep are many messages, and each write is a Yamux frame, a Noise
      // record and a system call
      if (o.batch === undefined) {
        o.batch = []
        this.defer(() => { this.flush(peer, o, stream) })
      }
      o.batch.push(bytes)
      if (isRosterMessage(message)) o.batchKeeps = true
      return
    }
    if (o !== undefined) {
      const keep = isRosterMessage(message)
      if (o.queue.length >= QUEUE_MAX && !keep) return
      // (the roster's wait too, but not without bound: past it, anti-entropy mends what is lost)
      if (keep && o.queue.reduce((sum, q) => sum + q.bytes.byteLength, bytes.byteLength) > BACKLOG_MAX_BYTES) return
      if (o.queue.length >= QUEUE_MAX) {
        const beat = o.queue.findIndex(q => !q.keep)
        if (beat >= 0) o.queue.splice(beat, 1)
      }
      o.queue.push({ bytes, keep })
      return
    }
    const now = this.init.clock.monotonic()
    if (now - (this.lastDial.get(peer) ?? -Infinity) < this.init.redialMs) return
    const opening: Outbound = { queue: [{ bytes, keep: isRosterMessage(message) }] }
    this.out.set(peer, opening)
    const connected = this.init.host.getConnections().some(c => c.remotePeer.toString() === peer)
    this.opening(peer, opening, this.self > peer && !connected ? (this.init.acceptMs ?? this.init.redialMs) : 0)
  }

  /** Writes the frames of a turn to `peer` as one. */
  private flush (peer: string, o: Outbound, stream: Stream): void {
    const batch = o.batch
    const keeps = o.batchKeeps === true
    o.batch = o.batchKeeps = undefined
    if (batch === undefined || batch.length === 0 || o.stream !== stream || this.out.get(peer) !== o) return
    const bytes = batch.length === 1 ? batch[0] : concat(batch)
    // (beats alone, to a peer that reads nothing, go: the next ones supersede them)
    if (o.backlog !== undefined || stream.writableNeedsDrain) {
      if (keeps || o.backlog !== undefined) this.hold(peer, o, stream, bytes)
      return
    }
    try {
      stream.send(bytes)
    } catch {
      this.lost(peer, o)
    }
  }

  /** Keeps a frame until `stream` drains; a peer that lets too much wait has its link taken for lost. */
  private hold (peer: string, o: Outbound, stream: Stream, bytes: Uint8Array): void {
    if (o.backlog === undefined) {
      o.backlog = { frames: [], bytes: 0 }
      const flush = (): void => {
        const b = o.backlog
        if (b === undefined || o.stream !== stream) return
        while (b.frames.length > 0 && !stream.writableNeedsDrain) {
          const next = b.frames.shift() as Uint8Array
          b.bytes -= next.byteLength
          try {
            stream.send(next)
          } catch {
            this.lost(peer, o)
            return
          }
        }
        if (b.frames.length === 0) o.backlog = undefined
        else stream.addEventListener('drain', flush, { once: true })
      }
      stream.addEventListener('drain', flush, { once: true })
    }
    o.backlog.frames.push(bytes)
    o.backlog.bytes += bytes.byteLength
    if (o.backlog.bytes > BACKLOG_MAX_BYTES) {
      this.init.logger.warn(`witness link to ${peer}: ${o.backlog.bytes} bytes wait for a peer that reads slowly; the link is dropped`)
      this.lost(peer, o)
    }
  }

  private opening (peer: string, o: Outbound, waitMs: number): void {
    this.lastDial.set(peer, this.init.clock.monotonic() + waitMs)
    this.open(peer, o, waitMs).catch((err: Error) => {
      // (open handles what it expects; anything else must not end the process)
      this.init.logger.warn(`witness link to ${peer}: ${err.message}`)
      if (this.out.get(peer) === o) this.out.delete(peer)
    })
  }

  private async open (peer: string, o: Outbound, waitMs: number): Promise<void> {
    if (waitMs > 0) await sleep(this.init.clock, waitMs)
    if (!this.running || this.out.get(peer) !== o) return
    const addresses = this.init.addressesOf(peer) ?? []
    const signal = (): AbortSignal => timeoutSignal(this.init.clock, this.init.dialTimeoutMs)
    let stream: Stream | undefined
    let failure: unknown
    // a peer not yet in the member list (a joiner that asked for it) is answered on the connection it opened
    const open = addresses.length === 0 ? this.init.host.getConnections().find(c => c.remotePeer.toString() === peer && c.status === 'open') : undefined
    if (addresses.length === 0 && open === undefined) failure = new Error(`no address known for ${peer}`)
    if (open !== undefined) {
      try {
        stream = await open.newStream(WITNESS_PROTOCOL, { signal: signal() })
      } catch (err) {
        failure = err
      }
    }
    for (let attempt = 1; stream === undefined && failure === undefined; attempt++) {
      let connection: Connection | undefined
      try {
        // (a dial whose handshake the peer closed is made again: one that died meanwhile refuses it, which proves it gone)
        connection = await dialProven({ host: this.init.host, clock: this.init.clock, targets: addresses.map(a => multiaddr(a)), label: peer, signal, timeoutMs: this.init.dialTimeoutMs, force: attempt > 1 })
        stream = await connection.newStream(WITNESS_PROTOCOL, { signal: signal() })
      } catch (err) {
        // the connection handed back was closing (its peer just went): once more on a new
        // one, which a dead peer refuses; a failed dial, or a stream refused on a connection
        // still open, proves nothing more the second time
        if (attempt === 1 && connection !== undefined && connection.status !== 'open' && this.running) continue
        if (attempt > 1 && connection !== undefined) void connection.close().catch(() => {})
        failure = err
      }
    }
    if (stream !== undefined && stream.writeStatus !== 'writable') failure = new Error(`the stream to ${peer} closed as it opened`)
    if (failure !== undefined || stream === undefined) {
      if (this.out.get(peer) === o) this.out.delete(peer)
      this.init.logger.debug(`witness link to ${peer} not opened: ${(failure as Error).message}`)
      if (!this.running) return
      if (isRefusal(failure)) this.init.refused(peer)
      else this.init.closed(peer)
      return
    }
    if (!this.running || this.out.get(peer) !== o) {
      stream.abort(new Error('witness link no longer wanted'))
      return
    }
    o.stream = stream
    stream.addEventListener('close', () => { this.lost(peer, o) })
    // (nothing is read on a stream this node opened: the peer writes on its own)
    for (const { bytes } of o.queue.splice(0)) {
      if (stream.writableNeedsDrain || o.backlog !== undefined) this.hold(peer, o, stream, bytes)
      else stream.send(bytes)
    }
  }

  /** The stream to `peer` closed: reported, and the peer dialed again at once unless it was lately (a refusal proves it gone). */
  private lost (peer: string, o: Outbound): void {
    if (this.out.get(peer) !== o) return
    this.out.delete(peer)
    if (o.stream !== undefined && o.stream.status === 'open') o.stream.abort(new Error(`the link to ${peer} is lost`))
    if (!this.running) return
    this.init.closed(peer)
    // a link whose streams close as soon as they open is not dialed in a loop: again once redialMs has passed since the last dial
    const since = this.init.clock.monotonic() - (this.lastDial.get(peer) ?? -Infinity)
    const again: Outbound = { queue: [] }
    this.out.set(peer, again)
    this.opening(peer, again, Math.max(0, this.init.redialMs - since))
  }

  /** Reads a peer's stream: each message is handed on; a malformed one is dropped, and a length past the limit ends the stream. */
  private read (stream: Stream, from: string): void {
    if (!this.running) {
      stream.abort(new Error('witness links stopped'))
      return
    }
    this.inbound.add(stream)
    stream.addEventListener('close', () => { this.inbound.delete(stream) })
    const reader = new MessageReader(MAX_WITNESS_MESSAGE_BYTES)
    stream.addEventListener('message', (evt) => {
      if (!this.running) return
      let bodies: Uint8Array[]
      try {
        bodies = reader.push(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray())
      } catch (err) {
        stream.abort(err as Error)
        return
      }
      for (const body of bodies) {
        try {
          this.init.receive(from, decodeWitnessMessage(body))
        } catch (err) {
          this.init.logger.warn(`dropped a witness message from ${from}`, err)
        }
      }
    })
  }
}

function concat (parts: Uint8Array[]): Uint8Array {
  let size = 0
  for (const p of parts) size += p.byteLength
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}
