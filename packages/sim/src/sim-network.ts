import { AbortError, InvalidMessageError, NodeUnavailableError, TimeoutError, fromWireError, toWireError } from '@simplepool/core'
import type { Random } from '@simplepool/core'
import type { RuntimeTransport } from '@simplepool/runtime'
import { FRAME_HEADER_BYTES, decodeFrameBody, encodeFrame } from '@simplepool/transport'
import type { SimClock } from './sim-clock.js'

/** What a node does with what reaches it: a runtime fits. */
export interface SimHandlers {
  handleCall: (payload: unknown, from: string) => unknown
  handleCast: (payload: unknown, from: string) => void
  /** A membership record from another node (gossip), when the node takes part in membership. */
  onGossip?: (record: unknown, from: string) => void
  /** A message of a membership link (witness membership) from another node. */
  onLink?: (message: unknown, from: string) => void
  /** The connection to `peer` closed (it was killed, or stopped), as the host's `peer:disconnect`. */
  onDisconnect?: (peer: string) => void
  /** Until when (monotonic ms) the node is paused: what arrives meanwhile waits for it, in order. */
  pausedUntil?: () => number
}

/** How long a message takes on a link: `delayMs` plus up to `jitterMs` more, drawn from the seed. */
export interface LinkProfile {
  delayMs: number
  jitterMs: number
}

/** Counters of a simulated network. */
export interface NetworkStats {
  /** Messages (casts, calls and replies) handed to a node. */
  delivered: number
  /** Messages lost: their link was cut, or their node was gone, when they would have arrived. */
  dropped: number
}

/** What a call waits on: settled once, by its reply, its deadline, its signal, or its node's end. */
interface PendingCall {
  from: string
  to: string
  done: boolean
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: unknown
  /** The caller's signal and its listener, removed once the call is settled. */
  signal?: AbortSignal
  onAbort?: () => void
}

const DEFAULT_PROFILE: LinkProfile = { delayMs: 0.2, jitterMs: 0.3 }

/**
 * The network between simulated nodes, as the real transport behaves on it: every
 * message goes through the transport's own frame codec (so what cannot cross the wire
 * fails as it would, and nothing is shared by reference), arrives after its link's delay,
 * and arrives in the order it was sent on its link (one stream per pair of nodes, as TCP
 * keeps). A link can be cut either way (a partition): what would arrive over it then is
 * lost, and calls waiting on it end at their deadline. A node that is gone (killed) fails
 * the calls waiting on it at once, as a closed connection does.
 */
export class SimNetwork {
  readonly stats: NetworkStats = { delivered: 0, dropped: 0 }
  private readonly clock: SimClock
  private readonly random: Random
  private readonly nodes = new Map<string, SimHandlers>()
  private readonly profiles = new Map<string, LinkProfile>()
  /**
   * Per directed link, how many faults cut it now: a link is down while any does, so faults
   * that overlap compose (the heal of one leaves the other's cuts), as independent failures
   * of a real network do.
   */
  private readonly cut = new Map<string, number>()
  /** When the last message on each directed link arrives: the next never arrives before it. */
  private readonly lastArrival = new Map<string, number>()
  private readonly pending = new Set<PendingCall>()
  private readonly profile: LinkProfile
  /** How much slower the gossip stream is than the message stream: gossipsub's own queues and validation. */
  gossipFactor = 4
  private hash = 0x811c9dc5

  constructor (clock: SimClock, random: Random, profile: LinkProfile = DEFAULT_PROFILE) {
    this.clock = clock
    this.random = random
    this.profile = profile
  }

  /**
   * A digest of every delivery so far (when, from, to, and the bytes): two runs with the
   * same digest sent the same messages at the same virtual times.
   */
  get digest (): string {
    return (this.hash >>> 0).toString(16).padStart(8, '0')
  }

  /** Joins `peer` to the network, with what handles its messages; returns its transport. */
  attach (peer: string, handlers: SimHandlers): RuntimeTransport {
    this.nodes.set(peer, handlers)
    return {
      cast: (to, payload) => { this.cast(peer, to, payload) },
      call: async (to, payload, options) => await this.call(peer, to, payload, options.timeoutMs ?? 5_000, options.signal)
    }
  }

  /** True when the link from `a` to `b` is cut. */
  isCut (a: string, b: string): boolean {
    return this.cut.has(`${a}\n${b}`)
  }

  /** The nodes on the network now, in the order they joined. */
  peers (): string[] {
    return [...this.nodes.keys()]
  }

