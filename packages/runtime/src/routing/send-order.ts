import { AbortError, NodeUnavailableError, ORDER_BARRIER_TIMEOUT_MS, ORDER_SENT_MS, ORDER_SWEEP_MS, ORDER_WINDOW_MS, TimeoutError } from '@simplepool/core'
import type { Clock, TimerHandle } from '@simplepool/core'
import { BARRIER } from '../activation/activation.js'
import type { LocalPool } from '../activation/local-pool.js'
import { newReply } from '../activation/replies.js'
import { encodeBarrier } from '../protocol/worker-messages.js'
import type { RuntimeTransport } from '../runtime-types.js'

/** What keeping a sender's order needs of the node. */
export interface SendOrderComponents {
  readonly clock: Clock
  readonly transport: RuntimeTransport
  self: () => string
  /** The owners of `id` in the placements before its pool's ring changes of the last `withinMs`, not this node. */
  ownersBefore: (pool: string, id: string, local: LocalPool | undefined, withinMs: number) => readonly string[]
  /** True for a member this node sees as down (or no longer sees at all). */
  gone: (peer: string) => boolean
  /** Settles once what waits at this node for its view for `pool`/`id` now went on; undefined when nothing waits (see `ViewWait.behind`). */
  behindWaiting: (pool: string, id: string) => Promise<void> | undefined
}

/** Workers whose routes are remembered at most (see `SendOrder.pending` and `doubtful`): a bound on memory, not a budget; past it, a send is not remembered. */
const MAX_ROUTES = 100_000

/** Where this node's messages to one worker went lately: the node, calls unanswered there, the last cast (monotonic ms). */
interface Route {
  readonly peer: string
  calls: number
  castAt: number
}

/** A send held back: what sends it, and, for a call, its deadline and what answers it past that. */
interface HeldSend {
  readonly send: () => void
  readonly deadline: number
  readonly expire?: (err?: Error) => void
}

/** Messages to one worker held back until the barriers sent down its earlier routes came through, or until `until`. */
export class Held {
  readonly sends: HeldSend[] = []
  /** Once every barrier answered or failed, or at the latest at `until` (monotonic ms), what waits goes. */
  left: number
  readonly until: number
  /** A barrier went unanswered (timed out): what the route before holds may still run, so what waits here must not go. */
  unconfirmed = false

  constructor (barriers: number, until: number) {
    this.left = barriers
    this.until = until
  }

  /** Holds `send` (a cast's, or a call's with its `deadline`) until the release; `expire` answers it if it may not go (a call with `err`, or `TimeoutError` at its deadline; a cast is counted as dropped). */
  add (send: () => void, deadline = Infinity, expire?: (err?: Error) => void): void {
    this.sends.push({ send, deadline, expire })
  }
}

/**
 * A sender's order to one worker across a move of its view. A message goes straight to the
 * worker's owner in this node's view; when that view moved, an earlier message may still
 * be on its way down the route before (held by a node standing still, or sent on by it),
 * and the later one, sent straight to the new owner, would run first.
 *
 * So for a while after a pool's ring moved ({@link ORDER_WINDOW_MS}), the first message to
 * a worker whose owner moved, when this node sent anything to the owner before within
 * {@link ORDER_SENT_MS} (or a call to the worker it sent another way is unanswered), is
 * held here, and a barrier goes down the route before instead: it travels exactly as a
 * message would (the same stream behind what this node sent that way, sent on, queued in
 * the mailbox, following the worker in a handoff) and is answered when it reaches the head
 * of the worker's mailbox, wherever that is, without a turn. Then what was held goes, in
 * order, to the owner now. A barrier refused (the node before is down or gone) releases
 * what it held too: the route before is gone, and with it what this node sent down it. A
 * barrier that goes unanswered for {@link ORDER_BARRIER_TIMEOUT_MS} does not: what it
 * held fails (calls `NodeUnavailableError`, casts dropped) rather than overtake what may
 * still be on its way.
 *
 * The cost: within the window, every send looks the worker up on the placements before
 * (up to eight ring lookups), and the first message to each worker that moved waits one
 * round trip; a call or cast sent within it notes its worker's route (one map entry, until
 * the call is answered or {@link ORDER_SENT_MS} after the cast, and every send looks there
 * meanwhile); outside it and with no route noted, one flag read per send and a note of
 * when each peer was last sent to. A held cast that can no longer go when released (the
 * node stopped) is counted as dropped, not thrown.
 */
