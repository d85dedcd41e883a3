import { CLAIM_ATTEMPTS, CLAIM_COUNTS_GRACE_MS, CLAIM_RETRY_MS, DEFAULT_CALL_TIMEOUT_MS, NodeUnavailableError, mayHaveArrived, sleep } from '@simplepool/core'
import type { Clock, Member } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import { ClaimedHere } from './claimed-here.js'
import { PlacementHistory } from './placement-history.js'
import type { LocalPool } from '../activation/local-pool.js'
import { Phase } from '../activation/activation.js'
import type { Activation } from '../activation/activation.js'
import { encodeClaim } from '../protocol/handoff-messages.js'
import type { ClaimAnswer, ClaimMessage } from '../protocol/handoff-messages.js'
import type { Owners } from '../routing/owners.js'
import type { Spill } from '../routing/spill.js'
import type { RuntimeTransport } from '../runtime-types.js'

const NONE: readonly string[] = []

/**
 * How many nodes may pass one claim on, each to the nodes it knows to hold the worker: a
 * worker handed on twice while its claimers gave up as the ring moved again is found, and
 * two nodes that each name the other cannot pass a claim back and forth without end.
 */
const MAX_CLAIM_HOPS = 3

/** What the claim window needs of the node. */
export interface ClaimComponents {
  readonly clock: Clock
  readonly transport: RuntimeTransport
  readonly owners: Owners
  readonly spill: Spill
  self: () => string
  pool: (name: string) => LocalPool | undefined
  poolNames: () => Iterable<string>
  members: () => ReadonlyArray<Readonly<Member>>
  /** Workers of `pool` a member reported in its last heartbeat; undefined when unknown. */
  countOf?: (peerId: string, pool: string) => number | undefined
  /** Members never heard here that others doubt and did not mark down; none when undefined. */
  unheard?: () => readonly string[]
  /** Whether the access rules let `peer` (or this node) host `pool`; undefined: no rules. Only a host holds a copy, is asked for one, passes claims on. */
  mayHost?: (peer: string, pool: string) => boolean
  hostsHere?: (pool: string) => boolean
  /** True while this node, back from a stall, finds out whether its activations are stale. */
  fencing: () => boolean
  /** Hands `act` to `to` now (waiting a moment for it to come between turns); true once it left. */
  handOverNow: (local: LocalPool, act: Activation, to: string) => Promise<boolean>
  /** Sends what waits in `act`'s mailbox on to `to`, in order, as sent on by this node. */
  sendWaiting: (local: LocalPool, act: Activation, to: string) => void
}

/** What {@link ClaimWindow.suspect} saved, to put back when nobody took this node's workers. */
export interface SuspectWindow {
  changedBefore: number
  claimedBefore: Set<string>
  stalledAt: number
}

/**
 * The claim window: for a while after the ring moved (`claimWindowMs`, a minute by
 * default), a node activating a worker first asks the nodes that may still hold it (its
 * owner before each of the last ring changes, its owner on the ring without this node,
 * and any node that still reports workers of the pool but no longer serves it) to hand
 * it over.
 * A message that reaches the new owner before the handoff does then waits for the
 * worker's state instead of starting a second copy. Once the counts members report are
 * fresh (`CLAIM_COUNTS_GRACE_MS` after the change), only pools in which another node
 * reports workers claim at all: a cluster that forms and then activates pays nothing.
 */
export class ClaimWindow {
  private readonly c: ClaimComponents
  private readonly windowMs: number
  private readonly history: PlacementHistory
  /** When the current placement came. */
  private placedAt = -Infinity
  private changedAt = -Infinity
  private startedAt = -Infinity
  /** Since when (monotonic ms) this node knows least of what the others started: it started, or came back marked down. */
  private blindSince = -Infinity
  /** Since when (monotonic ms) this node is back from being marked down: its workers were placed on the next nodes meanwhile. */
  private downSince = -Infinity
  /** Pools whose new activations claim first, while the window is open (see {@link noteHolders}). */
  private claimPools = new Set<string>()
  /**
   * Workers that left this node, that it claimed and gave up on because the ring moved on
   * meanwhile while a holder kept them ('mine'), or whose claim it passed on to a holder that
   * kept them, by `pool\nid`: the nodes that hold them, and when. The worker's new owner may
   * claim it from this node (its owner before) and not from them: a node that stood still
   * while this one handed the worker on saw neither that ring nor the holder. Its claim is
   * passed on to them (up to {@link MAX_CLAIM_HOPS} nodes in a row).
   */
  private keptBy = new Map<string, { holders: string[], at: number }>()
  /** The answers of claims this node passed on to a holder, until they come (see {@link passingOn}). */
  private readonly passing = new Set<Promise<ClaimAnswer>>()
  /** Claims for workers this node had no copy of: who claimed, and when. */
  private readonly claimed = new ClaimedHere()
  /** The claims this node is making now, and whom each asks. */
  private readonly inFlight = new Set<{ pool: string, id: string, holders: readonly string[] }>()