  /**
   * Sends a membership record from `from` to `to`, on their link like any message. (The
   * real gossip also relays records through third nodes; here a record crosses only its
   * own link, so a cut link silences a node to the other side as a partition does.)
   */
  gossip (from: string, to: string, record: unknown): void {
    const bytes = this.encode(record)
    this.send(from, to, bytes, (body) => { this.nodes.get(to)?.onGossip?.(body, from) }, 'gossip')
  }

  /** Sends a message of a membership link (witness membership) from `from` to `to`: a stream of its own, as fast as the messages'. */
  link (from: string, to: string, message: unknown): void {
    const bytes = this.encode(message)
    this.send(from, to, bytes, (body) => { this.nodes.get(to)?.onLink?.(body, from) }, 'links')
  }

  /** True while `peer` is on the network. */
  has (peer: string): boolean {
    return this.nodes.has(peer)
  }

  /**
   * `peer` is gone (killed, or stopped): nothing reaches it, the calls waiting on it fail
   * now, those it waited on fail too (stopped) or end unanswered (`killed`: nothing of it
   * runs any more), and every node it could still reach sees its connection close one
   * link delay later, as a closed socket is seen.
   */
  detach (peer: string, killed = false): void {
    this.nodes.delete(peer)
    if (killed) {
      // kill -9: the calls it waited on end with it, unanswered; nothing of it runs any more
      for (const p of [...this.pending]) if (p.from === peer) this.forget(p)
    } else {
      this.failCalls(peer, undefined, new NodeUnavailableError('this node stopped'))
    }
    for (const p of [...this.pending]) {
      if (p.to === peer) this.settle(p, undefined, new NodeUnavailableError(`peer ${peer} is gone`, { peer }))
    }
    for (const other of this.nodes.keys()) {
      if (this.cut.has(`${peer}\n${other}`)) continue
      this.clock.setTimeout(() => { this.nodes.get(other)?.onDisconnect?.(peer) }, this.delayOf(`${peer}\n${other}`))
    }
  }

  /** Fails `from`'s calls waiting on `to` (on every peer when undefined) with `err`. */
  failCalls (from: string, to: string | undefined, err: Error): void {
    for (const p of [...this.pending]) {
      if (p.from === from && (to === undefined || p.to === to)) this.settle(p, undefined, err)
    }
  }

  /** `from`'s calls waiting on `to` (on any peer when undefined). */
  pendingCalls (from: string, to?: string): number {
    let n = 0
    for (const p of this.pending) if (p.from === from && (to === undefined || p.to === to)) n++
    return n
  }

  /** Cuts the link from `a` to `b` (and back, unless `oneWay`): what is sent over it is lost, until every fault that cut it mended it. */
  partition (a: string, b: string, oneWay = false): void {
    this.cutOnce(`${a}\n${b}`, 1)
    if (!oneWay) this.cutOnce(`${b}\n${a}`, 1)
  }

  /** Mends every cut link. */
  heal (): void {
    this.cut.clear()
  }

  /** Mends one cut of the link from `a` to `b` (and back, unless `oneWay`): it is whole once no other fault cuts it. */
  mend (a: string, b: string, oneWay = false): void {
    this.cutOnce(`${a}\n${b}`, -1)
    if (!oneWay) this.cutOnce(`${b}\n${a}`, -1)
  }

  private cutOnce (link: string, by: 1 | -1): void {
    const n = (this.cut.get(link) ?? 0) + by
    if (n > 0) this.cut.set(link, n)
    else this.cut.delete(link)
  }

  /** Sets one directed link's delay (a slow link). */
  setLink (from: string, to: string, profile: LinkProfile): void {
    this.profiles.set(`${from}\n${to}`, profile)
  }

  /** Sends a one-way message: lost, uncounted, when it cannot arrive (as a written frame whose connection drops). */
  cast (from: string, to: string, payload: unknown): void {
    const bytes = this.encode(payload)
    this.send(from, to, bytes, (body) => { this.nodes.get(to)?.handleCast(body, from) })
  }