export class SendOrder {
  private readonly c: SendOrderComponents
  /** A ring moved within the window (cleared lazily once it passed). */
  private open = false
  private openUntil = 0
  /** When this node last sent a message to each peer (monotonic ms). */
  private sentAt = new Map<string, number>()
  /** Per `pool\nid`: messages waiting for barriers. */
  private readonly held = new Map<string, Held>()
  /** Per `pool\nid`: the routes before whose barriers were answered (or failed) since the ring last moved, and not sent down since. */
  private passed = new Map<string, string[]>()
  /**
   * Per `pool\nid`: where this node's messages to the worker went within the window (see
   * {@link noting}), or sent on by it, while a call sent there is unanswered or for
   * {@link ORDER_SENT_MS} after a cast. Such
   * a message may wait on the route before for longer than the window (in the mailbox of a
   * worker being handed on, seed 944; in a claim, seed 127): a later message sent elsewhere
   * waits for a barrier down that route however long ago its ring moved. At most
   * {@link MAX_ROUTES}; forgotten by one timer ({@link forgetRoutes}).
   */
  private readonly pending = new Map<string, Route>()
  private routeTimer: TimerHandle | undefined
  /**
   * Per `pool\nid`: routes before whose barrier went unanswered (what this node sent down
   * them may still be on its way), until a barrier passes there or the node is gone: the
   * next message asks again however long ago the ring moved (seed 996). At most
   * {@link MAX_ROUTES} workers.
   */
  private readonly doubtful = new Map<string, string[]>()
  /** The one timer of this node's held messages: deadlines of held calls, and barriers that never answer. */
  private sweep: TimerHandle | undefined

  constructor (components: SendOrderComponents) {
    this.c = components
  }

  /** A pool's ring moved: for the window, messages to workers whose owner moved are looked at. */
  ringChanged (): void {
    const now = this.c.clock.monotonic()
    this.open = true
    this.openUntil = now + ORDER_WINDOW_MS
    // what passed covers the routes before this change; the next message asks again (one
    // round trip at most): so the record lasts one window, whatever the rate of changes
    this.passed = new Map()
    const sentAt = new Map<string, number>()
    for (const [peer, at] of this.sentAt) if (now - at <= ORDER_SENT_MS) sentAt.set(peer, at)
    this.sentAt = sentAt
    for (const [key, nodes] of [...this.doubtful]) this.confirm(key, nodes.filter(n => this.c.gone(n)))
  }

  /** True while messages are looked at here (a ring moved lately, some are held, or routes are noted: see {@link pending}, {@link doubtful}). */
  get active (): boolean {
    return this.open || this.held.size > 0 || this.pending.size > 0 || this.doubtful.size > 0
  }

  /**
   * True while this node's own sends are noted ({@link pending}): its ring moved within the
   * window. A message sent then may wait on the route before for longer than the window.
   * One sent later went to an owner that had not moved for a window; a move after it is
   * covered when the sender's next message to the worker comes within that move's window
   * (one that comes later, while the earlier still waits on the owner before, is not: a
   * gap the README lists). Noting every send while earlier ones are unanswered kept the
   * slow path on for good under steady traffic; noting what barriers held as it goes
   * after the window made the simulator's sender order worse (seeds 10623, 12875, 13350).
   */
  get noting (): boolean {
    if (this.open && this.c.clock.monotonic() > this.openUntil) this.close()
    return this.open
  }

  /** The window passed: what passed covered the routes before it, and goes with it. */
  private close (): void {
    this.open = false
    this.passed = new Map()
  }

  /** A call to `pool`/`id` went to `peer` while messages are looked at: `answered` is its answer (see {@link pending}). */
  callSent (pool: string, id: string, peer: string, answered: Promise<unknown>): Promise<unknown> {
    const key = `${pool}\n${id}`
    const route = this.route(key, peer)
    if (route === undefined) return answered
    route.calls++
    const done = (): void => {
      if (--route.calls === 0 && this.pending.get(key) === route && !this.lives(route, this.c.clock.monotonic())) this.pending.delete(key)
    }
    answered.then(done, done)
    return answered
  }

