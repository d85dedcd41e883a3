import { TypedEventTarget } from '@simplepool/core'
import type { Clock, Liveness, Member, MemberStatus, MembershipEvents, MembershipSnapshot, PoolTarget, Random, TimerHandle } from '@simplepool/core'
import { Roster } from './roster.js'
import type { RosterOptions } from './roster.js'
import type { RosterRecord } from './roster-messages.js'
import { WitnessDetector } from './witness-detector.js'
import { isRosterMessage } from './witness-messages.js'
import type { LinkMessage, WitnessNews } from './witness-messages.js'
import { WITNESS_DEFAULTS } from './witness-options.js'
import type { WitnessLiveness, WitnessOptions } from './witness-options.js'
import { witnessesOf } from './witnesses.js'

/** A join's pull unanswered this long goes to the next peer: on loopback an answer takes milliseconds, on a loaded start a few hundred. */
const JOIN_RETRY_MS = 1_000
/** Each round of the bootstrap peers waits twice the last, up to this: peers that answer slowly are not asked faster than they answer. */
const JOIN_RETRY_MAX_MS = 8_000

/** What this node says of itself as it starts. */
export interface SelfInit {
  peerId: string
  addresses: readonly string[]
  status: MemberStatus
  pools: Readonly<Record<string, PoolTarget>>
}

/** What a witness membership is given. */
export interface WitnessMembershipComponents {
  readonly self: SelfInit
  readonly clock: Clock
  readonly random: Random
  send: (peer: string, message: LinkMessage) => void
  /** A link this node needs no more: the owner may close it. */
  unlinked?: (peer: string) => void
  /** Doubts held this node down: it must stop serving what it holds; it is back at once as a new generation. */
  heldDown?: () => void
}

/** Timings: the detector's and the roster's, how long a member held down stays in views, and how often witnesses are named anew at most. */
export interface WitnessMembershipOptions extends WitnessOptions, RosterOptions {
  forgetAfterMs: number
  renameMs: number
}

/** News kept for the detector before it exists: a join's answer brings one message of it (see `Roster.compared`), a few answers at most. */
const EARLY_NEWS_MAX = 16

/** Renames wait, while members still arrive, until none arrived for this long (see `rename`). */
const SETTLE_MS = 3_000

/** The membership's own timings (the detector's and the roster's have their own defaults). */
export const WITNESS_MEMBERSHIP_DEFAULTS = {
  witnesses: WITNESS_DEFAULTS.witnesses,
  // as long as a gossip view keeps a member down before it forgets it
  forgetAfterMs: 60_000,
  // witnesses named anew at most this often (see `rename`)
  renameMs: 2_000
}

/**
 * Membership by witnesses (docs/design/membership-v2.md), pure: the member list (a
 * {@link Roster}, spread over the links) and the liveness of each member (a
 * {@link WitnessDetector}) folded into immutable, versioned snapshots and `member:*`
 * events, as `MembershipView` does for gossip. A node joins by pulling the list from one
 * member (`join`); once it has it, it names its witnesses among the members, pushes its
 * record to them, and starts beating. Whenever members come or go, it names its witnesses
 * anew. A member held down stays in views, `down`, for `forgetAfterMs`, then its
 * generation is over here.
 */
export class WitnessMembership extends TypedEventTarget<MembershipEvents> {
  private readonly c: WitnessMembershipComponents
  private readonly o: Partial<WitnessMembershipOptions> & typeof WITNESS_MEMBERSHIP_DEFAULTS
  readonly roster: Roster
  private detector?: WitnessDetector
  private current: MembershipSnapshot
  private readonly byId = new Map<string, Readonly<Member>>()
  /** Members held down here, and when (monotonic): forgotten `forgetAfterMs` after. */
  private readonly downAt = new Map<string, number>()
  private renameQueued = false
  /** The members changed since the snapshot was last built; a `membership:change` is on its way. */
  private stale = false
  private changeQueued = false
  private lastRename = -Infinity
  /** When (monotonic) a member last arrived: see `rename`. */
  private lastArrival = -Infinity
  private forgetTimer: TimerHandle | undefined
  private joinTimer: TimerHandle | undefined
  private running = false
  /** The member list is here and the detector beats (see `begin`). */
  private begun = false
  /** News that came before the detector (see `receive`). */
  private readonly early: Array<[string, WitnessNews]> = []