  constructor (components: ClaimComponents, windowMs: number) {
    this.c = components
    this.windowMs = windowMs
    this.history = new PlacementHistory(components.owners, windowMs)
  }

  /** The node starts: its first activations claim in pools other nodes hold workers of. */
  start (): void {
    this.noteHolders()
    this.startedAt = this.blindSince = this.c.clock.monotonic()
  }

  /** A pool's ring moved: `previous` is the placement before, `current` the one now. */
  ringChanged (previous: Placement | undefined, current: Placement): void {
    const now = this.c.clock.monotonic()
    // a node that handed many workers on and then saw no change keeps none of them past the window
    this.forgetKept(now)
    this.history.note(previous, current, now, this.c.poolNames(), (pool) => typeof this.c.pool(pool)?.def.placement === 'function')
    this.placedAt = now
    this.noteHolders()
    this.changedAt = now
    this.sendBack()
  }

  /**
   * The ring moved back to a node this one claims a worker from (a drain undone, a target
   * given back): what waits for the worker here (no state) goes back there now, before
   * anything is sent on the new ring, and the claim goes on. Held until the claim answers
   * (up to `CLAIM_WAIT_MS` while the holder is busy), it would reach the holder behind what
   * the same senders send there straight from now on, this node's own sends first; a holder
   * that holds the worker for this claim keeps it (see `Activation.pushHeld`).
   */
  private sendBack (): void {
    // back from a stall, what waits here came before it, and its senders were told it
    // failed if the others marked this node down: nothing goes back until the fence knows
    // (see settle); sent back, it would run there late and out of its order
    if (this.c.fencing()) return
    for (const { pool, id, holders } of this.inFlight) {
      const local = this.c.pool(pool)
      const act = local?.activations.get(id)
      if (local === undefined || act === undefined || act.phase !== Phase.Activating || act.ext?.claiming !== true || act.queued === 0) continue
      const owner = this.c.spill.homeOf(local, id)
      if (owner !== undefined && holders.includes(owner)) this.c.sendWaiting(local, act, owner)
    }
  }

  /**
   * This node stood still long enough to be marked down: until the others answer, every
   * new activation claims first, since the others may hold its worker.
   */
  suspect (): SuspectWindow {
    const saved = { changedBefore: this.changedAt, claimedBefore: this.claimPools, stalledAt: this.c.clock.monotonic() }
    this.claimPools = new Set(this.c.poolNames())
    this.changedAt = saved.stalledAt
    return saved
  }

  /**
   * The others answered: marked `down` (its workers live elsewhere: the window stays open),
   * or not (as before the stall). Called once the fencing is over: what waits on a claimer
   * whose ring moved back to its holder meanwhile goes back now (a claimer from before the
   * stall of a node marked down was dropped, and what waited refused).
   */
  settle (saved: SuspectWindow, down: boolean): void {
    if (down) {
      // marked down, it missed what the others did meanwhile (a worker started on a node its
      // view never named): like a node just started, it asks every member (seed 156932)
      this.changedAt = this.blindSince = this.downSince = this.c.clock.monotonic()
    } else if (this.changedAt === saved.stalledAt) {
      // nobody took its workers: no claim window for a stall alone
      this.changedAt = saved.changedBefore
      this.claimPools = saved.claimedBefore
    }
    this.sendBack()
  }

  /**
   * The nodes that may still hold `id`, while the ring moved lately: its owner before the
   * last change, and its owner on the current ring without this node (for a node that
   * joined, that is the owner before it came: the others' points did not move), and the
   * node it spilled to lately. Only members that are not down and, but for the owners before
   * the last changes, did not report zero workers of the pool: none in a cluster that is forming.
   * And only those the access rules let host it: another, asked, could only stall the claimer with 'mine'.
   */
  holders (pool: string, id: string): readonly string[] {
    const found = this.candidates(pool, id)
    const mayHost = this.c.mayHost
    return mayHost === undefined || found.length === 0 ? found : found.filter(h => mayHost(h, pool))
  }

