import { EARLY_REPLY_FLUSH_ENVELOPES, InvalidMessageError, NodeUnavailableError, OverloadedError, fromWireError, toWireError } from '@simplepool/core'
import type { Logger, WireError } from '@simplepool/core'
import type { Stream } from '@libp2p/interface'
import { Kind, checkParts } from './envelope.js'
import { FrameDecoder, decodeFrameRows } from './frame-codec.js'
import { Outbox, Unqueued } from './outbox.js'
import type { QueuedAt } from './outbox.js'
import type { Timed } from './call-deadlines.js'
import type { TransportStats } from './stats.js'

/**
 * A call waiting for its reply. One object per call, kept in a map and in the transport's
 * `CallDeadlines`; while it waits to be written, `seq`, `start` and `end` say where it lies in the
 * channel's outbox (see `Outbox.cut`).
 */
export interface PendingCall extends QueuedAt, Timed {
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
  /** A stream from `peer` sent what cannot be read: counted, and logged (at most once a second per peer). */
  invalid: (peer: string, err: InvalidMessageError) => void
}

/**
 * One long-lived stream to a peer, read and written by both sides. Writes are encoded into
 * the channel's outbox as they are queued and flushed once per turn of the event loop as
 * one frame (or a few, for a big queue); reads are split into frames, checked, and dispatched. Either side may call on it, and a reply
 * goes back on the stream its call came on, so when a stream closes exactly the calls
 * made on it fail.
 */
export class Channel {
  readonly peer: string
  readonly pending = new Map<number, PendingCall>()
  stream?: Stream
  private readonly outbox: Outbox
  private readonly owner: ChannelOwner
  private readonly decoder: FrameDecoder
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
    this.outbox = new Outbox(owner.maxFrameBytes, owner.maxEnvelopesPerFrame)
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

  /**
   * Queues a cast; throws `OverloadedError` past the queue limit. One that cannot be
   * encoded, or is too big for a frame, is dropped, counted and logged: a cast has no one
   * to answer.
   */
  cast (payload: unknown): void {
    this.admit()
    try {
      this.outbox.add(Kind.Cast, undefined, payload)
    } catch (err) {
      if (!(err instanceof Unqueued)) throw err
      this.owner.stats.droppedCasts++
      this.owner.logger.warn(`dropped a cast to ${this.peer}: ${err.message}`)
      return
    }
    this.schedule()
  }

  /**
   * Queues `call` with `payload` and waits for its answer. Throws `OverloadedError` past
   * the queue limit, and `InvalidMessageError` for a payload that cannot be encoded or is
   * too big for a frame; nothing is sent then.
   */
  call (call: PendingCall, payload: unknown): void {
    this.admit()
    try {
      this.outbox.add(Kind.Call, call.id, payload, call)
    } catch (err) {
      throw err instanceof Unqueued ? new InvalidMessageError(err.message) : err
    }
    this.pending.set(call.id, call)
    this.schedule()
  }

  /** Throws why nothing more may be queued: the channel closed, or its queue is full. */
  private admit (): void {
    if (this.closedWith != null) throw this.closedWith
    const queued = this.outbox.count
    if (queued >= this.owner.maxQueued) {
      throw new OverloadedError(`${queued} messages already queued to ${this.peer}`, { peer: this.peer, queued })
    }
  }

  /** Fails the channel: pending calls reject with `err`, the stream is aborted. */
  fail (err: Error): void {
    if (this.closedWith != null) return
    this.closedWith = err
    this.owner.stats.droppedCasts += this.outbox.clear()
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
    const call = this.pending.get(id)
    if (call === undefined) return false
    this.pending.delete(id)
    if (this.outbox.count > 0) this.outbox.cut(call)
    return true
  }

  /** Takes a pending call out of the map and its deadline, for its answer. */
  private take (id: number): PendingCall | undefined {
    const call = this.pending.get(id)
    if (call == null) return undefined
    this.pending.delete(id)
    this.owner.settle(call)
    return call
  }

  private schedule (): void {
    if (this.scheduled || this.draining || this.stream == null || this.outbox.count === 0) return
    this.scheduled = true
    this.owner.defer(this.flushNow)
  }

  private flush (): void {
    this.scheduled = false
    const stream = this.stream
    if (stream == null || this.closedWith != null) return
    for (let frame = this.outbox.next(); frame !== undefined; frame = this.outbox.next()) {
      // every envelope in it was a call given up while it waited
      if (frame.envelopes === 0) continue
      let more: boolean
      try {
        more = stream.send(frame.bytes)
      } catch (err) {
        // the frame in hand is lost with the stream: its casts count as dropped too
        this.owner.stats.droppedCasts += frame.casts
        this.fail(new NodeUnavailableError(`write to ${this.peer} failed: ${(err as Error).message}`))
        return
      }
      this.owner.stats.framesOut++
      this.owner.stats.envelopesOut += frame.envelopes
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

  private onData (data: Uint8Array | Iterable<Uint8Array>): void {
    try {
      this.decoder.push(data, (body) => { this.onFrame(body) })
    } catch (err) {
      const e = err instanceof InvalidMessageError ? err : new InvalidMessageError(String((err as Error)?.message ?? err))
      this.owner.invalid(this.peer, e)
      this.fail(e)
    }
  }

  private onFrame (body: Uint8Array): void {
    // flat: each envelope's item count, then its items; no array per envelope
    const rows = decodeFrameRows(body)
    this.owner.stats.framesIn++
    for (let at = 0; at < rows.length;) {
      const length = rows[at] as number
      // a row that is no array (-1) is one item; -1 + 2 steps over it
      const next = at + 1 + Math.max(length, 1)
      const kind = checkParts(length, rows[at + 1], rows[at + 2], rows[at + 3], rows[at + 4])
      this.owner.stats.envelopesIn++
      switch (kind) {
        case Kind.Cast:
          this.deliverCast(rows[at + 3])
          break
        case Kind.Call:
          this.answer(rows[at + 3] as number, rows[at + 4])
          // Send the first replies while the rest of a big frame of calls is handled: the
          // caller starts on them at once instead of waiting for the whole batch, so the
          // two processes overlap instead of taking turns.
          if (this.outbox.count >= EARLY_REPLY_FLUSH_ENVELOPES && !this.draining) this.flush()
          break
        case Kind.Reply:
        case Kind.Error: {
          const call = this.take(rows[at + 3] as number)
          if (call == null) {
            // timed out or aborted already: the caller has its answer
            this.owner.stats.lateReplies++
            break
          }
          if (kind === Kind.Reply) call.resolve(rows[at + 4])
          else call.reject(fromWireError(rows[at + 4] as WireError))
          break
        }
      }
      at = next
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
    // replies bypass the queue limit: refusing one would leave a caller to time out
    try {
      if (failed) this.outbox.add(Kind.Error, id, toWireError(value))
      else this.outbox.add(Kind.Reply, id, value)
    } catch (err) {
      if (!(err instanceof Unqueued)) throw err
      // a reply (or an error's data) that cannot go: its caller gets why, by name
      try {
        this.outbox.add(Kind.Error, id, toWireError(new InvalidMessageError(`reply ${err.message}`)))
      } catch {
        this.owner.logger.warn(`dropped the reply to call ${id} from ${this.peer}: ${err.message}`)
        return
      }
    }
    this.schedule()
  }
}
