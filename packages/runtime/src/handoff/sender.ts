import {
  DEFAULT_CALL_TIMEOUT_MS, DEFAULT_HANDOFFS_IN_FLIGHT, DEFAULT_MIGRATIONS_PER_SECOND, HANDOFF_PROGRESS_MS,
  HANDOFF_PUMP_MS, HANDOFF_RETRY_MS, HANDOFF_FAILED_RETRY_MS, HANDOFF_SCAN_PER_PUMP, HANDOFF_TRIES, CLAIM_WAIT_MS, InvalidMessageError, mayHaveArrived, sleep
} from '@simplepool/core'
import type { Clock, Logger, TimerHandle } from '@simplepool/core'
import { Phase } from '../activation/activation.js'
import type { Activation, Slot } from '../activation/activation.js'
import { NOT_NOW, type LocalPool } from '../activation/local-pool.js'
import { forwardMailbox } from '../activation/mailbox.js'
import { encodeHandoff } from '../protocol/handoff-messages.js'
import type { HandedWorker } from '../protocol/handoff-messages.js'
import type { RuntimeTransport } from '../runtime-types.js'
import { followOn } from './follow.js'
import type { SentOn } from './follow.js'
import type { WorkerEvents } from '../events.js'
import { unanswered } from './unanswered.js'
import { BatchSizes } from './batch-sizes.js'
import { Later } from './later.js'

/** What the sending side of the handoff needs of the node. */
export interface HandoffSenderComponents {
  readonly clock: Clock
  readonly logger: Logger
  readonly transport: RuntimeTransport
  self: () => string
  pools: () => Iterable<LocalPool>
  /** The node `id` belongs on in this node's current view (its owner, or here if it spilled here), or undefined when nobody serves the pool. */
  ownerOf: (local: LocalPool, id: string) => string | undefined
  /** Where a copy dropped for a newer one is reported (`worker:conflict`), as the receiver does. */
  readonly events?: WorkerEvents
  /** True when this node's view has `peer` down (or does not know it): a call to it then fails here, whether it was taken there or not. */
  down?: (peer: string) => boolean
  /** Called before each pump: the pump's timer may be the first thing to run after a stall. */
  beforePump?: () => void
  /** Worker `id` of `pool` left this node for `to` (a claim for it here goes on there). */
  movedOut?: (pool: string, id: string, to: string) => void
  /** An epoch the other side gave or holds: this node's next ones must be larger. */
  observeEpoch?: (epoch: number) => void
  /** What waited here for a worker went on to its new node (see `SentOn`). */
  sentOn?: SentOn
  /** A migration began (the ring moved and the scan started), went on (once a second), or ended (nothing left to hand over). */
  progress?: (phase: 'start' | 'progress' | 'done', figures: MigrationFigures) => void
}

/** Where a migration on this node stands. */
export interface MigrationFigures {
  /** Workers handed over since it began. */
  moved: number
  /** Workers waiting to be handed over or looked at. */
  backlog: number
  /** Milliseconds since it began. */
  elapsedMs: number
}

/** Options of the sending side of the handoff. */
export interface HandoffSenderInit {
  /** Workers this node hands over per second at most, so a join never stalls traffic. @default DEFAULT_MIGRATIONS_PER_SECOND */
  perSecond?: number
  /** Handoff messages (each up to `HANDOFF_BATCH` workers of one pool to one node) awaiting their answer at once. @default DEFAULT_HANDOFFS_IN_FLIGHT */
  inFlight?: number
  /** How long a worker taken in here that this node does not own waits for the ring to settle before it goes on (see `misplaced`). @default 0 */
  settleMs?: number
}

/**
 * Moves this node's workers to their new owners after the ring moved (the design's
 * handoff). For each activation whose owner is now another node: stop taking turns
 * (its messages wait), take its portable state, send it with its epoch to the new owner,
 * which activates it from that state (not from `load`/`init`) with a larger epoch; then the
 * waiting messages follow it, in order. Handoffs run at a budget per second, a few per
 * turn of the event loop, in the background; a claim (the new owner asking for one worker
 * a message is waiting on) moves that worker at once.
 */
