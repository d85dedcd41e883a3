import { TypedEventTarget, countsForMajority, isMajority, peerTag } from '@simplepool/core'
import type { Clock, EpochMark, Liveness, Member, MemberFigures, MemberRecord, MembershipEvents, MembershipSnapshot, PoolTarget } from '@simplepool/core'

/** Timings of liveness decisions. */
export interface MembershipViewInit {
  /** No record for this long: suspect. */
  suspectAfterMs: number
  /** No record for this long: down. */
  downAfterMs: number
  /** Down or departed members are forgotten after this long. */
  forgetAfterMs: number
  /** Raised by the epoch of every record taken in (see `MemberRecord.epoch`). */
  epochs?: EpochMark
}

const NONE: readonly string[] = Object.freeze([])

interface Entry {
  member: Readonly<Member>
  figures: MemberFigures
  /** Set when a redial after a closed connection failed; cleared by a new connection. */
  unreachable: boolean
  /** Monotonic time the member went down or left, for forgetting it. */
  goneAt: number
  /** Monotonic time its first record arrived here. */
  firstSeen: number
  /** Its {@link peerTag}, as records that say whom their node hears name it. */
  tag: number
  /**
   * Past its down deadline: -1 while others vouch for it (see `mayHoldLease`), the time
   * they stopped once they had, or undefined before either (reset by its next record).
   */
  forsaken?: number
}

/**
 * Folds membership records, connection events and the passage of time into immutable,
 * versioned snapshots, and says what changed as `member:*` events. No I/O: the mesh feeds
 * it, and unit tests drive it with a fake clock.
 *
 * Liveness rules:
 * - a fresh record makes a member alive, unless its last redial failed and no connection
 *   has come back since (a record relayed by others does not prove we can reach it);
 * - a closed connection makes an alive member suspect at once (the mesh redials);
 * - a failed redial makes it down;
 * - no record for `suspectAfterMs` makes it suspect, for `downAfterMs` down (or two and
 *   four of the member's own announced heartbeats, when those are longer), once it cannot
 *   hold its lease on a majority (see {@link MembershipView.mayHoldLease}): a host that
 *   enough others still hear stays suspect here, its workers where they are.
 */
export class MembershipView extends TypedEventTarget<MembershipEvents> {
  private readonly entries = new Map<string, Entry>()
  /**
   * The last (incarnation, seq) of members forgotten, until `forgetAfterMs` after: a late
   * relayed record of a node that left must not bring it back.
   */
  private readonly tombstones = new Map<string, { incarnation: number, seq: number, at: number, gone: boolean }>()
  /** When (monotonic) each peer was last marked down, kept `forgetAfterMs`: a node back from a stall asks. */
  private readonly downAt = new Map<string, number>()
  private self: Entry
  private current: MembershipSnapshot
  private readonly clock: Clock
  private readonly init: MembershipViewInit
  private lastSweep: number
  /**
   * Before this monotonic time no deadline can come due: sweeps until then only note the
   * time (a hundred members heard from every few seconds need no walk every 100 ms). Any
   * change that may bring a deadline nearer sets it back to -Infinity.
   */
  private nextDue = -Infinity
  /** {@link unheard} and {@link unknown}, until a record or a change of members may change them. */
  private doubtedCache: { unheard: readonly string[], unknown: readonly string[] } | undefined

  constructor (self: MemberRecord, clock: Clock, init: MembershipViewInit) {
    super()
    this.clock = clock
    this.init = init
    const now = clock.monotonic()
    this.self = { member: toMember(self, 'alive'), figures: toFigures(self, now), unreachable: false, goneAt: 0, firstSeen: now, tag: peerTag(self.peerId) }
    this.current = { version: 1, self: self.peerId, members: [this.self.member] }
    this.lastSweep = now
  }

  /** The current immutable view. */
  snapshot (): MembershipSnapshot {
    return this.current
  }

  /** The latest figures of a member, or undefined when it is not known. */
  figures (peerId: string): Readonly<MemberFigures> | undefined {
    if (peerId === this.self.member.peerId) return this.self.figures
    return this.entries.get(peerId)?.figures
  }

  /** The member with this id in the current view. */
  get (peerId: string): Readonly<Member> | undefined {
    if (peerId === this.self.member.peerId) return this.self.member
    return this.entries.get(peerId)?.member
  }