  /** A cast to `pool`/`id` went to `peer` while messages are looked at (see {@link pending}). */
  castSent (pool: string, id: string, peer: string): void {
    const route = this.route(`${pool}\n${id}`, peer)
    if (route === undefined) return
    route.castAt = this.c.clock.monotonic()
    this.routeTimer ??= this.c.clock.setTimeout(() => { this.forgetRoutes() }, ORDER_SENT_MS)
  }

  /** The route of `key` to `peer`, new if it went elsewhere before (a send down a new route went through waitFor: the barriers down the old one passed); undefined when full. */
  private route (key: string, peer: string): Route | undefined {
    let r = this.pending.get(key)
    if (r === undefined || r.peer !== peer) {
      if (r === undefined && this.pending.size >= MAX_ROUTES) return undefined
      r = { peer, calls: 0, castAt: -Infinity }
      this.pending.set(key, r)
    }
    return r
  }

  /** Whether a message sent down `route` may still be on its way. */
  private lives (route: Route, now: number): boolean {
    return route.calls > 0 || now - route.castAt <= ORDER_SENT_MS
  }

  /** Forgets the routes whose messages were answered, or cast long ago; again later while any is left. */
  private forgetRoutes (): void {
    this.routeTimer = undefined
    const now = this.c.clock.monotonic()
    let casts = false
    for (const [key, route] of this.pending) {
      if (!this.lives(route, now)) this.pending.delete(key)
      else if (route.castAt > -Infinity) casts = true
    }
    if (casts) this.routeTimer = this.c.clock.setTimeout(() => { this.forgetRoutes() }, ORDER_SENT_MS)
  }

  /**
   * Where a message this node sends on (it came from `from`, for a worker this node does not
   * own in its view) goes instead of `owner`: down the route that what it sent on to the
   * worker before took, while a message sent there may still be on its way (a call
   * unanswered, a cast within {@link ORDER_WINDOW_MS}), unless that route leads back where
   * it came from or is gone. A node that sends messages on is their sender from there: one
   * sent straight to the owner now would overtake those sent down the route before, which
   * follow the worker (seed 620: a barrier overtook the call it was sent behind). Down one
   * route, over one stream per hop, they keep their order; it costs a hop while it lasts.
   */
  onward (pool: string, id: string, owner: string, from: string): string {
    if (this.pending.size === 0) return owner
    const route = this.pending.get(`${pool}\n${id}`)
    if (route === undefined || route.peer === owner || route.peer === from || route.peer === this.c.self()) return owner
    // a cast sent on within the window, not ORDER_SENT_MS: one sent on longer ago has gone
    // its way, and a message sent after it down a route that leads nowhere now comes round
    // again, behind the same sender's next one (seed 300101)
    const fresh = route.calls > 0 || this.c.clock.monotonic() - route.castAt <= ORDER_WINDOW_MS
    return fresh && !this.c.gone(route.peer) ? route.peer : owner
  }

  /** A message that waited here for `pool`/`id` went on to `to`: a cast, or a call answered by `answered` (see {@link onward}). */
  followed (pool: string, id: string, to: string, answered: Promise<unknown> | undefined): void {
    this.sent(to)
    if (answered === undefined) this.castSent(pool, id, to)
    else void this.callSent(pool, id, to, answered)
  }

  /** A message went to `peer`. */
  sent (peer: string): void {
    this.sentAt.set(peer, this.c.clock.monotonic())
  }