  private candidates (pool: string, id: string): readonly string[] {
    const now = this.c.clock.monotonic()
    if (this.keptBy.size > 0) this.forgetKept(now)
    const self = this.c.self()
    // it spilled there (and may have started there again): that node may hold it; a node
    // that claimed it from here a moment ago, when this node had no copy, may have started it
    // (its view named this node the owner before; this one's view did not name it yet)
    const always: string[] = []
    const spilledThere = this.c.spill.takeClaimBack(pool, id, now, this.windowMs)
    if (spilledThere !== undefined) always.push(spilledThere)
    const claimedHere = this.claimed.by(pool, id, now)
    if (claimedHere !== undefined && claimedHere !== spilledThere && this.c.members().some(m => m.peerId === claimedHere && m.liveness !== 'down')) always.push(claimedHere)
    // a member silent since before this node joined, which the others doubt but did not mark
    // down, may still serve any worker, and this view has no ring to say which: a copy
    // started here would be a second one, and outrank the holder's when they met (seeds 181115, 813)
    for (const u of this.c.unheard?.() ?? NONE) if (!always.includes(u)) always.push(u)
    const since = now - Math.max(this.changedAt, this.startedAt)
    if (since > this.windowMs) return always.length === 0 ? NONE : always
    // the counts of a moment ago may miss a worker activated just before the ring changed
    // (not a stall's window: no ring moved, and the records read before it are as fresh)
    const countsFresh = now - this.placedAt > CLAIM_COUNTS_GRACE_MS
    if (countsFresh && !this.claimPools.has(pool)) return always.length === 0 ? NONE : always
    const out: string[] = []
    // `counted`: skipped when it reported no worker of the pool, once counts are fresh. Not for
    // the owners before the last ring changes: a count rides the heartbeat, and one sent before
    // a handoff reached that owner (a drained node undrained, then a join, within one
    // heartbeat) says 0 while it holds it
    const consider = (holder: string | undefined, counted: boolean): void => {
      if (holder === undefined || holder === self || out.includes(holder) || (counted && countsFresh && this.c.countOf?.(holder, pool) === 0)) return
      const m = this.c.members().find(x => x.peerId === holder)
      if (m !== undefined && m.liveness !== 'down') out.push(holder)
    }
    for (const owner of this.ownersBefore(pool, id, this.c.pool(pool))) consider(owner, false)
    consider(this.c.owners.ownerWithout(pool, id, self), true)
    // a node that holds workers of the pool and serves it no more (drained with nowhere to
    // send them, or leaving) may hold this one, whatever the rings said before
    // just started, this node has no placement before to ask by, and the others' counts are
    // older than their first workers: as the cluster comes up, any member may have started
    // this one before the views agreed (seed 120233); only then, and just back from being
    // marked down, every member is asked
    const justStarted = now - this.blindSince <= CLAIM_COUNTS_GRACE_MS
    for (const m of this.c.members()) {
      if (justStarted || ((m.status !== 'up' || (m.pools[pool]?.target ?? 0) <= 0) && (this.c.countOf?.(m.peerId, pool) ?? 0) > 0)) consider(m.peerId, !justStarted)
    }
    for (const h of always) if (!out.includes(h)) out.push(h)
    return out
  }

  /**
   * The owners of `id` in the placements before the last ring changes of its pool, replaced
   * within the window (or within `withinMs`, when shorter): each once, not this node.
   */
  ownersBefore (pool: string, id: string, local: LocalPool | undefined, withinMs = this.windowMs): string[] {
    const self = this.c.self()
    return this.ownersWithin(pool, id, local, withinMs).filter(o => o !== self)
  }

  /** True when `peer` was on the ring of `pool` in a placement replaced within the claim window. */
  wasOnRing (pool: string, peer: string): boolean { return this.history.onRingWithin(pool, peer, this.windowMs, this.c.clock.monotonic()) }

  /** True when a placement before the last ring changes of the pool, replaced within `withinMs`, named this node the owner of `id`. */
  ownedHereBefore (pool: string, id: string, local: LocalPool | undefined, withinMs: number): boolean {
    return this.ownersWithin(pool, id, local, withinMs).includes(this.c.self())
  }