  /**
   * True when the peer is known gone: it said goodbye (leaving), or a redial was refused
   * (no process listens where it was); also once forgotten, within `forgetAfterMs`.
   * Silence alone never makes a peer gone: a peer cut off by the network is silent too.
   */
  departed (peerId: string): boolean {
    const entry = this.entries.get(peerId)
    if (entry !== undefined) return entry.member.status === 'leaving' || entry.unreachable
    return this.tombstones.get(peerId)?.gone === true
  }

  /** How many ms ago this view last marked the peer down, or undefined when not within `forgetAfterMs`. */
  markedDownAgo (peerId: string): number | undefined {
    const at = this.downAt.get(peerId)
    return at === undefined ? undefined : this.clock.monotonic() - at
  }

  /**
   * A member proved it is alive by a message of its own (not a relayed record): its
   * silence restarts, so it is not marked down for a stall it has just come back from, and
   * a doubt of this node in its last record is past. False when it is unknown here or
   * already down.
   */
  heardFrom (peerId: string): boolean {
    const entry = this.entries.get(peerId)
    if (entry === undefined || entry.member.liveness === 'down') return false
    entry.figures.lastSeen = Math.max(entry.figures.lastSeen, this.clock.monotonic())
    // it hears this node now (it answered it): a doubt in its last record is older than that
    const self = this.self.member.peerId
    if (entry.figures.doubts.includes(self)) entry.figures.doubts = entry.figures.doubts.filter(d => d !== self)
    return true
  }

  /** Replaces this node's own record (status, targets, addresses, counts). */
  updateSelf (record: MemberRecord): void {
    this.self.figures = toFigures(record, this.clock.monotonic())
    const next = toMember(record, 'alive')
    if (!sameMember(this.self.member, next)) {
      this.self.member = next
      this.rebuild()
      this.emit('member:update', next)
    }
  }

  /** Folds a record received from the network. Stale records are ignored. */
  onRecord (record: MemberRecord): void {
    if (record.peerId === this.self.member.peerId) return
    const now = this.clock.monotonic()
    const tomb = this.tombstones.get(record.peerId)
    if (tomb != null) {
      if (record.incarnation < tomb.incarnation || (record.incarnation === tomb.incarnation && record.seq <= tomb.seq)) return
      this.tombstones.delete(record.peerId)
    }
    const entry = this.entries.get(record.peerId)
    if (entry != null) {
      const m = entry.member
      if (record.incarnation < m.incarnation) return
      if (record.incarnation === m.incarnation && record.seq <= entry.figures.seq) return
      // a shorter interval brings its silence deadlines nearer
      if (record.heartbeatMs < entry.figures.heartbeatMs) this.nextDue = -Infinity
    }
    if (record.epoch > 0) this.init.epochs?.observe(record.epoch)
    if ((record.doubts?.length ?? 0) > 0 || (entry?.figures.doubts.length ?? 0) > 0) this.doubtedCache = undefined
    const liveness: Liveness = entry?.unreachable === true ? entry.member.liveness : 'alive'
    const next = toMember(record, liveness)
    const figures = toFigures(record, now)
    if (entry == null) {
      this.nextDue = -Infinity
      this.entries.set(record.peerId, { member: next, figures, unreachable: false, goneAt: next.status === 'leaving' ? now : 0, firstSeen: now, tag: peerTag(record.peerId) })
      this.rebuild()
      if (next.status !== 'leaving') this.emit('member:join', next)
      return
    }
    entry.figures = figures
    entry.forsaken = undefined
    this.replace(entry, next, now)
  }

  /** A connection to the peer exists again: a failed redial no longer counts against it. */
  onConnect (peerId: string): void {
    const entry = this.entries.get(peerId)
    if (entry != null) entry.unreachable = false
  }

  /** The last connection to the peer closed: suspect until a redial says otherwise. */
  onDisconnect (peerId: string): void {
    const entry = this.entries.get(peerId)
    if (entry == null) return
    if (entry.member.status === 'leaving') {
      // it said goodbye; a closed connection is the end of it, not a failure
      this.forget(peerId)
      return
    }
    if (entry.member.liveness === 'alive') this.setLiveness(entry, 'suspect')
  }

  /** A redial after a closed connection failed: the peer is down. */
  onUnreachable (peerId: string): void {
    const entry = this.entries.get(peerId)
    if (entry == null) return
    entry.unreachable = true
    if (entry.member.liveness !== 'down') this.setLiveness(entry, 'down')
  }