  constructor (components: WitnessMembershipComponents, options: Partial<WitnessMembershipOptions> = {}) {
    super()
    this.c = components
    this.o = { ...WITNESS_MEMBERSHIP_DEFAULTS, ...options }
    const s = components.self
    this.roster = new Roster({
      self: { peerId: s.peerId, gen: components.clock.now(), seq: 0, addresses: s.addresses, status: s.status, pools: s.pools, witnesses: [] },
      clock: components.clock,
      random: components.random,
      peers: () => this.detector?.linked() ?? [],
      send: (peer, m) => { components.send(peer, m) },
      changed: (r, prev) => { this.onRecord(r, prev) },
      synced: () => { this.begin() },
      // news floods once and rides a few beats: a node that joins after, or was cut off
      // meanwhile, never hears it (it would see a member held down elsewhere alive, or
      // suspect, for ever: the simulator, seeds 1 and 1008 with partitions). What holds
      // members suspect or down here goes with a join's answer and the roster's digests;
      // nothing while all are alive (all of it would flood the cluster anew at every join,
      // once its copies were forgotten: N² messages)
      compared: (peer) => { this.tellNews(peer) },
      buried: () => { this.onHeldDown() }
    }, this.o)
    const self = this.toMember(this.roster.self)
    this.byId.set(s.peerId, self)
    this.current = Object.freeze({ version: 1, self: s.peerId, members: Object.freeze([self]) })
  }