  /**
   * Where a message to `pool`/`id`, about to go to `owner` (this node's owner of it now),
   * must wait: the {@link Held} to put its send in, sent in order once the barriers down
   * the routes before came through; undefined when it goes now.
   */
  waitFor (pool: string, id: string, local: LocalPool | undefined, owner: string): Held | undefined {
    const key = `${pool}\n${id}`
    const waiting = this.held.get(key)
    if (waiting !== undefined) return waiting
    const now = this.c.clock.monotonic()
    if (this.open && now > this.openUntil) this.close()
    let route = this.pending.get(key)
    if (route !== undefined && !this.lives(route, now)) {
      this.pending.delete(key)
      route = undefined
    }
    const doubtful = this.doubtful.get(key)
    // when messages wait here for this node's view, this send goes behind them (the wait is
    // taken now: a barrier of this node's below is answered by it)
    const viewWaits = this.c.behindWaiting(pool, id)
    const self = this.c.self()
    // this node owned it before, and messages still wait for it here: they follow it, and
    // so does a barrier put behind them, however long ago the ring moved (they may wait
    // longer than the window, in a claim: seeds 12068, 13742)
    const here = owner === self ? undefined : local?.activations.get(id)
    const queued = here !== undefined && here.queued > 0
    // a route noted to the owner itself (or this node) asks for no barrier: the usual case for
    // 30 s after casts noted in a window, which otherwise took every send down the long way
    const routeElsewhere = route !== undefined && route.peer !== owner && route.peer !== self
    if (!this.open && !routeElsewhere && doubtful === undefined && viewWaits === undefined && !queued) {
      if (this.passed.size > 0) this.sentDown(key, owner)
      return undefined
    }
    const passed = this.passed.get(key)
    let before: string[] | undefined
    if (this.open) {
      for (const node of this.c.ownersBefore(pool, id, local, ORDER_WINDOW_MS)) {
        if (node === owner || node === self || passed?.includes(node) === true) continue
        if (now - (this.sentAt.get(node) ?? -Infinity) > ORDER_SENT_MS || this.c.gone(node)) continue
        ;(before ??= []).push(node)
      }
    }
    // a call this node sent down another route is still unanswered, or a cast went there lately
    if (route !== undefined && route.peer !== owner && route.peer !== self && passed?.includes(route.peer) !== true && !this.c.gone(route.peer) && before?.includes(route.peer) !== true) {
      ;(before ??= []).push(route.peer)
    }
    for (const node of doubtful ?? []) {
      if (node === owner || node === self || this.c.gone(node) || before?.includes(node) === true) continue
      ;(before ??= []).push(node)
    }
    if (doubtful !== undefined && doubtful.some(n => this.c.gone(n))) this.confirm(key, doubtful.filter(n => this.c.gone(n)))
    // messages this node sent its own copy wait there (above); or messages for it wait here
    // for this node's view (a node it sent them to sent them back: seed 4660): this one goes
    // once they went on, and asks again if they wait once more
    if ((queued && passed?.includes(self) !== true) || viewWaits !== undefined) (before ??= []).push(self)
    this.sentDown(key, owner)
    if (before === undefined) return undefined
    const held = new Held(before.length, now + ORDER_BARRIER_TIMEOUT_MS)
    this.held.set(key, held)
    this.sweep ??= this.c.clock.setTimeout(() => { this.sweepHeld() }, ORDER_SWEEP_MS)
    const through = (): void => {
      if (--held.left > 0) return
      // a route whose barrier went unanswered is not passed: the next message asks again
      if (!held.unconfirmed) this.passed.set(key, [...(this.passed.get(key) ?? []), ...(before as string[])])
      this.release(key, held)
    }
    for (const node of before) {
      const answered = node === self
        ? Promise.all([
          queued ? new Promise((resolve, reject) => { (local as LocalPool).deliverTo(here, BARRIER, newReply(now + ORDER_BARRIER_TIMEOUT_MS, resolve, reject)) }) : undefined,
          viewWaits
        ])
        : this.c.transport.call(node, encodeBarrier({ pool, id, hops: 0, timeoutMs: ORDER_BARRIER_TIMEOUT_MS, spilled: false }), { timeoutMs: ORDER_BARRIER_TIMEOUT_MS })
      answered.then(() => {
        this.confirm(key, [node])
        through()
      }, (err) => {
        // only a barrier that timed out leaves what it held in doubt: one whose stream closed
        // (a node on its way stopping gracefully, which hands on what it holds first) is
        // refused, as before; reading it as in doubt failed calls in every graceful stop
        if ((err as Error | undefined)?.name === 'TimeoutError') {
          held.unconfirmed = true
          if (node !== self) this.doubt(key, node)
        } else this.confirm(key, [node])
        through()
      })
    }
    return held
  }

  /** A message to `key` goes down `owner` now: a barrier that passed there no longer covers what follows. */
  private sentDown (key: string, owner: string): void {
    const passed = this.passed.get(key)
    if (passed?.includes(owner) === true) this.passed.set(key, passed.filter(n => n !== owner))
  }