  /**
   * Applies the heartbeat deadlines. A sweep that comes much later than the previous one
   * means this process itself was paused (SIGSTOP, a long GC, a blocked loop): the others
   * did not fall silent, we did not listen, so their deadlines restart instead of expiring.
   */
  sweep (): void {
    const now = this.clock.monotonic()
    const gap = now - this.lastSweep
    this.lastSweep = now
    if (gap > this.init.suspectAfterMs) {
      for (const entry of this.entries.values()) entry.figures.lastSeen = Math.max(entry.figures.lastSeen, now)
      return
    }
    if (now < this.nextDue) return
    // Infinity until a change (which sets -Infinity) or the end of this sweep
    this.nextDue = Infinity
    let due = Infinity
    for (const [peerId, t] of this.tombstones) {
      if (now - t.at > this.init.forgetAfterMs) this.tombstones.delete(peerId)
      else due = Math.min(due, t.at + this.init.forgetAfterMs)
    }
    for (const [peerId, at] of this.downAt) {
      if (now - at > this.init.forgetAfterMs) this.downAt.delete(peerId)
      else due = Math.min(due, at + this.init.forgetAfterMs)
    }
    for (const [peerId, entry] of this.entries) {
      const m = entry.member
      if ((m.liveness === 'down' || m.status === 'leaving') && entry.goneAt > 0 && now - entry.goneAt > this.init.forgetAfterMs) {
        this.forget(peerId)
        continue
      }
      // a member that announced a longer interval gets as many missed records as any other
      const hb = entry.figures.heartbeatMs
      const silent = now - entry.figures.lastSeen
      const downAfter = Math.max(this.init.downAfterMs, 4 * hb)
      const suspectAfter = Math.max(this.init.suspectAfterMs, 2 * hb)
      // a member past its deadline that may still hold its lease stays suspect, and is
      // looked at again on every sweep (its deadline is in the past) until the others' doubts reach here
      if (m.liveness !== 'down' && silent > downAfter && this.forsaken(entry, now, downAfter - suspectAfter)) this.setLiveness(entry, 'down')
      else if (m.liveness === 'alive' && silent > suspectAfter) this.setLiveness(entry, 'suspect')
      // what this entry may come to next (a record heard meanwhile only moves it later)
      if (entry.goneAt > 0) due = Math.min(due, entry.goneAt + this.init.forgetAfterMs)
      if (entry.member.liveness === 'alive') due = Math.min(due, entry.figures.lastSeen + suspectAfter)
      if (entry.member.liveness !== 'down') due = Math.min(due, entry.figures.lastSeen + downAfter)
    }
    // unless a change made by this sweep (or by a listener of its events) set it back
    if (this.nextDue !== -Infinity) this.nextDue = due
  }

  /**
   * Whether a member past its down deadline may be marked down now: at once when no
   * majority vouched for it when the deadline came (see {@link mayHoldLease}); when one
   * did, `waitMs` (the down deadline less the suspicion one) after the vouching ended. A
   * voucher's doubt is sent once it has not heard the member for the suspicion deadline,
   * which may be up to a heartbeat before the member last heard the voucher: the member
   * counts that voucher toward its lease for a lease more, and so takes turns until
   * about a suspicion deadline after the doubt left (a link that the member shared with
   * its last voucher cut while the member was kept suspect).
   */
  private forsaken (entry: Entry, now: number, waitMs: number): boolean {
    if (this.mayHoldLease(entry)) {
      entry.forsaken = -1
      return false
    }
    if (entry.forsaken === undefined) return true
    if (entry.forsaken < 0) entry.forsaken = now
    return now - entry.forsaken >= waitMs
  }