  /** The current immutable view. */
  snapshot (): MembershipSnapshot {
    if (this.stale) {
      // built when asked, not at each change: a join's answer of a thousand records is a thousand changes
      this.stale = false
      const members = [...this.byId.values()].sort((a, b) => a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
      this.current = Object.freeze({ version: this.current.version + 1, self: this.current.self, members: Object.freeze(members) })
    }
    return this.current
  }

  /** A member of the current view. */
  get (peerId: string): Readonly<Member> | undefined {
    return this.byId.get(peerId)
  }

  /** The addresses a member announced, for the links: a member not yet in the view (a bootstrap peer) is the owner's to know. */
  addressesOf (peerId: string): readonly string[] | undefined {
    return this.roster.get(peerId)?.addresses
  }

  /** How many ms ago this node held the member down, while its generation stays in views (see `forgetAfterMs`). */
  downAgo (peerId: string): number | undefined {
    const at = this.downAt.get(peerId)
    return at === undefined ? undefined : this.c.clock.monotonic() - at
  }

  /** True once this node has the member list and beats: it knows the members it needs. */
  get synced (): boolean {
    return this.begun
  }

  /** True while a majority of this node's witness group echoes it (see `WitnessDetector.holdsLease`). */
  holdsLease (): boolean {
    return this.detector?.holdsLease() ?? false
  }

  /** The witnesses this node names now. */
  get witnesses (): readonly string[] {
    return this.detector?.witnesses ?? []
  }

  /**
   * Joins through `peers` (pulls the member list from the first; from the next, in turn,
   * every `JOIN_RETRY_MS` until one answers: a peer that was not running yet lost the
   * pull), or, with none, starts a cluster of one.
   */
  start (peers: readonly string[] = []): void {
    this.running = true
    this.roster.start()
    if (peers.length === 0) {
      this.begin()
      return
    }
    let i = 0
    const ask = (): void => {
      if (!this.running || this.synced) return
      this.roster.join(peers[i % peers.length])
      // (an answer slower than the retry still counts: any peer asked may complete the join)
      this.joinTimer = this.c.clock.setTimeout(ask, Math.min(JOIN_RETRY_MS * 2 ** Math.floor(i++ / peers.length), JOIN_RETRY_MAX_MS))
    }
    ask()
  }

  stop (): void {
    this.running = false
    this.roster.stop()
    this.detector?.stop()
    if (this.forgetTimer !== undefined) this.c.clock.clearTimeout(this.forgetTimer)
    if (this.joinTimer !== undefined) this.c.clock.clearTimeout(this.joinTimer)
    this.forgetTimer = this.joinTimer = undefined
  }

  /**
   * Changes this node's status (`up`, `draining`, `leaving`...) or targets: pushed to every
   * link at once. A member `leaving` is still in views (it saves and hands over what it
   * holds, and answers claims meanwhile) until it leaves.
   */
  update (change: { status?: MemberStatus, pools?: Readonly<Record<string, PoolTarget>> }): void {
    this.roster.update(change)
    this.refresh(this.roster.self.peerId)
  }

  /** The members whose witness lists (current or proposed) name this node, as far as it knows: a node that leaves waits for them to name others (see `WitnessMeshCore.leave`). */
  namedBy (): string[] {
    return this.detector?.namedBy().filter(p => this.roster.get(p) !== undefined) ?? []
  }

  /** Ends this node's generation: it leaves every view at once (not down), as its record `gone` spreads. */
  leave (): void {
    this.roster.update({ status: 'leaving', gone: true })
    this.refresh(this.roster.self.peerId)
  }

  /** A message on a link. */
  receive (from: string, m: LinkMessage): void {
    if (!this.running) return
    if (isRosterMessage(m)) this.roster.receive(from, m)
    else if (this.detector !== undefined) this.detector.receive(from, m)
    // news told with a join's answer may come before its last records: kept for the detector
    else if (m.t === 'news' && this.early.length < EARLY_NEWS_MAX) this.early.push([from, m])
  }

  /** The link to `peer` closed (see `WitnessDetector.linkClosed`). */
  linkClosed (peer: string): void {
    this.detector?.linkClosed(peer)
  }

  /** A dial of `peer` was refused: its process is gone. */
  refused (peer: string): void {
    this.detector?.refused(peer)
  }

  /** Tells `peer` what this node's detector knows of the members it holds suspect or down (see the roster's `compared`). */
  private tellNews (peer: string): void {
    const updates = this.detector?.known() ?? []
    if (updates.length > 0) this.c.send(peer, { t: 'news', updates })
  }

  /** The member list is here: name witnesses among it, push this node's record to them, start beating. */
  private begin (): void {
    if (this.begun || !this.running) return
    this.begun = true
    this.roster.answerJoins()
    const self = this.roster.self
    this.roster.reincarnate(self.gen, this.choose())
    this.detector = new WitnessDetector({
      self: self.peerId,
      clock: this.c.clock,
      members: this.roster.witnessedMembers,
      send: (peer, m) => { this.c.send(peer, m) },
      changed: (peer, liveness) => { this.onVerdict(peer, liveness) },
      linked: (peer) => { this.roster.greet(peer) },
      unlinked: (peer) => { this.c.unlinked?.(peer) },
      heldDown: () => { this.onHeldDown() }
    }, this.o)
    // the record goes to the witnesses, which pass it on (the detector's links exist now)
    this.roster.update({})
    this.detector.start()
    for (const [from, m] of this.early.splice(0)) this.detector.receive(from, m)
    for (const r of this.roster.members()) this.refresh(r.peerId)
  }

  /** The witnesses this node would name among the members it knows and does not hold down. */
  private choose (): string[] {
    const ids: string[] = []
    for (const r of this.roster.members()) if (r.status !== 'leaving' && !this.downAt.has(r.peerId)) ids.push(r.peerId)
    return witnessesOf(this.roster.self.peerId, ids, this.o.witnesses)
  }

  /**
   * Members came or went: name witnesses anew, at most once per `renameMs` however many
   * changed. When many nodes start at once, each learns of the others over a few seconds,
   * and would name a better witness at each arrival (about K·ln(N/K) times over the start):
   * each new witness is a connection (its handshakes cost both ends), so the arrivals of a
   * while are taken together, and a small improvement waits until they stop.
   */
  private rename (): void {
    if (this.renameQueued || this.detector === undefined) return
    this.renameQueued = true
    const now = this.c.clock.monotonic()
    const wait = Math.max(0, this.lastRename + this.o.renameMs - now)
    this.c.clock.setTimeout(() => {
      this.renameQueued = false
      const detector = this.detector
      if (!this.running || detector === undefined) return
      const want = this.choose()
      const now = this.c.clock.monotonic()
      // while members still arrive, a better witness or two is not worth a connection yet:
      // renamed when a witness named is gone or held down, when half the list would change,
      // or once no member arrived for `SETTLE_MS` (then to the best)
      const named = detector.witnesses
      const lost = named.some(w => this.roster.get(w) === undefined || this.roster.get(w)?.status === 'leaving' || this.downAt.has(w))
      const better = want.filter(w => !named.includes(w)).length
      // (nothing better: the list wanted is set all the same, so a proposal made for members since gone is not entered)
      // (`lastArrival + SETTLE_MS`, the sum the wait below is set by: `now - lastArrival` may fall short of it by a rounding, and the wait would come round at once for ever)
      if (lost || better === 0 || better * 2 >= want.length || this.lastArrival + SETTLE_MS <= now || named.length < want.length) {
        this.lastRename = now
        detector.setWitnesses(want)
      } else {
        this.renameQueued = true
        this.c.clock.setTimeout(() => { this.renameQueued = false; this.rename() }, this.lastArrival + SETTLE_MS - now)
      }
    }, wait)
  }

  private onRecord (r: RosterRecord, prev: RosterRecord | undefined): void {
    // a new generation of a member (or one first heard of, maybe after an earlier one was
    // forgotten here): what the detector knew of another goes; a generation over: all of it
    if ((prev === undefined || prev.gen !== r.gen) && r.gone !== true) {
      this.downAt.delete(r.peerId)
      this.detector?.forget(r.peerId)
    }
    if (r.gone === true) {
      this.downAt.delete(r.peerId)
      this.detector?.drop(r.peerId)
    }
    if (prev === undefined) this.lastArrival = this.c.clock.monotonic()
    // (a member leaving: those that name it name others while it can still promise them their next epoch)
    if (prev === undefined || prev.gen !== r.gen || r.gone === true || (r.status === 'leaving' && prev.status !== 'leaving')) this.rename()
    this.refresh(r.peerId)
  }

  private onVerdict (peer: string, liveness: WitnessLiveness): void {
    if (liveness === 'down' && !this.downAt.has(peer)) {
      this.downAt.set(peer, this.c.clock.monotonic())
      this.scheduleForget()
      this.rename()
    }
    this.refresh(peer)
  }

  /**
   * Ends this node's generation here and comes back as a new one, as when held down: for a
   * node that lost its lease and cannot get it back in this generation (see
   * `WitnessMeshCore`). Its owner must drop what it holds, as for `heldDown`.
   */
  renew (): void {
    this.onHeldDown()
  }

  /** This node was held down: it comes back at once as a new generation, with witnesses named afresh. */
  private onHeldDown (): void {
    if (!this.running || this.detector === undefined) return
    this.c.heldDown?.()
    this.roster.reincarnate(Math.max(this.c.clock.now(), this.roster.self.gen + 1), this.choose())
    this.detector.reincarnated()
    this.refresh(this.roster.self.peerId)
  }

  /** Members held down `forgetAfterMs` ago leave the view: their generation is over here. */
  private scheduleForget (): void {
    if (this.forgetTimer !== undefined) return
    const forgetMs = this.o.forgetAfterMs
    let next = Infinity
    for (const at of this.downAt.values()) next = Math.min(next, at + forgetMs)
    if (next === Infinity) return
    this.forgetTimer = this.c.clock.setTimeout(() => {
      this.forgetTimer = undefined
      const now = this.c.clock.monotonic()
      for (const [peer, at] of this.downAt) {
        // (the sum the timer was set by: `now - at` may fall short of it by a rounding)
        if (at + forgetMs > now) continue
        // (a member no longer listed, its generation over already, leaves the list of the held down too)
        this.downAt.delete(peer)
        const gen = this.roster.get(peer)?.gen
        if (gen !== undefined) this.roster.bury(peer, gen)
      }
      this.scheduleForget()
    }, Math.max(0, next - this.c.clock.monotonic()))
  }

  /** Looks at one member again; a new snapshot and an event when it changed. */
  private refresh (peerId: string): void {
    const r = this.roster.get(peerId) ?? (peerId === this.roster.self.peerId ? this.roster.self : undefined)
    const prev = this.byId.get(peerId)
    const next = r === undefined ? undefined : this.toMember(r)
    if (next !== undefined && prev !== undefined && same(prev, next)) return
    if (next === undefined && prev === undefined) return
    if (next === undefined) this.byId.delete(peerId)
    else this.byId.set(peerId, next)
    this.stale = true
    // one `membership:change` a turn, however many members changed in it
    if (!this.changeQueued) {
      this.changeQueued = true
      this.c.clock.setTimeout(() => {
        this.changeQueued = false
        this.emit('membership:change', this.snapshot())
      }, 0)
    }
    if (peerId === this.roster.self.peerId) {
      // this node itself: a new generation or `leaving` is news for the others, not a join or leave here
      if (next !== undefined) this.emit('member:update', next)
    } else if (next === undefined) {
      // a generation over: a leave, unless it was down already (its work has moved)
      if (prev !== undefined && prev.liveness !== 'down' && prev.status !== 'leaving') this.emit('member:leave', { ...prev, status: 'leaving' })
    } else if (prev === undefined || (prev.liveness === 'down' && next.liveness !== 'down') || prev.incarnation !== next.incarnation) {
      this.emit('member:join', next)
    } else if (next.liveness === 'down' && prev.liveness !== 'down') {
      this.emit('member:down', next)
    } else if (next.status === 'leaving' && prev.status !== 'leaving') {
      this.emit('member:leave', next)
    } else {
      this.emit('member:update', next)
    }
  }

  private toMember (r: RosterRecord): Readonly<Member> {
    const self = r.peerId === this.roster.self.peerId
    const verdict = self ? 'alive' : (this.detector?.liveness(r.peerId) ?? 'alive')
    const liveness: Liveness = this.downAt.has(r.peerId) ? 'down' : verdict
    return Object.freeze({ peerId: r.peerId, addresses: r.addresses, status: r.status, pools: r.pools, incarnation: r.gen, liveness })
  }
}

function same (a: Readonly<Member>, b: Readonly<Member>): boolean {
  if (a.status !== b.status || a.liveness !== b.liveness || a.incarnation !== b.incarnation || a.addresses !== b.addresses) return false
  if (a.pools === b.pools) return true
  const ak = Object.keys(a.pools)
  if (ak.length !== Object.keys(b.pools).length) return false
  for (const k of ak) if (b.pools[k]?.target !== a.pools[k].target) return false
  return true
}