  /** The owners of `id` in the placements replaced within `withinMs` (and the window), each once. */
  private ownersWithin (pool: string, id: string, local: LocalPool | undefined, withinMs: number): string[] {
    const now = this.c.clock.monotonic()
    const within = Math.min(withinMs, this.windowMs)
    if (now - Math.max(this.changedAt, this.startedAt) > within) return []
    return this.history.ownersWithin(pool, id, local, within, now)
  }

  /** The members this node sees as down. */
  private downMembers (): Set<string> {
    return new Set(this.c.members().filter(x => x.liveness === 'down').map(x => x.peerId))
  }

  /**
   * Claims worker `id` from `holders` until one hands it over (true) or none holds it
   * (false). A holder that answers 'mine' has not seen the ring move yet (it will within a
   * heartbeat): it is asked again, `CLAIM_ATTEMPTS` times `CLAIM_RETRY_MS` apart, and if it
   * still keeps it then, the claim fails with `NodeUnavailableError`. Stops early, with
   * true, once `waiting` says the activation no longer waits (a handoff filled it).
   */
  async claimFirst (pool: string, id: string, holders: readonly string[], waiting: () => boolean): Promise<boolean> {
    const local = this.c.pool(pool)
    // the ring moved on meanwhile: the worker is another node's now (the claimer gives up at once, see LocalPool)
    const away = (): boolean => {
      const home = local === undefined ? undefined : this.c.spill.homeOf(local, id)
      return home !== undefined && home !== this.c.self()
    }
    const claim = { pool, id, holders }
    this.inFlight.add(claim)
    try {
      for (let attempt = 0; ; attempt++) {
        const answers = await this.ask(pool, id, holders)
        const answer = oneAnswer(answers)
        if (!waiting() || answer === 'moved') return true
        if (answer === 'mine' && away()) this.keep(pool, id, holders.filter((_, i) => answers[i] === 'mine'))
        if (answer !== 'mine' || away()) return false
        if (attempt >= CLAIM_ATTEMPTS) {
          // a holder kept it all along (busy, or with nowhere to hand it): a copy started here
          // would be a second one, and the holder's handoff would then lose to its larger
          // epoch (seed 121306); what waits is refused, and the next message claims again
          const kept = holders.filter((_, i) => answers[i] === 'mine')
          const unheard = this.c.unheard?.() ?? NONE
          if (kept.every(h => unheard.includes(h))) {
            throw new NodeUnavailableError(`worker ${pool}/${id} may be held by ${kept.join(', ')}, silent since before this node heard of it and not marked down`, { pool, id })
          }
          throw new NodeUnavailableError(`worker ${pool}/${id} is held by ${kept.join(', ')}, which did not hand it over`, { pool, id })
        }
        await sleep(this.c.clock, CLAIM_RETRY_MS)
      }
    } finally {
      this.inFlight.delete(claim)
    }
  }

  /** Claims a worker from every possible holder at once: 'moved' when one handed it over, 'mine' when one keeps it for now, else 'none'. */
  async claim (pool: string, id: string, holders: readonly string[]): Promise<ClaimAnswer> {
    return oneAnswer(await this.ask(pool, id, holders))
  }

  /** Each holder's answer to a claim (for `claimer`, when passed on for it). */
  private async ask (pool: string, id: string, holders: readonly string[], claimer?: string, hops?: number): Promise<ClaimAnswer[]> {
    // no answer is not "none": the holder may be handing it over right now; only a holder
    // that is gone cannot hold it (a stream that closed with the claim in flight proves
    // nothing: `mayHaveArrived`). One never heard here cannot be asked (no address), and
    // keeps what it may hold until it is heard or marked down
    const unheard = this.c.unheard?.() ?? NONE
    return await Promise.all(holders.map(async h => unheard.includes(h)
      ? 'mine'
      : await (this.c.transport.call(h, encodeClaim({ pool, id, claimer, hops }), { timeoutMs: DEFAULT_CALL_TIMEOUT_MS }) as Promise<ClaimAnswer>)
        .catch(unanswered)))
  }