export class HandoffSender {
  private readonly c: HandoffSenderComponents
  private readonly perSecond: number
  private readonly maxInFlight: number
  private scans: Array<{ local: LocalPool, it: Iterator<Activation> }> = []
  // a queue read from `head`: shift() on a queue of a million candidates would copy the rest each time
  private candidates: Array<{ local: LocalPool, act: Activation } | undefined> = []
  private head = 0
  private tokens = 0
  private refilledAt = 0
  private timer: TimerHandle | undefined
  private stopped = false
  private held = false
  /** A migration is under way: when it began, how many moved since, when progress was last told. */
  private active = false
  private began = 0
  private moved = 0
  private toldAt = 0
  /** Handoff messages awaiting their answer, and the workers they carry. */
  private batches = 0
  private workersInFlight = 0
  private readonly idleWaiters: Array<() => void> = []
  /** When the ring first moved since the sender last looked: the rebalance delay is not put off for ever. */
  private settlingSince = -Infinity
  private readonly batchSizes = new BatchSizes()
  private settleTimer: TimerHandle | undefined
  /** Workers taken in here that this node did not own, looked at again once the ring settled (see {@link misplaced}). */
  private readonly misplacedOnes: Later<{ local: LocalPool, act: Activation }>
  /** Activations the current scans have not looked at yet (as counted when they began). */
  private unscanned = 0
  /** Workers whose handoff message failed whole, tried again `HANDOFF_FAILED_RETRY_MS` later. */
  private readonly parked: Later<{ local: LocalPool, act: Activation }>

  constructor (components: HandoffSenderComponents, init: HandoffSenderInit = {}) {
    this.c = components
    this.perSecond = init.perSecond ?? DEFAULT_MIGRATIONS_PER_SECOND
    this.maxInFlight = init.inFlight ?? DEFAULT_HANDOFFS_IN_FLIGHT
    // still here (and, for the pump, still another node's): candidates again
    const again = (ones: Array<{ local: LocalPool, act: Activation }>): void => {
      for (const one of ones) if (one.local.activations.get(one.act.id) === one.act) this.candidates.push(one)
      this.schedule()
    }
    this.parked = new Later(this.c.clock, HANDOFF_FAILED_RETRY_MS, again)
    this.misplacedOnes = new Later(this.c.clock, init.settleMs ?? 0, again)
  }

  /**
   * Workers waiting to be handed over, plus those not yet looked at since the ring moved
   * (all of them while a change settles): 0 means nothing is left to hand over.
   */
  get backlog (): number {
    let unseen = this.unscanned
    if (this.settleTimer !== undefined) for (const local of this.c.pools()) unseen += local.activations.size
    return this.candidates.length - this.head + this.workersInFlight + this.parked.size + unseen
  }

  /**
   * The ring moved: look at every activation again, once the ring has not moved for
   * `settleMs`. A change undone within that time (a node that flapped, targets set and set
   * back) moves nothing; a message for a worker whose owner moved does not wait for it,
   * since its new owner claims the worker at once.
   */
  ringChanged (settleMs = 0): void {
    if (this.stopped) return
    const now = this.c.clock.monotonic()
    if (this.settleTimer === undefined) this.settlingSince = now
    else this.c.clock.clearTimeout(this.settleTimer)
    this.settleTimer = undefined
    // a ring that keeps moving is looked at after 5 delays at most
    const wait = Math.min(settleMs, this.settlingSince + 5 * settleMs - now)
    if (wait > 0) {
      this.settleTimer = this.c.clock.setTimeout(() => {
        this.settleTimer = undefined
        this.ringChanged()
      }, wait)
      return
    }
    this.scans = [...this.c.pools()].map(local => ({ local, it: local.activations.values() }))
    this.unscanned = this.scans.reduce((n, s) => n + s.local.activations.size, 0)
    this.candidates = []
    this.head = 0
    if (!this.active) {
      this.active = true
      this.began = this.toldAt = this.c.clock.monotonic()
      this.moved = 0
      this.tell('start')
    }
    this.schedule()
  }

