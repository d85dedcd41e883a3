import {
  AbortError, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_DIAL_TIMEOUT_MS, DEFAULT_MAX_ENVELOPES_PER_FRAME, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_PENDING_CALLS_PER_PEER, DEFAULT_MAX_QUEUED_PER_PEER,
  DEFAULT_WHEEL_RESOLUTION_MS, MAX_TIMER_MS, InvalidOptionError, MESSAGE_PROTOCOL, NodeUnavailableError,
  NoHandlerError, NotStartedError, OverloadedError, ThrottledLog, TimeoutError, consoleLogger, deferOf, systemClock, timeoutSignal, withDefaults
} from '@simplepool/core'
import type { Clock, Logger } from '@simplepool/core'
import type { Stream } from '@libp2p/interface'
import { Channel } from './channel.js'
import { CallDeadlines, Watched } from './call-deadlines.js'
import type { TransportStats } from './stats.js'
import type { ChannelOwner, PendingCall } from './channel.js'

/** What the transport needs from the host it runs on; the mesh provides it. */
export interface TransportComponents {
  /**
   * Registers the handler of inbound streams of a protocol. `stale`: the stream came on a
   * connection the host no longer opens streams on (one open across a cut, see the mesh's
   * `Connections`): what comes on it is answered there, but nothing else is sent on it.
   */
  handle: (protocol: string, handler: (stream: Stream, remotePeer: string, stale?: boolean) => void) => Promise<void>
  /** Removes that handler. */
  unhandle: (protocol: string) => Promise<void>
  /** Opens a stream of a protocol to a peer, dialing it when needed. */
  newStream: (peerId: string, protocol: string, options: { signal?: AbortSignal }) => Promise<Stream>
  /** Time for call deadlines. @default the system clock */
  clock?: Clock
  /** Where bad frames and dropped casts are reported. @default stderr */
  logger?: Logger
}

/** Options of the transport; every field is optional. */
export interface TransportInit {
  /** The stream protocol. @default '/simplepool/msg/1.0.0' */
  protocol?: string
  /** A received frame over this closes its stream with `InvalidMessageError`. @default 4 MiB */
  maxFrameBytes?: number
  /** Envelopes encoded into one frame at most. @default 1024 */
  maxEnvelopesPerFrame?: number
  /** Envelopes queued to one peer before a send fails with `OverloadedError`. @default 65536 */
  maxQueuedPerPeer?: number
  /**
   * Calls awaiting replies from one peer before a call fails with `OverloadedError`; also
   * how many calls from one peer this node handles at once before it answers more with
   * `OverloadedError`. @default 65536
   */
  maxPendingCallsPerPeer?: number
  /** A call's deadline when the caller gives none. @default 5000 */
  defaultTimeoutMs?: number
  /** How long opening a stream may take. @default 3000 */
  openTimeoutMs?: number
}

/** Options of one call. */
export interface CallOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

/** Handlers of what arrives. A call handler may return a value or a promise; a throw becomes the caller's error. */
export interface TransportHandlers {
  onCast?: (payload: unknown, from: string) => void
  onCall?: (payload: unknown, from: string) => unknown
}

/**
 * The resolving functions of the promise made last: every call's promise is made with this
 * one executor, which hands them over here, instead of a closure (and its context) of its
 * own per call. The executor runs inside `new Promise`, so they are read back at once.
 */
let nextResolve: (value: unknown) => void = () => {}
let nextReject: (err: Error) => void = () => {}
function takeResolvers (resolve: (value: unknown) => void, reject: (err: Error) => void): void {
  nextResolve = resolve
  nextReject = reject
}

/** The longest deadline a call may have: the largest delay a timer takes (about 24.8 days). */
const MAX_TIMEOUT_MS = MAX_TIMER_MS

const DEFAULTS: Required<TransportInit> = {
  protocol: MESSAGE_PROTOCOL,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxEnvelopesPerFrame: DEFAULT_MAX_ENVELOPES_PER_FRAME,
  maxQueuedPerPeer: DEFAULT_MAX_QUEUED_PER_PEER,
  maxPendingCallsPerPeer: DEFAULT_MAX_PENDING_CALLS_PER_PEER,
  defaultTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
  openTimeoutMs: DEFAULT_DIAL_TIMEOUT_MS
}

/** Checks a `TransportInit` and says what was expected and what arrived. */
export function validateTransportInit (init: TransportInit): void {
  for (const [k, v] of Object.entries(init)) {
    if (k === 'protocol') {
      if (typeof v !== 'string' || !v.startsWith('/')) throw new InvalidOptionError(`protocol must be a string starting with '/', got ${String(v)} (${typeof v})`)
    } else if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw new InvalidOptionError(`${k} must be a positive number, got ${String(v)} (${typeof v})`)
    }
  }
}