  /**
   * Passes a claim for `id` on to `holders` (`hops` the nodes that passed it on, this one
   * included), noted until it is answered (see {@link passingOn}; not when `tracked` is false:
   * the caller notes what it makes of the answer instead). The holders that keep the
   * worker are noted as its holders here (see {@link keptBy}): the claimer may give up as the
   * ring moves on, and its successor, which knows only this node, asks here again.
   */
  private passOn (m: ClaimMessage, holders: readonly string[], claimer: string, hops: number, tracked = true): Promise<ClaimAnswer> {
    const key = `${m.pool}\n${m.id}`
    const answer = this.ask(m.pool, m.id, holders, claimer, hops).then((answers) => {
      const kept = holders.filter((_, i) => answers[i] === 'mine')
      const one = oneAnswer(answers)
      // noted anew only for holders not noted yet: a note's age bounds how long claims pass on
      const known = this.keptBy.get(key)
      if (one === 'moved') this.keptBy.delete(key)
      else if (kept.length > 0 && (known === undefined || kept.some(h => !known.holders.includes(h)))) this.keep(m.pool, m.id, kept)
      return one
    })
    return tracked ? this.track(answer) : answer
  }

  /** Notes a passed-on claim's answer until it comes (see {@link passingOn}). */
  private track (answer: Promise<ClaimAnswer>): Promise<ClaimAnswer> {
    this.passing.add(answer)
    const done = (): void => { this.passing.delete(answer) }
    answer.then(done, done)
    return answer
  }

  /**
   * Claims this node passed on and that are not answered yet. A stopping node waits for
   * them before it announces `leaving`, on which the claimer drops its call: the holder it
   * handed the worker to may be handing it to the claimer right now (after the turn it
   * runs), and the claim cut reads as 'none' to the claimer, which starts the worker afresh.
   */
  get passingOn (): number {
    return this.passing.size
  }

  /** This node handed worker `id` to `to`: a claim for it here goes on there for a while (see {@link keptBy}). */
  handedOver (pool: string, id: string, to: string): void {
    this.keep(pool, id, [to])
  }

  /** Drops the entries of {@link keptBy} older than the claim window (the oldest come first). */
  private forgetKept (now: number): void {
    for (const [key, k] of this.keptBy) {
      if (now - k.at <= this.windowMs) break
      this.keptBy.delete(key)
    }
  }

  /** Notes that `holders` kept worker `id` when this node gave its claim up (see {@link keptBy}). */
  private keep (pool: string, id: string, holders: string[]): void {
    const now = this.c.clock.monotonic()
    this.forgetKept(now)
    const key = `${pool}\n${id}`
    this.keptBy.delete(key)
    this.keptBy.set(key, { holders, at: now })
  }

  /**
   * Another node claims a worker (`from`, or the claimer an owner names when it passes the
   * claim on to the node its worker spilled to). Handed only to the node this one sees as
   * its owner, so 'moved' means "moved to you".
   */
  answer (m: ClaimMessage, from: string): ClaimAnswer | Promise<ClaimAnswer> {
    const claimer = m.claimer ?? from
    // how many nodes passed it on before this one
    const hops = m.claimer === undefined ? 0 : (m.hops ?? 1)
    const local = this.c.pool(m.pool)
    if (local === undefined) return 'none'
    // back from a stall: a copy here may be stale, and a message for the worker read at the
    // resume, held by the fence, may yet go on to the claimer, to run there ahead of what its
    // sender sent there straight since; with no copy here, 'none' now would start the worker
    // there first. The claimer asks again in a moment
    if (this.c.fencing()) return 'mine'
    const act = local.activations.get(m.id)
    if (act === undefined) {
      if (this.c.hostsHere?.(m.pool) === false) return 'none'
      if (claimer !== this.c.self()) this.claimed.note(m.pool, m.id, claimer, this.c.clock.monotonic())
      // this node handed it on, or claimed it and gave up as the ring moved on while a holder
      // kept it: the claim goes on to that holder, which hands it to the claimer if it sees it as
      // its owner (also a claim passed on here: the worker may have moved on twice, seed 14910)
      const kept = hops < MAX_CLAIM_HOPS ? this.keptBy.get(`${m.pool}\n${m.id}`) : undefined
      if (kept !== undefined && this.c.clock.monotonic() - kept.at <= this.windowMs) {
        // not to a holder marked down: what it held is lost, and the claimer would wait on it
        const down = this.downMembers()
        const onTo = kept.holders.filter(h => h !== claimer && h !== from && !down.has(h))
        if (onTo.length > 0) {
          const viaKept = this.passOn(m, onTo, claimer, hops + 1, m.claimer !== undefined)
          // a node noted as a holder may have said 'mine' without a copy (fencing, unanswered):
          // on its 'none', a claim made to this node goes where it would have gone without the note
          if (m.claimer !== undefined) return viaKept
          return this.track(viaKept.then(answer => answer !== 'none' ? answer : this.passOnElsewhere(m, claimer, local, false)))
        }
      }
      return this.passOnElsewhere(m, claimer, local)
    }
    let owner: string | undefined
    try {
      owner = this.c.owners.ownerOf(m.pool, m.id, local)
    } catch {
      // no node serves the pool in this node's view (a drain left nobody): it is still
      // here, which 'none' (what the claimer reads an unavailable node as) would deny
      return 'mine'
    }
    if (owner !== claimer) return 'mine'
    return this.c.handOverNow(local, act, owner).then(moved => moved ? 'moved' : 'mine')
  }