  /**
   * Whether a silent member (a host; a client is judged alike) may still hold its lease on
   * a majority, as far as this view can tell. Its base is the members that count toward a majority (`countsForMajority`: all
   * but those leaving; this node among them), marked down or not, but those known gone (a
   * redial refused) and those that joined after it fell silent and do not hear it (they
   * are in no base it knows of; seed 161289; a joiner that hears it may be heard by it:
   * seed 4370): the base its lease is on (seed 65: a base without the members
   * this view marked down left the host a tie it could not hold, while it held three of
   * five through a member both sides heard). It counts
   * with itself and every member, but this node, whose last record says it hears it and
   * does not doubt it, and every member this node no longer hears (suspect or down here:
   * its last record here may predate the member, or a doubt it has since mended).
   * When those are a majority (see {@link isMajority}) it
   * may be serving its workers on the side of a cut this node is not on, where no lease
   * was lost: marking it down here would place them a second time (a link cut between two
   * nodes that both hear the rest). When they are not, it lost its lease before this
   * deadline (its lease ends sooner than the silence that marks it down, and a record
   * doubting it ends its count of that member at once), and its workers may be placed
   * anew. A member that holds no workers (a client) needs no lease, but is judged the
   * same way: marking it down moves nothing, and a node whose own link flaps, hearing
   * nobody while its TCP retransmissions back off for seconds, must not blame the
   * clients the others still hear. The only member left is not kept (seed 69).
   */
  private mayHoldLease (entry: Entry): boolean {
    const member = entry.member
    const self = this.self.member.peerId
    const base: Array<Readonly<Member>> = []
    if (countsForMajority(this.self.member)) base.push(this.self.member)
    const tag = entry.tag
    for (const e of this.entries.values()) {
      // one that joined after the member fell silent is in no base the member knows of,
      // unless it hears the member: then the member may hear it too (a cut one way: the
      // member cannot send, and hears the joiner's records), and count it toward its lease
      // (seed 4370); one marked down stays, as in the lease's base, unless known gone
      if (!countsForMajority(e.member) || (e.member.liveness === 'down' && e.unreachable)) continue
      if (e.firstSeen <= entry.figures.lastSeen || e.figures.hears?.includes(tag) === true) base.push(e.member)
    }
    // the only member left: no other may take its workers on this view, and a node that
    // joins meanwhile never heard of it; down, it drops its copies when it comes back
    // (as after any stall the others took for a death), rather than meet a fresh twin
    if (base.length <= 1) return false
    return isMajority(base, (m) => {
      if (m.peerId === member.peerId) return true
      const f = m.peerId === self ? undefined : this.entries.get(m.peerId)?.figures
      if (f === undefined) return false
      // one this node no longer hears may hear the member by now, whatever its last record
      // here said (it predates the member, or a doubt since mended): on the member's side of
      // a cut it counts toward its lease (seed 19438: a record from before the member joined)
      if (m.liveness !== 'alive') return true
      if (f.doubts.includes(member.peerId)) return false
      // a member that never heard of it (it joined while it was silent) cannot vouch for it (seed 160844)
      return f.hears === undefined || f.hears.includes(tag)
    })
  }

  /** Peer ids of members this node suspects or marked down (and that did not leave): what its record doubts (see `MemberRecord.doubts`). */
  doubted (): string[] {
    const out: string[] = []
    for (const [peerId, e] of this.entries) {
      if (e.member.liveness !== 'alive' && e.member.status !== 'leaving') out.push(peerId)
    }
    return out
  }

  /** Peer ids of members this node marked down and knows gone (a redial refused): what its record says is gone (see `MemberRecord.gone`). */
  gone (): string[] {
    const out: string[] = []
    for (const [peerId, e] of this.entries) {
      if (e.member.liveness === 'down' && e.member.status !== 'leaving' && e.unreachable) out.push(peerId)
    }
    return out
  }

  /** Peer ids of members this node marked down (and that did not leave): what its record says it marked down (see `MemberRecord.downs`). */
  markedDown (): string[] {
    const out: string[] = []
    for (const [peerId, e] of this.entries) {
      if (e.member.liveness === 'down' && e.member.status !== 'leaving') out.push(peerId)
    }
    return out
  }

  /**
   * Peer ids of members this view never heard (nor forgot) that a member it counts doubts
   * without having marked them down: a member silent since before this node joined, which
   * may still hold its lease and serve its workers (seed 181115). Empty in a quiet cluster.
   */
  unheard (): readonly string[] {
    return this.namedNotHeard().unheard
  }

  /**
   * Peer ids of members this view never heard (nor forgot) that a member's last record here
   * doubts, marked down or not, and does not know gone (the member itself may be down
   * here, but not leaving): the others keep them in the base of their lease on a majority
   * until they forget them (seed 10164: a node that joined while a member stood still
   * counted a majority of a base without it, and served on one side of an even split
   * while the other side, which held that member, served too). Empty in a quiet cluster.
   */
  unknown (): readonly string[] {
    return this.namedNotHeard().unknown
  }

  private namedNotHeard (): { unheard: readonly string[], unknown: readonly string[] } {
    if (this.doubtedCache !== undefined) return this.doubtedCache
    let unheard: string[] | undefined
    let unknown: string[] | undefined
    for (const e of this.entries.values()) {
      if (e.figures.doubts.length === 0 || e.member.status === 'leaving') continue
      // a member marked down here still counts its last record's: it may still count them
      // in its base, on its side of a cut, until it says otherwise or is forgotten
      const down = e.member.liveness === 'down'
      for (const d of e.figures.doubts) {
        if (d === this.self.member.peerId || this.entries.has(d) || this.tombstones.has(d)) continue
        if (!e.figures.gone.includes(d) && unknown?.includes(d) !== true) (unknown ??= []).push(d)
        if (!down && !e.figures.downs.includes(d) && unheard?.includes(d) !== true) (unheard ??= []).push(d)
      }
    }
    this.doubtedCache = { unheard: unheard ?? NONE, unknown: unknown ?? NONE }
    return this.doubtedCache
  }