/**
 * Direct messaging between peers: casts (one way) and calls (a reply or a named error,
 * with a deadline), batched into length-prefixed cbor frames on one long-lived stream per
 * pair of peers. Everything is bounded: the queue per peer, the calls pending to a peer
 * and those being handled for it, the size of a frame, and every call's time. No timer per call: deadlines wait
 * in one queue, in the order they come due, watched by one timer (see call-deadlines.ts).
 */
export class Transport {
  private readonly components: TransportComponents
  private readonly opts: Required<TransportInit>
  private readonly logger: Logger
  private readonly clock: Clock
  /**
   * The channel this node sends on, per peer: the stream it opened, or the one the peer
   * opened first. A channel is symmetric (either side may call on it, replies go back on
   * it), so a pair of peers shares one stream; two only when both open at the same moment,
   * and then each side keeps sending on its own.
   */
  private readonly sending = new Map<string, Channel>()
  /** Every open channel, for stop and peerDown. */
  private readonly channels = new Set<Channel>()
  private readonly deadlines: CallDeadlines<PendingCall>
  private handlers: TransportHandlers = {}
  private nextId = 0
  private running = false
  readonly stats: TransportStats = { framesOut: 0, framesIn: 0, envelopesOut: 0, envelopesIn: 0, droppedCasts: 0, lateReplies: 0, invalidFrames: 0, timeouts: 0 }
  private readonly owner: ChannelOwner

  constructor (components: TransportComponents, init: TransportInit = {}) {
    validateTransportInit(init)
    this.components = components
    this.opts = withDefaults(DEFAULTS, init)
    this.logger = components.logger ?? consoleLogger('transport')
    this.clock = components.clock ?? systemClock
    this.deadlines = new CallDeadlines<PendingCall>(this.clock, DEFAULT_WHEEL_RESOLUTION_MS, (call) => { this.expire(call) })
    const self = this
    const reports = new ThrottledLog(this.clock, this.logger)
    this.owner = {
      logger: this.logger,
      maxFrameBytes: this.opts.maxFrameBytes,
      maxEnvelopesPerFrame: this.opts.maxEnvelopesPerFrame,
      maxQueued: this.opts.maxQueuedPerPeer,
      maxInboundCalls: this.opts.maxPendingCallsPerPeer,
      stats: this.stats,
      defer: deferOf(this.clock),
      onCast: (payload, from) => { self.handlers.onCast?.(payload, from) },
      onCall: (payload, from) => {
        const h = self.handlers.onCall
        if (h == null) throw new NoHandlerError('this node takes no calls')
        return h(payload, from)
      },
      settle: (call) => { self.settle(call) },
      closed: (channel) => { self.forget(channel) },
      invalid: (peer, err) => {
        this.stats.invalidFrames++
        reports.report(peer, `closing stream from ${peer}: ${err.name}: ${err.message}`)
      }
    }
  }

  /** Sets what handles casts and calls that arrive. */
  setHandlers (handlers: TransportHandlers): void {
    this.handlers = handlers
  }

  /** Starts accepting streams. */
  async start (): Promise<void> {
    if (this.running) return
    await this.components.handle(this.opts.protocol, (stream, remotePeer, stale) => { this.accept(stream, remotePeer, stale === true) })
    this.running = true
  }

  /** Stops: every pending call rejects with `NodeUnavailableError`, every stream closes. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    await this.components.unhandle(this.opts.protocol).catch(() => {})
    const err = new NodeUnavailableError('the transport stopped')
    for (const ch of [...this.channels]) ch.fail(err)
    this.deadlines.clear()
  }

  /**
   * Sends a one-way message. Throws `OverloadedError` when the peer's queue is full and
   * `NotStartedError` when stopped; a cast that is lost later (the peer goes away before
   * it is written) is counted in `stats.droppedCasts`.
   */
  cast (peerId: string, payload: unknown): void {
    this.channelTo(peerId).cast(payload)
  }

