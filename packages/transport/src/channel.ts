import { EARLY_REPLY_FLUSH_ENVELOPES, ENVELOPE_VERSION, InvalidMessageError, NodeUnavailableError, OverloadedError, fromWireError, toWireError } from '@simplepool/core'
import type { Logger } from '@simplepool/core'
import type { Stream } from '@libp2p/interface'
import { Kind, checkEnvelope } from './envelope.js'
import { FRAME_HEADER_BYTES, FrameDecoder, decodeFrameBody, encodeFrame, encodedSize } from './frame-codec.js'
import type { TransportStats } from './stats.js'

/** A call waiting for its reply. One object per call, kept in a map and in the deadline wheel. */
export interface PendingCall {
  id: number
  channel: Channel
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  /** Its time, in ms, for the error that says it ran out. */
  timeoutMs: number
  signal?: AbortSignal
  onAbort?: () => void
}

/** What a channel reports to its transport. */
export interface ChannelOwner {
  readonly logger: Logger
  readonly maxFrameBytes: number
  readonly maxEnvelopesPerFrame: number
  readonly maxQueued: number
  readonly maxInboundCalls: number
  onCast: (payload: unknown, from: string) => void
  onCall: (payload: unknown, from: string) => unknown
  settle: (call: PendingCall) => void
  closed: (channel: Channel, err: Error) => void
  stats: TransportStats
  /** Runs `fn` on the next turn of the event loop: the clock's `defer`. */
  defer: (fn: () => void) => void
}

/**
 * One long-lived stream to a peer, read and written by both sides. Writes are queued and
 * flushed once per turn of the event loop as one frame (or a few, for a big queue); reads
 * are split into frames, checked, and dispatched. Either side may call on it, and a reply
 * goes back on the stream its call came on, so when a stream closes exactly the calls
 * made on it fail.
 */
export class Channel {
  readonly peer: string
  readonly pending = new Map<number, PendingCall>()
  stream?: Stream
  // Envelopes waiting, in chunks of at most one frame's worth: the last chunk fills, a
  // flush hands whole chunks to the encoder. (One flat array sliced per frame copied the
  // rest of the queue for every frame sent: 40% of a busy sender's time.)
  private chunks: unknown[][] = []
  private count = 0
  private readonly owner: ChannelOwner
  private readonly decoder: FrameDecoder
  /** Calls given up (timed out, aborted) since the queue was last empty: some may still be queued. */
  private abandoned = 0
  /** Calls from the peer whose handler has not answered yet. */
  private inboundCalls = 0
  private scheduled = false
  private draining = false
  private closedWith?: Error
  private readonly flushNow = (): void => { this.flush() }

  constructor (peer: string, owner: ChannelOwner) {
    this.peer = peer
    this.owner = owner
    this.decoder = new FrameDecoder(owner.maxFrameBytes)
  }

  /** True once the channel has failed or been closed; a new one replaces it. */
  get isClosed (): boolean {
    return this.closedWith != null
  }

  /** Binds the opened stream and starts reading and writing. */
  attach (stream: Stream): void {
    if (this.closedWith != null) {
      stream.abort(this.closedWith)
      return
    }
    this.stream = stream
    stream.addEventListener('message', (evt) => { this.onData(evt.data) })
    stream.addEventListener('close', (evt) => {
      // what was in flight may have been taken there: `mayHaveArrived` says so
      this.fail(evt.error != null
        ? new NodeUnavailableError(`stream to ${this.peer} closed: ${evt.error.name}: ${evt.error.message}`, { peer: this.peer, reason: 'closed' })
        : new NodeUnavailableError(`stream to ${this.peer} closed`, { peer: this.peer, reason: 'closed' }))
    })
    this.schedule()
  }