  /** A barrier down `node` to `pool\nid` went unanswered (see {@link doubtful}). */
  private doubt (key: string, node: string): void {
    const d = this.doubtful.get(key)
    if (d === undefined) {
      if (this.doubtful.size < MAX_ROUTES) this.doubtful.set(key, [node])
    } else if (!d.includes(node)) d.push(node)
  }

  /** Barriers down `nodes` to `pool\nid` came through, or were refused (the node is gone): no doubt there now. */
  private confirm (key: string, nodes: readonly string[]): void {
    const d = this.doubtful.get(key)
    if (d === undefined) return
    const left = d.filter(n => !nodes.includes(n))
    if (left.length === 0) this.doubtful.delete(key)
    else this.doubtful.set(key, left)
  }

  /**
   * Sends what `held` kept, in order, by the usual path (once: a late barrier finds it
   * gone). Unless a barrier went unanswered: then the earlier message may still be on its
   * way down the route before (held where the barrier was, or sent on with a worker whose
   * new owner cannot answer), and what waits here would overtake it (seed 184): it does not
   * go, as if lost on the way (a call fails `NodeUnavailableError`, a cast is counted as dropped).
   * A barrier refused otherwise (the node is down or gone) releases: the route before is
   * gone, and what this node sent down it with it.
   */
  private release (key: string, held: Held): void {
    if (this.held.get(key) !== held) return
    this.held.delete(key)
    if (held.unconfirmed) {
      const [pool, id] = key.split('\n')
      const err = new NodeUnavailableError(`not sent to ${pool}/${id}: this node's earlier messages to it were not confirmed past the node that had it before (a barrier went unanswered for ${ORDER_BARRIER_TIMEOUT_MS} ms), and this one could overtake them`, { pool, id })
      for (const s of held.sends) s.expire?.(err)
      return
    }
    for (const s of held.sends) s.send()
  }

  /**
   * Every {@link ORDER_SWEEP_MS} while messages are held: a held call past its deadline is
   * answered `TimeoutError` where it waits; what barriers have held longer than
   * {@link ORDER_BARRIER_TIMEOUT_MS} (a local one behind a turn that hangs) is given up
   * (see {@link SendOrder.release}).
   */
  private sweepHeld (): void {
    this.sweep = undefined
    const now = this.c.clock.monotonic()
    for (const [key, held] of [...this.held]) {
      if (now >= held.until) {
        held.unconfirmed = true
        this.release(key, held)
        continue
      }
      for (let i = held.sends.length - 1; i >= 0; i--) {
        const s = held.sends[i]
        if (s.deadline > now) continue
        held.sends.splice(i, 1)
        s.expire?.()
      }
    }
    if (this.held.size > 0) this.sweep = this.c.clock.setTimeout(() => { this.sweepHeld() }, ORDER_SWEEP_MS)
  }
}

/**
 * A call held by {@link SendOrder.waitFor}: sent on release by `call` with what is left of
 * its deadline; `TimeoutError` at its deadline if it is still held then (within
 * {@link ORDER_SWEEP_MS}), `AbortError` at once if `signal` aborts.
 */
export function heldCall (clock: Clock, held: Held, pool: string, id: string, timeoutMs: number, signal: AbortSignal | undefined, call: (timeoutMs: number) => Promise<unknown>): Promise<unknown> {
  const deadline = clock.monotonic() + timeoutMs
  return new Promise((resolve, reject) => {
    let done = false
    const settle = (err?: Error): boolean => {
      if (done) return false
      done = true
      signal?.removeEventListener('abort', onAbort)
      if (err !== undefined) reject(err)
      return true
    }
    const onAbort = (): void => { settle(new AbortError('the call was aborted')) }
    signal?.addEventListener('abort', onAbort, { once: true })
    held.add(() => {
      if (!settle()) return
      const left = Math.floor(deadline - clock.monotonic())
      if (left <= 0) reject(new TimeoutError(`the call to ${pool}/${id} timed out while this node's earlier messages to it were on their way`, { pool, id }))
      else call(left).then(resolve, reject)
    }, deadline, (err) => { settle(err ?? new TimeoutError(`the call to ${pool}/${id} timed out while this node's earlier messages to it were on their way`, { pool, id })) })
  })
}