  /** Sends a request from `from` and resolves with the reply, or rejects as the transport's call does. */
  async call (from: string, to: string, payload: unknown, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted === true) throw new AbortError('the call was aborted before it was sent')
    if (!this.nodes.has(to)) throw new NodeUnavailableError(`peer ${to} is not reachable`, { peer: to })
    const bytes = this.encode(payload)
    return await new Promise((resolve, reject) => {
      const p: PendingCall = { from, to, done: false, resolve, reject, timer: undefined }
      this.pending.add(p)
      p.timer = this.clock.setTimeout(() => { this.settle(p, undefined, new TimeoutError(`call to ${to} timed out after ${timeoutMs} ms`, { peer: to })) }, timeoutMs)
      if (signal !== undefined) {
        p.signal = signal
        p.onAbort = () => { this.settle(p, undefined, new AbortError('the call was aborted')) }
        signal.addEventListener('abort', p.onAbort, { once: true })
      }
      this.send(from, to, bytes, (body) => {
        const handlers = this.nodes.get(to)
        if (handlers === undefined) return
        let answer: unknown
        try {
          answer = handlers.handleCall(body, from)
        } catch (err) {
          this.reply(to, from, p, { error: toWireError(err) })
          return
        }
        Promise.resolve(answer).then(
          (value) => { this.reply(to, from, p, { value }) },
          (err) => { this.reply(to, from, p, { error: toWireError(err) }) })
      })
    })
  }

  /** A reply goes back over the reverse link, in order with what else that link carries. */
  private reply (from: string, to: string, p: PendingCall, answer: { value?: unknown, error?: unknown }): void {
    let bytes: Uint8Array
    try {
      bytes = this.encode(answer.error !== undefined ? [0, answer.error] : [1, answer.value])
    } catch (err) {
      bytes = this.encode([0, toWireError(err)])
    }
    this.send(from, to, bytes, (body) => {
      const [ok, v] = body as [number, unknown]
      if (ok === 1) this.settle(p, v)
      else this.settle(p, undefined, fromWireError(v))
    })
  }

  private settle (p: PendingCall, value: unknown, err?: Error): void {
    if (p.done) return
    // a caller standing still learns how its call ended when it resumes (its deadline, a
    // peer gone, an answer): a paused process runs nothing. Settled during the pause, what
    // the answer set off ran then, tripped its stall guard, and its fence was over before it
    // read what had come meanwhile (seeds 110564, 110509)
    const paused = this.nodes.get(p.from)?.pausedUntil?.() ?? -1
    const now = this.clock.monotonic()
    if (paused > now) {
      this.clock.setTimeout(() => { this.settle(p, value, err) }, paused - now)
      return
    }
    this.forget(p)
    if (err !== undefined) p.reject(err)
    else p.resolve(value)
  }

  /** Ends a call without settling its promise. */
  private forget (p: PendingCall): void {
    p.done = true
    this.pending.delete(p)
    this.clock.clearTimeout(p.timer)
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort)
  }

  /**
   * Sends `bytes` on the link `from` → `to`; `arrive` runs with the decoded value when (and
   * if) it arrives. Each stream keeps its order, but two streams do not keep one between
   * them: the gossip and the messages are separate streams, so a record sent before a
   * reply can arrive after it (the gossip's own delay is drawn apart).
   */
  private send (from: string, to: string, bytes: Uint8Array, arrive: (value: unknown) => void, stream: 'gossip' | 'links' | 'messages' = 'messages'): void {
    // what a node that is gone still tries to send goes nowhere
    if (!this.nodes.has(from)) return
    const link = `${from}\n${to}`
    const ordered = `${link}\n${stream}`
    const delay = this.delayOf(link) * (stream === 'gossip' ? this.gossipFactor : 1)
    const at = Math.max(this.clock.monotonic() + delay, this.lastArrival.get(ordered) ?? 0)
    this.lastArrival.set(ordered, at)
    const deliver = (): void => {
      const handlers = this.nodes.get(to)
      if (this.cut.has(link) || handlers === undefined) {
        this.stats.dropped++
        return
      }
      // a paused process reads nothing; the kernel keeps what arrives, in order, for its resume
      const paused = handlers.pausedUntil?.() ?? -1
      if (paused > this.clock.monotonic()) {
        this.clock.setTimeout(deliver, paused - this.clock.monotonic())
        return
      }
      this.stats.delivered++
      this.mix(from, to, bytes)
      arrive(decodeFrameBody(bytes.subarray(FRAME_HEADER_BYTES))[0])
    }
    this.clock.setTimeout(deliver, at - this.clock.monotonic())
  }

  /** One message's time on a link, drawn from the seed. */
  private delayOf (link: string): number {
    const profile = this.profiles.get(link) ?? this.profile
    return profile.delayMs + this.random.next() * profile.jitterMs
  }

  /** One value as the transport would put it in a frame: what cannot be encoded fails here, as it would there. */
  private encode (value: unknown): Uint8Array {
    try {
      return encodeFrame([value])
    } catch (err) {
      throw new InvalidMessageError(`a message could not be encoded: ${(err as Error).message}`)
    }
  }

  private mix (from: string, to: string, bytes: Uint8Array): void {
    let h = this.hash
    const head = `${this.clock.monotonic().toFixed(6)}|${from}|${to}|`
    for (let i = 0; i < head.length; i++) h = Math.imul(h ^ head.charCodeAt(i), 0x01000193)
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193)
    this.hash = h
  }
}