  /** Queues an envelope; throws `OverloadedError` past the queue limit. */
  enqueue (envelope: unknown[]): void {
    if (this.closedWith != null) throw this.closedWith
    if (this.count >= this.owner.maxQueued) {
      throw new OverloadedError(`${this.count} messages already queued to ${this.peer}`, { peer: this.peer, queued: this.count })
    }
    this.push(envelope)
    this.schedule()
  }

  /** Fails the channel: pending calls reject with `err`, the stream is aborted. */
  fail (err: Error): void {
    if (this.closedWith != null) return
    this.closedWith = err
    for (const chunk of this.chunks) this.dropCasts(chunk)
    this.chunks = []
    this.count = 0
    for (const call of this.pending.values()) {
      this.owner.settle(call)
      call.reject(err)
    }
    this.pending.clear()
    if (this.stream != null && this.stream.status === 'open') this.stream.abort(err)
    this.owner.closed(this, err)
  }

  /**
   * Forgets a pending call whose caller gave up on it. If it has not been written yet it
   * never will be: the peer does no work whose answer nobody waits for.
   */
  abandon (id: number): boolean {
    if (!this.pending.delete(id)) return false
    if (this.count > 0) this.abandoned++
    return true
  }

  /** Counts the casts among envelopes that will never be written. */
  private dropCasts (envelopes: unknown[]): void {
    for (const e of envelopes) if ((e as unknown[])[1] === Kind.Cast) this.owner.stats.droppedCasts++
  }

  /** Takes a pending call out of the map and the deadline wheel, for its answer. */
  private take (id: number): PendingCall | undefined {
    const call = this.pending.get(id)
    if (call == null) return undefined
    this.pending.delete(id)
    this.owner.settle(call)
    return call
  }

  private push (envelope: unknown[]): void {
    let last = this.chunks[this.chunks.length - 1]
    if (last === undefined || last.length >= this.owner.maxEnvelopesPerFrame) {
      last = []
      this.chunks.push(last)
    }
    last.push(envelope)
    this.count++
  }

  private schedule (): void {
    if (this.scheduled || this.draining || this.stream == null || this.count === 0) return
    this.scheduled = true
    this.owner.defer(this.flushNow)
  }

  private flush (): void {
    this.scheduled = false
    const stream = this.stream
    if (stream == null || this.closedWith != null) return
    while (this.chunks.length > 0) {
      let batch = this.chunks.shift() as unknown[]
      this.count -= batch.length
      // only when some call was given up while queued: the common flush pays nothing
      if (this.abandoned > 0) batch = batch.filter(e => (e as unknown[])[1] !== Kind.Call || this.pending.has((e as unknown[])[2] as number))
      if (this.count === 0) this.abandoned = 0
      if (batch.length === 0) continue
      let more = true
      for (const frame of this.frames(batch)) {
        try {
          more = stream.send(frame)
        } catch (err) {
          // the batch in hand is lost with the stream: its casts count as dropped too
          this.dropCasts(batch)
          this.fail(new NodeUnavailableError(`write to ${this.peer} failed: ${(err as Error).message}`))
          return
        }
        this.owner.stats.framesOut++
      }
      this.owner.stats.envelopesOut += batch.length
      if (!more) {
        // the stream's buffer is full: stop writing until it drains; the queue (bounded) holds the rest
        this.draining = true
        stream.onDrain().then(() => {
          this.draining = false
          this.schedule()
        }, () => { /* close handler fails the channel */ })
        return
      }
    }
  }

  /**
   * Encodes a batch, halving it when a frame comes out over the limit. A single envelope
   * that cannot be encoded, or is too big alone, is answered with an error (a call rejects,
   * a reply becomes an error reply) and the rest still go.
   */
  private frames (batch: unknown[]): Uint8Array[] {
    let frame: Uint8Array | undefined
    try {
      frame = encodeFrame(batch)
    } catch {
      frame = undefined
    }
    // the limit is on the body, as the receiver counts it
    if (frame != null && frame.byteLength - FRAME_HEADER_BYTES <= this.owner.maxFrameBytes) return [frame]
    if (batch.length > 1) {
      const mid = batch.length >> 1
      return [...this.frames(batch.slice(0, mid)), ...this.frames(batch.slice(mid))]
    }
    this.refuse(batch[0] as unknown[])
    return []
  }