  /**
   * Sends a request and resolves with the reply, or rejects with a named error: the
   * handler's own, `TimeoutError`, `AbortError`, `NodeUnavailableError` (the peer went
   * away or its stream closed), `OverloadedError` or `InvalidMessageError`.
   */
  call (peerId: string, payload: unknown, options: CallOptions = {}): Promise<unknown> {
    // not async, one promise per call less; every refusal still comes as a rejection
    let channel: Channel
    let signal: AbortSignal | undefined
    let timeoutMs: number
    try {
      signal = options.signal
      timeoutMs = options.timeoutMs ?? this.opts.defaultTimeoutMs
      // options first: a call refused for its own arguments opens no stream
      if (signal?.aborted === true) throw new AbortError('the call was aborted before it was sent')
      // finite and within a timer's range: every call ends, and the wheel's timer can hold it
      if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
        throw new InvalidOptionError(`timeoutMs must be a number in (0, ${MAX_TIMEOUT_MS}], got ${String(timeoutMs)} (${typeof timeoutMs})`)
      }
      channel = this.channelTo(peerId)
      if (channel.pending.size >= this.opts.maxPendingCallsPerPeer) {
        throw new OverloadedError(`${channel.pending.size} calls already pending to ${peerId}`, { peer: peerId })
      }
    } catch (err) {
      return Promise.reject(err)
    }
    const id = ++this.nextId
    const answered = new Promise<unknown>(takeResolvers)
    const call: PendingCall = { id, channel, resolve: nextResolve, reject: nextReject, timeoutMs, seq: -1, start: 0, end: 0, due: 0, watched: Watched.Not }
    try {
      channel.call(call, payload)
    } catch (err) {
      call.reject(err as Error)
      return answered
    }
    this.deadlines.add(call, this.clock.monotonic() + timeoutMs)
    if (signal != null) {
      call.signal = signal
      call.onAbort = () => {
        if (channel.abandon(id)) {
          this.settle(call)
          call.reject(new AbortError('the call was aborted'))
        }
      }
      try {
        signal.addEventListener('abort', call.onAbort, { once: true })
      } catch (err) {
        // not an AbortSignal after all: the call is refused as it would have been before it was sent
        channel.abandon(id)
        this.deadlines.delete(call)
        call.reject(err as Error)
      }
    }
    return answered
  }

  /** The peer is known to be gone: its pending calls reject at once, its streams close. */
  peerDown (peerId: string, reason = `peer ${peerId} is down`): void {
    const err = new NodeUnavailableError(reason, { peer: peerId })
    for (const ch of [...this.channels]) if (ch.peer === peerId) ch.fail(err)
  }

  /** Calls pending to one peer, or to all. */
  pendingCalls (peerId?: string): number {
    let n = 0
    for (const ch of this.channels) if (peerId == null || ch.peer === peerId) n += ch.pending.size
    return n
  }

  private channelTo (peerId: string): Channel {
    if (!this.running) throw new NotStartedError('the transport is not started')
    let ch = this.sending.get(peerId)
    if (ch != null && !ch.isClosed) return ch
    ch = new Channel(peerId, this.owner)
    this.sending.set(peerId, ch)
    this.channels.add(ch)
    this.open(ch)
    return ch
  }

  private open (ch: Channel): void {
    // sends queue on the channel meanwhile; if the stream never opens they fail with it
    void (async () => {
      try {
        const stream = await this.components.newStream(ch.peer, this.opts.protocol, { signal: timeoutSignal(this.clock, this.opts.openTimeoutMs) })
        ch.attach(stream)
      } catch (err) {
        const e = err as Error
        ch.fail(e.name === 'NodeUnavailableError' || e.name === 'ClusterKeyError'
          ? e
          : new NodeUnavailableError(`could not open a stream to ${ch.peer}: ${e.name}: ${e.message}`, { peer: ch.peer }))
      }
    })()
  }

  private accept (stream: Stream, remotePeer: string, stale: boolean): void {
    if (!this.running) {
      stream.abort(new NodeUnavailableError('the transport is stopped'))
      return
    }
    const ch = new Channel(remotePeer, this.owner)
    this.channels.add(ch)
    const current = this.sending.get(remotePeer)
    if (!stale && (current == null || current.isClosed)) this.sending.set(remotePeer, ch)
    ch.attach(stream)
  }

  private forget (ch: Channel): void {
    if (this.sending.get(ch.peer) === ch) this.sending.delete(ch.peer)
    this.channels.delete(ch)
  }

  private settle (call: PendingCall): void {
    this.deadlines.delete(call)
    if (call.onAbort != null) call.signal?.removeEventListener('abort', call.onAbort)
  }

  private expire (call: PendingCall): void {
    if (!call.channel.abandon(call.id)) return
    if (call.onAbort != null) call.signal?.removeEventListener('abort', call.onAbort)
    this.stats.timeouts++
    const peer = call.channel.peer
    call.reject(new TimeoutError(`call to ${peer} timed out after ${call.timeoutMs} ms`, { peer }))
  }
}