  /**
   * A worker was handed here by a node whose view named this one its owner, and this node's
   * view names another: once the ring settled (`settleMs`), if it is still here and still
   * not this node's, it goes on like any worker whose owner moved. Kept until the next ring
   * change, a copy there met nobody, and two lived on (seed 986).
   */
  misplaced (local: LocalPool, act: Activation): void {
    if (!this.stopped) this.misplacedOnes.add([{ local, act }])
  }

  /**
   * What a rebalance of `local` would move from this node now: per destination, how many
   * of its live workers belong elsewhere. Looks at every worker of the pool: an
   * operator's question, not for a hot path.
   */
  plan (local: LocalPool): Record<string, number> {
    const plan: Record<string, number> = {}
    const self = this.c.self()
    for (const id of local.activations.keys()) {
      const home = this.c.ownerOf(local, id)
      if (home !== undefined && home !== self) plan[home] = (plan[home] ?? 0) + 1
    }
    return plan
  }

  /** Resolves once no handoff message awaits its answer (after {@link stop}: once those in flight settled). */
  async idle (): Promise<void> {
    if (this.batches === 0) return
    await new Promise<void>(resolve => { this.idleWaiters.push(resolve) })
  }

  /** Stops handing over; handoffs in flight finish. */
  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) this.c.clock.clearTimeout(this.timer)
    if (this.settleTimer !== undefined) this.c.clock.clearTimeout(this.settleTimer)
    this.misplacedOnes.stop()
    this.timer = undefined
    this.settleTimer = undefined
    this.parked.stop()
  }

  /** Hands nothing over until {@link release}: this node may hold stale activations. */
  hold (): void {
    this.held = true
  }

  release (): void {
    this.held = false
    if (this.active || this.scans.length > 0 || this.head < this.candidates.length) this.schedule()
  }

  /**
   * Hands one worker over now (a claim), waiting up to 2 s for it to come between turns.
   * Resolves true once it left this node (the new owner has it, or had a newer copy).
   * Meanwhile each sender's order holds: an activation that is itself claiming (no state
   * here) sends what waits for it on to the claimer at once, where it runs ahead of what
   * came there directly; a busy or loading one runs only what came before the claim, and
   * what came after follows it (see `Activation.holdForClaim`).
   */
  async handOverNow (local: LocalPool, act: Activation, to: string): Promise<boolean> {
    if (this.held) return false
    const deadline = this.c.clock.monotonic() + CLAIM_WAIT_MS
    try {
      for (;;) {
        const snapshot = local.beginHandoff(act)
        if (snapshot !== NOT_NOW) {
          await this.track(this.transfer(local, to, [act], [{ id: act.id, epoch: act.epoch, snapshot }]), 0)
          return local.activations.get(act.id) !== act
        }
        if (local.activations.get(act.id) !== act) return false
        if (act.phase === Phase.Activating && act.ext?.claiming === true) {
          // only to a claimer that owns it in this node's view: one this view moved away from
          // (a drain undone) sends it straight back, claiming from here in turn, and the two
          // bounce what waits between them every pump, a barrier apart from what it follows
          // (seed 4156); its ring moves here too, and its claim redirects what waits there
          if (this.c.ownerOf(local, act.id) === to) this.sendWaiting(local, act, to)
        } else {
          act.holdForClaim(to)
        }
        if (this.c.clock.monotonic() > deadline) return false
        await sleep(this.c.clock, HANDOFF_PUMP_MS)
        // a timer may be the first thing to run after a stall
        this.c.beforePump?.()
        if (this.held) return false
      }
    } finally {
      if (local.activations.get(act.id) === act) local.releaseClaimHold(act)
    }
  }

  /**
   * An activation that never got its state leaves when its worker belongs to another node
   * now (its claim took nothing while the ring moved on): unsaved, and what waited in its
   * mailbox goes to that node, in order. False when the worker is still this node's.
   * The claim's answers may be the first thing to run after a stall, and what waits came
   * before it: nothing goes on while the node fences. If the others marked it down, its
   * senders were told those messages failed (and may have sent the next ones to the new
   * owner), and the fence drops the activation and refuses them; sent on, they would run
   * there late and out of their order.
   */
  async redirect (local: LocalPool, act: Activation): Promise<boolean> {
    this.c.beforePump?.()
    while (this.held) await sleep(this.c.clock, HANDOFF_PUMP_MS)
    // dropped by the fence meanwhile, or filled by a handoff: it waits here no more
    if (local.activations.get(act.id) !== act || act.phase !== Phase.Activating) return true
    const to = this.c.ownerOf(local, act.id)
    if (to === undefined || to === this.c.self()) return false
    local.depart(act, 'stale')
    this.sendWaiting(local, act, to)
    return true
  }

  /** What waits in the mailbox of `act` (no state here: claiming, or gone) goes on to `to`, in order. */
  sendWaiting (local: LocalPool, act: Activation, to: string): void {
    forwardMailbox(act, (slot, msg) => { followOn(this.c.transport, this.c.clock, local, act.id, to, undefined, slot, msg, this.c.sentOn) })
  }

  private schedule (ms = HANDOFF_PUMP_MS): void {
    if (this.stopped) return
    if (this.timer !== undefined) {
      if (ms >= HANDOFF_PUMP_MS) return
      this.c.clock.clearTimeout(this.timer)
    }
    this.timer = this.c.clock.setTimeout(() => {
      this.timer = undefined
      this.pump()
    }, ms)
  }

  private pump (): void {
    this.c.beforePump?.()
    if (this.held) return
    const now = this.c.clock.monotonic()
    // a token bucket holding at most a tenth of a second's budget: steady, never a burst
    this.tokens = Math.min(this.perSecond / 10, this.tokens + (now - this.refilledAt) * this.perSecond / 1000)
    this.refilledAt = now
    this.scan()
    // this pump's handoffs, grouped by pool and new owner: one message per group
    const groups = new Map<string, { local: LocalPool, to: string, acts: Activation[] }>()
    let room = this.maxInFlight - this.batches
    while (this.tokens >= 1 && room > 0 && this.head < this.candidates.length) {
      const { local, act } = this.candidates[this.head] as { local: LocalPool, act: Activation }
      this.candidates[this.head++] = undefined
      if (local.activations.get(act.id) !== act) continue
      const to = this.c.ownerOf(local, act.id)
      if (to === undefined || to === this.c.self()) continue
      this.tokens--
      const key = `${local.name}\n${to}`
      let g = groups.get(key)
      if (g === undefined) {
        g = { local, to, acts: [] }
        groups.set(key, g)
      }
      g.acts.push(act)
      if (g.acts.length >= this.batchSizes.of(local.name)) {
        groups.delete(key)
        this.send(g.local, g.to, g.acts)
        room--
      }
    }
    for (const g of groups.values()) this.send(g.local, g.to, g.acts)
    if (this.head === this.candidates.length) {
      this.candidates = []
      this.head = 0
    }
    if (this.scans.length > 0 || this.head < this.candidates.length) this.schedule()
    if (!this.active) return
    if (this.backlog === 0) {
      this.active = false
      this.tell('done')
    } else if (now - this.toldAt >= HANDOFF_PROGRESS_MS) {
      this.toldAt = now
      this.tell('progress')
    }
  }

  private tell (phase: 'start' | 'progress' | 'done'): void {
    this.c.progress?.(phase, { moved: this.moved, backlog: this.backlog, elapsedMs: this.c.clock.monotonic() - this.began })
  }

  /**
   * Hands a group of workers to one node in one message. Each worker that is between
   * turns goes; the others (busy, loading, saving) are tried again after the rest.
   */
  private send (local: LocalPool, to: string, acts: Activation[]): void {
    const going: Activation[] = []
    const workers: HandedWorker[] = []
    for (const act of acts) {
      const snapshot = local.beginHandoff(act)
      if (snapshot === NOT_NOW) {
        this.candidates.push({ local, act })
        continue
      }
      going.push(act)
      workers.push({ id: act.id, epoch: act.epoch, snapshot })
    }
    if (going.length === 0) return
    // keep the pipe full: the next batch goes as soon as this one is answered
    void this.track(this.transfer(local, to, going, workers), going.length)
      .catch((err) => { this.c.logger.error(`handoff to ${to} went wrong`, err) })
      .then(() => { this.schedule(0) })
  }

  /** Counts a handoff message (carrying `workers` of the backlog) as in flight until it settles; {@link idle} waits for them all. */
  private async track (transfer: Promise<void>, workers: number): Promise<void> {
    this.batches++
    this.workersInFlight += workers
    try {
      await transfer
    } finally {
      this.batches--
      this.workersInFlight -= workers
      if (this.batches === 0) for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  /**
   * Sends workers whose handoff began (their state in `workers`) and settles each by its
   * answer. A message that timed out may still have been taken: the workers stay put, and
   * the same message goes again marked `again` (one refused as overloaded never went: not
   * marked), the receiver answering whether it took each (one it does not remember taking
   * it does not take now), unless `to` was marked down meanwhile: it may have dropped
   * what it took, and written newer state. Then, or after the last try, see `unanswered`.
   */
  private async transfer (local: LocalPool, to: string, acts: Activation[], workers: HandedWorker[]): Promise<void> {
    let mayHaveGone = false
    for (let attempt = 0; ; attempt++) {
      let results: unknown
      try {
        results = await this.c.transport.call(to, encodeHandoff(local.name, workers, mayHaveGone), { timeoutMs: DEFAULT_CALL_TIMEOUT_MS })
        if (!Array.isArray(results) || results.length !== acts.length) throw new InvalidMessageError(`a handoff answer holds one result per worker; got ${Array.isArray(results) ? results.length : typeof results}`)
      } catch (err) {
        const e = err as Error
        const arrived = mayHaveArrived(e)
        mayHaveGone ||= arrived
        if ((arrived || e.name === 'OverloadedError') && attempt < HANDOFF_TRIES - 1 && !this.stopped) {
          await sleep(this.c.clock, HANDOFF_RETRY_MS * (attempt + 1))
          // a timer may be the first thing to run after a stall: no resend while the node fences
          this.c.beforePump?.()
          while (this.held) await sleep(this.c.clock, HANDOFF_PUMP_MS)
          // what fencing dropped meanwhile is not sent again
          const kept = acts.map((act, i) => local.activations.get(act.id) === act ? i : -1).filter(i => i >= 0)
          if (kept.length < acts.length) {
            acts = kept.map(i => acts[i])
            workers = kept.map(i => workers[i])
            if (acts.length === 0) return
          }
          if (this.c.down?.(to) !== true) continue
          // marked down while the message waited to go: a call fails here now, whatever it took
          unanswered(local, to, acts, this.c.logger, () => { this.park(local, acts) })
          return
        }
        // no answer, now or to an earlier try (a refusal from `to` is one: it took nothing)
        if (mayHaveGone || (e.name === 'NodeUnavailableError' && this.c.down?.(to) === true)) {
          unanswered(local, to, acts, this.c.logger, () => { this.park(local, acts) })
          return
        }
        // too big for a frame, say: smaller messages from now on (not for a refusal of the sender, whatever the size)
        if (e.name !== 'ForbiddenError') this.batchSizes.failed(local.name, acts.length)
        this.c.logger.warn(`handoff of ${acts.length} workers of ${local.name} to ${to} failed; they stay here: ${e.name}: ${e.message}`)
        for (const act of acts) local.cancelHandoff(act)
        this.park(local, acts)
        return
      }
      for (const [i, act] of acts.entries()) this.settle(local, to, act, (results as unknown[])[i])
      this.batchSizes.went(local.name, acts.length)
      return
    }
  }

  /**
   * Looks at workers whose handoff failed again in `HANDOFF_FAILED_RETRY_MS`: no ring
   * change may come to do it (the node that refused them was fencing after a stall, say),
   * and a worker left on a node that no longer owns it is one its owner does not find
   * once the claim window closes. Those still here and still another node's go then.
   */
  private park (local: LocalPool, acts: Activation[]): void {
    if (!this.stopped) this.parked.add(acts.map(act => ({ local, act })))
  }

  /** One worker's answer: taken (its new epoch), a newer copy there, busy there (try later), or refused. */
  private settle (local: LocalPool, to: string, act: Activation, r: unknown): void {
    const forward = (epoch: number) => (slot: Slot, msg: unknown) => { followOn(this.c.transport, this.c.clock, local, act.id, to, epoch, slot, msg, this.c.sentOn) }
    if (typeof r === 'number') {
      this.c.observeEpoch?.(r)
      this.moved++
      local.depart(act, 'moved', to)
      this.c.movedOut?.(local.name, act.id, to)
      forwardMailbox(act, forward(r))
      return
    }
    const e = (r ?? {}) as { name?: string, message?: string, data?: { epoch?: unknown, retry?: unknown, again?: unknown, forgotten?: unknown } }
    const theirs = e.data?.epoch
    if (typeof theirs === 'number') this.c.observeEpoch?.(theirs)
    if (e.name === 'HandoffError' && typeof theirs === 'number' && theirs > act.epoch) {
      // fencing, seen from this side: the copy there is newer, this one is stale
      local.depart(act, 'stale')
      // (a resend answered "handed here already" is this very copy, taken the first time: no conflict)
      if (e.data?.again !== true && this.c.events?.has('worker:conflict') === true) {
        this.c.events.emit('worker:conflict', { pool: local.name, id: act.id, node: local.self, epoch: act.epoch, newerEpoch: theirs, keptOn: to })
      }
      forwardMailbox(act, forward(theirs))
      return
    }
    if (e.name === 'HandoffError' && e.data?.forgotten === true) {
      // sent again, and `to` does not remember taking it: as if unanswered
      unanswered(local, to, [act], this.c.logger, () => { this.park(local, [act]) })
      return
    }
    local.cancelHandoff(act)
    if (e.name === 'HandoffError' && e.data?.retry === true) {
      this.candidates.push({ local, act })
      this.schedule()
      return
    }
    this.c.logger.warn(`handoff of ${local.name}/${act.id} to ${to} was refused; it stays here: ${e.name ?? 'Error'}: ${e.message ?? 'no answer'}`)
  }

  /** Moves activations whose owner is another node from the scans to the candidates. */
  private scan (): void {
    let looked = 0
    while (this.scans.length > 0 && looked < HANDOFF_SCAN_PER_PUMP) {
      const scan = this.scans[0]
      const next = scan.it.next()
      if (next.done === true) {
        this.scans.shift()
        if (this.scans.length === 0) this.unscanned = 0
        continue
      }
      looked++
      if (this.unscanned > 0) this.unscanned--
      const owner = this.c.ownerOf(scan.local, next.value.id)
      if (owner !== undefined && owner !== this.c.self()) this.candidates.push({ local: scan.local, act: next.value })
    }
  }
}