  private refuse (envelope: unknown[]): void {
    let why: string
    try {
      why = `message of ${encodedSize(envelope)} bytes exceeds the frame limit of ${this.owner.maxFrameBytes}`
    } catch (err) {
      why = `message cannot be encoded: ${(err as Error).message}`
    }
    const kind = envelope[1]
    const err = new InvalidMessageError(why)
    if (kind === Kind.Call) {
      this.take(envelope[2] as number)?.reject(err)
    } else if (kind === Kind.Reply) {
      this.push([ENVELOPE_VERSION, Kind.Error, envelope[2], toWireError(new InvalidMessageError(`reply ${why}`))])
    } else {
      this.owner.stats.droppedCasts++
      this.owner.logger.warn(`dropped a cast to ${this.peer}: ${why}`)
    }
  }

  private onData (data: Uint8Array | Iterable<Uint8Array>): void {
    try {
      this.decoder.push(data, (body) => { this.onFrame(body) })
    } catch (err) {
      const e = err instanceof InvalidMessageError ? err : new InvalidMessageError(String((err as Error)?.message ?? err))
      this.owner.stats.invalidFrames++
      this.owner.logger.error(`closing stream from ${this.peer}: ${e.name}: ${e.message}`)
      this.fail(e)
    }
  }

  private onFrame (body: Uint8Array): void {
    const envelopes = decodeFrameBody(body)
    this.owner.stats.framesIn++
    this.owner.stats.envelopesIn += envelopes.length
    for (const raw of envelopes) {
      const e = checkEnvelope(raw)
      switch (e[1]) {
        case Kind.Cast:
          this.deliverCast(e[2])
          break
        case Kind.Call:
          this.answer(e[2], e[3])
          // Send the first replies while the rest of a big frame of calls is handled: the
          // caller starts on them at once instead of waiting for the whole batch, so the
          // two processes overlap instead of taking turns.
          if (this.count >= EARLY_REPLY_FLUSH_ENVELOPES && !this.draining) this.flush()
          break
        case Kind.Reply:
        case Kind.Error: {
          const call = this.take(e[2])
          if (call == null) {
            // timed out or aborted already: the caller has its answer
            this.owner.stats.lateReplies++
            break
          }
          if (e[1] === Kind.Reply) call.resolve(e[3])
          else call.reject(fromWireError(e[3]))
          break
        }
      }
    }
  }

  private deliverCast (payload: unknown): void {
    try {
      this.owner.onCast(payload, this.peer)
    } catch (err) {
      this.owner.logger.warn(`cast handler failed for a message from ${this.peer}`, err)
    }
  }

  private answer (id: number, payload: unknown): void {
    if (this.inboundCalls >= this.owner.maxInboundCalls) {
      this.reply(id, new OverloadedError(`${this.inboundCalls} calls from ${this.peer} are already being handled`), true)
      return
    }
    let result: unknown
    try {
      result = this.owner.onCall(payload, this.peer)
    } catch (err) {
      this.reply(id, err, true)
      return
    }
    if (result instanceof Promise) {
      this.inboundCalls++
      result.then(
        (v) => { this.inboundCalls--; this.reply(id, v, false) },
        (err) => { this.inboundCalls--; this.reply(id, err, true) })
    } else {
      this.reply(id, result, false)
    }
  }

  private reply (id: number, value: unknown, failed: boolean): void {
    if (this.closedWith != null) return
    const envelope = failed
      ? [ENVELOPE_VERSION, Kind.Error, id, toWireError(value)]
      : [ENVELOPE_VERSION, Kind.Reply, id, value]
    // replies bypass the queue limit: refusing one would leave a caller to time out
    this.push(envelope)
    this.schedule()
  }
}