  /**
   * A claim for a worker this node has no copy of, and no note of a holder that kept it:
   * passed on to the node it spilled to and, a claim made to this node, to its owners
   * before (and, back from being marked down, to the next node on its ring); else 'none'.
   */
  private passOnElsewhere (m: ClaimMessage, claimer: string, local: LocalPool, tracked = true): ClaimAnswer | Promise<ClaimAnswer> {
    // it spilled from here: the node it spilled to may hold it
    const spilledTo = this.c.spill.pointer(m.pool, m.id)
    // it was to come here and never did: its owner before, busy with a long turn as the
    // ring moved on again (a second join), still holds it and hands it to the claimer,
    // its owner now, which knew only this node as its owner before (seed 11770)
    const down = m.claimer === undefined ? this.downMembers() : undefined
    const before = down === undefined ? [] : this.ownersBefore(m.pool, m.id, local).filter(h => h !== claimer && h !== spilledTo && !down.has(h))
    // back from being marked down, this node's workers were placed meanwhile where the ring
    // without it names (and it dropped its copies): a claimer that joined since knows this
    // node alone as the owner before, and that node holds the worker (seed 165)
    if (down !== undefined && this.c.clock.monotonic() - this.downSince <= this.windowMs) {
      const next = this.c.owners.ownerWithout(m.pool, m.id, this.c.self(), claimer)
      if (next !== undefined && next !== spilledTo && !down.has(next) && !before.includes(next)) before.push(next)
    }
    if (before.length > 0) {
      return this.passOn(m, spilledTo === undefined || spilledTo === claimer ? before : [...before, spilledTo], claimer, 1, tracked)
    }
    if (spilledTo === undefined || spilledTo === claimer || m.claimer !== undefined) return 'none'
    return this.passOn(m, [spilledTo], claimer, 1, tracked)
  }

  /**
   * Notes, as the ring moves (or this node starts), the pools in which some other node
   * held workers: only there can a new activation here be a worker another node still
   * holds, so only there does it claim first once the counts are fresh. (Counts ride the
   * heartbeat: workers a node started within its last heartbeat before the change are not
   * seen, so for `CLAIM_COUNTS_GRACE_MS` every pool claims; by then such a node has seen
   * the change and handed them over.) A pool whose window is still open stays in it.
   */
  private noteHolders (): void {
    const self = this.c.self()
    const now = this.c.clock.monotonic()
    const next = now - Math.max(this.changedAt, this.startedAt) <= this.windowMs ? new Set(this.claimPools) : new Set<string>()
    for (const pool of this.c.poolNames()) {
      if (next.has(pool)) continue
      for (const m of this.c.members()) {
        if (m.peerId === self || m.liveness === 'down') continue
        const n = this.c.countOf?.(m.peerId, pool)
        if (n === undefined || n > 0) {
          next.add(pool)
          break
        }
      }
    }
    this.claimPools = next
  }
}

/**
 * A claim whose call failed: 'none' only when the holder proved absent (unavailable, and
 * the claim never reached it: `mayHaveArrived`); else 'mine', and the claimer asks again.
 */
function unanswered (err: Error): ClaimAnswer {
  return err.name === 'NodeUnavailableError' && !mayHaveArrived(err) ? 'none' : 'mine'
}

/** The answer of many holders: 'moved' when one handed the worker over, 'mine' when one keeps it for now, else 'none'. */
function oneAnswer (answers: readonly ClaimAnswer[]): ClaimAnswer {
  return answers.includes('moved') ? 'moved' : answers.includes('mine') ? 'mine' : 'none'
}