  /**
   * The tags of the members this node hears (alive here, not leaving): what its record
   * says it hears (see `MemberRecord.hears`). A node that was cut off when a member left,
   * or that joined while a member was silent, finds it in no one's.
   */
  heard (): number[] {
    const out: number[] = []
    for (const e of this.entries.values()) {
      if (e.member.liveness === 'alive' && e.member.status !== 'leaving') out.push(e.tag)
    }
    return out
  }

  /** Peer ids of members this node believes alive or suspect (not down, not leaving). */
  reachablePeers (): string[] {
    const out: string[] = []
    for (const [peerId, e] of this.entries) {
      if (e.member.liveness !== 'down' && e.member.status !== 'leaving') out.push(peerId)
    }
    return out
  }

  private setLiveness (entry: Entry, liveness: Liveness): void {
    this.replace(entry, { ...entry.member, liveness }, this.clock.monotonic())
  }

  private replace (entry: Entry, next: Readonly<Member>, now: number): void {
    const prev = entry.member
    if (sameMember(prev, next)) return
    this.nextDue = -Infinity
    entry.member = next
    if (next.liveness === 'down' || next.status === 'leaving') {
      if (entry.goneAt === 0) entry.goneAt = now
    } else {
      entry.goneAt = 0
    }
    this.rebuild()
    if (next.status === 'leaving' && prev.status !== 'leaving') this.emit('member:leave', next)
    else if (next.liveness === 'down' && prev.liveness !== 'down') {
      this.downAt.set(next.peerId, now)
      this.emit('member:down', next)
    } else if ((prev.liveness === 'down' && next.liveness !== 'down') || (prev.status === 'leaving' && next.status !== 'leaving')) {
      this.emit('member:join', next)
    } else this.emit('member:update', next)
  }

  private forget (peerId: string): void {
    const entry = this.entries.get(peerId)
    if (entry == null) return
    this.nextDue = -Infinity
    this.entries.delete(peerId)
    this.tombstones.set(peerId, { incarnation: entry.member.incarnation, seq: entry.figures.seq, at: this.clock.monotonic(), gone: entry.member.status === 'leaving' || entry.unreachable })
    this.rebuild()
    if (entry.member.status !== 'leaving' && entry.member.liveness !== 'down') {
      this.emit('member:leave', { ...entry.member, status: 'leaving' })
    }
  }

  private rebuild (): void {
    this.doubtedCache = undefined
    const members = [this.self.member]
    for (const e of this.entries.values()) members.push(e.member)
    members.sort((a, b) => a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
    this.current = Object.freeze({ version: this.current.version + 1, self: this.self.member.peerId, members: Object.freeze(members) })
    this.emit('membership:change', this.current)
  }
}

function toMember (record: MemberRecord, liveness: Liveness): Readonly<Member> {
  const pools: Record<string, PoolTarget> = {}
  for (const [name, p] of Object.entries(record.pools)) pools[name] = Object.freeze({ target: p.target })
  return Object.freeze({
    peerId: record.peerId,
    addresses: Object.freeze([...record.addresses]),
    status: record.status,
    pools: Object.freeze(pools),
    incarnation: record.incarnation,
    liveness
  })
}

function toFigures (record: MemberRecord, now: number): MemberFigures {
  const counts: Record<string, number> = {}
  for (const [name, p] of Object.entries(record.pools)) counts[name] = p.count
  return { counts, load: record.load, seq: record.seq, heartbeatMs: record.heartbeatMs, lastSeen: now, doubts: record.doubts ?? [], downs: record.downs ?? [], gone: record.gone ?? [], ...(record.hears !== undefined ? { hears: record.hears } : {}) }
}

function sameMember (a: Readonly<Member>, b: Readonly<Member>): boolean {
  if (a.status !== b.status || a.liveness !== b.liveness || a.incarnation !== b.incarnation) return false
  if (a.addresses.length !== b.addresses.length) return false
  for (let i = 0; i < a.addresses.length; i++) if (a.addresses[i] !== b.addresses[i]) return false
  const ak = Object.keys(a.pools)
  if (ak.length !== Object.keys(b.pools).length) return false
  for (const k of ak) if (b.pools[k]?.target !== a.pools[k].target) return false
  return true
}
