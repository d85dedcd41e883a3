import { isMajority } from '@simplepool/core'
import type { Clock, TimerHandle } from '@simplepool/core'
import { updateKey } from './witness-messages.js'
import type { WitnessBeat, WitnessMessage, WitnessUpdate } from './witness-messages.js'

/** The timing of a {@link WitnessDetector}, in ms, and how many witnesses a member has. */
export interface WitnessOptions {
  /** Witnesses per member (K). */
  witnesses: number
  /** A beat each way on every link this often. */
  beatMs: number
  /** Silent this long, a link's peer is suspect here, and beats go to it four times as often, each asking for an answer at once. */
  missMs: number
  /** Silent this long, a witness floods a doubt of the member it watches. */
  doubtMs: number
  /**
   * How long a witness's echo of a beat counts toward the sender's lease, from the beat's
   * sending. Below `doubtMs`: a witness doubts only `doubtMs` after it last heard the
   * member, which is after that member sent it, so the member stopped counting that
   * witness before its doubt can exist.
   */
  leaseMs: number
  /** How often deadlines are looked at; a gap of `missMs` between looks is this node's own stall. */
  sweepMs: number
  /** How many later beats on each link carry a piece of news again, against loss. */
  piggyback: number
  /** How long news already passed on is remembered (and dropped when it comes again). */
  forgetMs: number
}

export const WITNESS_DEFAULTS: WitnessOptions = {
  witnesses: 8,
  beatMs: 500,
  missMs: 1_000,
  doubtMs: 2_000,
  leaseMs: 1_500,
  sweepMs: 100,
  piggyback: 2,
  forgetMs: 60_000
}

/** This node's verdict on a member. */
export type WitnessLiveness = 'alive' | 'suspect' | 'down'

/** A member as every node knows it: its generation (its process's start) and its witnesses. */
export interface WitnessedMember {
  gen: number
  witnesses: readonly string[]
}

/** What a detector is given. */
export interface WitnessComponents {
  readonly self: string
  readonly clock: Clock
  /** Every member, with its witnesses: every node judges a member against the same set. */
  readonly members: ReadonlyMap<string, WitnessedMember>
  /** The peers this node has a link with: its own witnesses, and the members it witnesses. */
  readonly links: readonly string[]
  send: (peer: string, message: WitnessMessage) => void
  /** This node's verdict on `peer` changed. */
  changed?: (peer: string, liveness: WitnessLiveness) => void
  /** This node learnt that doubts hold it down: others may take over its work, so it must stop serving what it holds (its fence). */
  heldDown?: () => void
}

/** One link, as this side keeps it. */
interface Link {
  /** When anything last came from the peer (monotonic); -Infinity before anything did. */
  lastHeard: number
  /** The peer's latest beat number; -1 before one. */
  theirBeat: number
  /** Until when the peer's echo says it hears this node (monotonic). */
  echoedUntil: number
  /** When this side last sent it a beat (monotonic). */
  lastSent: number
  /** When this side last doubted it (monotonic): a refuted doubt is raised again only a doubt deadline later. */
  lastDoubt: number
  closed: boolean
}

/** What this node knows of a member beyond the list: its latest `seq`, the doubts at that `seq`, and since when (monotonic) it is known dead. */
interface News {
  seq: number
  doubts: Set<string>
  dead: boolean
  deadAt: number
}

/** Beat numbers whose sending time is kept: an echo older than this many beats counts for nothing. */
const SENT_KEPT = 64
/** News items one beat carries at most. */
const PIGGYBACK_MAX = 32

/**
 * Failure detection by witnesses (docs/design/membership-v2.md), pure: no I/O, every
 * timer on the injected clock. Each member is watched by its `witnesses` (K); a member
 * and each of its witnesses keep a link, on which each side beats every `beatMs` and
 * echoes the other's latest beat. A witness that hears nothing on a link for `doubtMs`
 * floods a doubt, and a member is down once the witnesses that doubt it (at its current
 * `seq`) leave it no majority of itself and its witnesses; a member that learns it is
 * doubted while a majority of that group echoes it refutes the doubt (`seq` + 1). A node
 * that holds a member down echoes it no more: a member the doubts hold down has lost its
 * lease, must stop serving (`heldDown`), and refutes all the same, to serve again once
 * echoed. A link that closed and whose redial was refused proves its peer dead at once.
 *
 * A witness doubts only while it holds its own lease (a majority of its own group echoes
 * it), only a member it has heard, and never in the sweep that follows a stall of its own:
 * a node cut off or stalled is the likelier broken one, and says nothing of others.
 */
export class WitnessDetector {
  private readonly c: WitnessComponents
  private readonly o: WitnessOptions
  private readonly links = new Map<string, Link>()
  /** The members this node witnesses (it doubts only those). */
  private readonly watched: ReadonlySet<string>
  private readonly news = new Map<string, News>()
  /** News passed on lately, by key, and when: the same news again is dropped. */
  private readonly seen = new Map<string, number>()
  /** News that rides the next beats: how many more beats each, and the link it came on (not sent back). */
  private riding: Array<{ update: WitnessUpdate, left: number, via: string | undefined }> = []
  private readonly verdicts = new Map<string, WitnessLiveness>()
  private readonly sentAt = new Float64Array(SENT_KEPT)
  private beatSeq = -1
  private mySeq = 0
  private lastSweep: number
  private lastForget = -Infinity
  private knownDownAt: number | undefined
  private beatTimer: TimerHandle | undefined
  private sweepTimer: TimerHandle | undefined
  /** Messages sent and received, and doubts this node raised, for the model's figures. */
  readonly counts = { sent: 0, received: 0, doubts: 0 }

  constructor (components: WitnessComponents, options: Partial<WitnessOptions> = {}) {
    this.c = components
    this.o = { ...WITNESS_DEFAULTS, ...options }
    if (!(this.o.leaseMs < this.o.doubtMs)) throw new RangeError(`leaseMs (${this.o.leaseMs}) must be below doubtMs (${this.o.doubtMs})`)
    for (const peer of components.links) if (peer !== components.self) this.links.set(peer, { lastHeard: -Infinity, theirBeat: -1, echoedUntil: -Infinity, lastSent: -Infinity, lastDoubt: -Infinity, closed: false })
    const self = components.self
    this.watched = new Set(components.links.filter(p => components.members.get(p)?.witnesses.includes(self) === true))
    this.lastSweep = components.clock.monotonic()
  }

  /** Starts beating and sweeping. */
  start (): void {
    const beat = (): void => {
      this.beat()
      this.beatTimer = this.c.clock.setTimeout(beat, this.o.beatMs)
    }
    const sweep = (): void => {
      this.sweep()
      this.sweepTimer = this.c.clock.setTimeout(sweep, this.o.sweepMs)
    }
    this.lastSweep = this.c.clock.monotonic()
    beat()
    this.sweepTimer = this.c.clock.setTimeout(sweep, this.o.sweepMs)
  }

  stop (): void {
    if (this.beatTimer !== undefined) this.c.clock.clearTimeout(this.beatTimer)
    if (this.sweepTimer !== undefined) this.c.clock.clearTimeout(this.sweepTimer)
    this.beatTimer = this.sweepTimer = undefined
  }

  /** This node's verdict on `peer`. */
  liveness (peer: string): WitnessLiveness {
    return this.verdicts.get(peer) ?? 'alive'
  }

  /** True while a majority of this node's group (itself and its witnesses) echoed it within `leaseMs`. */
  holdsLease (now = this.c.clock.monotonic()): boolean {
    const self = this.c.self
    return isMajority(this.groupOf(self), m => m.peerId === self || (this.links.get(m.peerId)?.echoedUntil ?? -Infinity) > now)
  }

  /** A message from `from` on its link. */
  receive (from: string, m: WitnessMessage): void {
    const link = this.links.get(from)
    // only a link's peer speaks on it; anything else is a misrouted message
    if (link === undefined) return
    this.counts.received++
    const now = this.c.clock.monotonic()
    link.lastHeard = now
    link.closed = false
    if (m.t === 'beat') {
      if (m.seq > link.theirBeat) link.theirBeat = m.seq
      if (m.echo >= 0 && m.echo <= this.beatSeq && this.beatSeq - m.echo < SENT_KEPT) {
        link.echoedUntil = Math.max(link.echoedUntil, this.sentAt[m.echo % SENT_KEPT] + this.o.leaseMs)
      }
      // it misses this node: an answer now, not at the next beat
      if (m.miss) this.sendBeat(from, link, now)
    }
    for (const u of m.updates) this.learn(u, from)
    this.judge(from, now)
  }

  /** The connection to `peer` closed: suspect until it is heard again (its redial is the owner's to make). */
  linkClosed (peer: string): void {
    const link = this.links.get(peer)
    if (link === undefined) return
    link.closed = true
    this.judge(peer, this.c.clock.monotonic())
  }

  /** The connection to `peer` is open again (the owner's redial went through): beats go on. */
  linkOpened (peer: string): void {
    const link = this.links.get(peer)
    if (link === undefined) return
    link.closed = false
    this.judge(peer, this.c.clock.monotonic())
  }

  /** A redial of `peer` was refused: its process is gone; every node learns it. */
  refused (peer: string): void {
    const gen = this.c.members.get(peer)?.gen
    if (gen === undefined) return
    this.learn({ k: 'dead', peer, gen, from: this.c.self }, undefined)
  }

  private beat (): void {
    const now = this.c.clock.monotonic()
    this.beatSeq++
    this.sentAt[this.beatSeq % SENT_KEPT] = now
    for (const [peer, link] of this.links) if (!link.closed && this.news.get(peer)?.dead !== true) this.sendBeat(peer, link, now)
    for (const r of this.riding) r.left--
    this.riding = this.riding.filter(r => r.left > 0)
  }

  private sendBeat (peer: string, link: Link, now: number): void {
    const updates: WitnessUpdate[] = []
    for (const r of this.riding) {
      if (r.via === peer) continue
      updates.push(r.update)
      if (updates.length >= PIGGYBACK_MAX) break
    }
    // a peer held down here gets no echo (nothing toward its lease while this node may take
    // over its work) and, on every beat, the doubts that hold it down: it learns it is down
    // even when the flood went by while it was cut off, and refutes
    const down = this.verdicts.get(peer) === 'down'
    if (down) {
      const n = this.news.get(peer)
      const gen = this.c.members.get(peer)?.gen
      if (n !== undefined && gen !== undefined && !n.dead) for (const from of n.doubts) if (updates.length < PIGGYBACK_MAX) updates.push({ k: 'doubt', peer, gen, seq: n.seq, from })
    }
    const beat: WitnessBeat = { t: 'beat', seq: Math.max(0, this.beatSeq), echo: down ? -1 : link.theirBeat, miss: now - link.lastHeard >= this.o.missMs, updates }
    link.lastSent = now
    this.counts.sent++
    this.c.send(peer, beat)
  }

  /** News from `via` (undefined: made here): applied once, then passed on to every other link and on the next beats. */
  private learn (u: WitnessUpdate, via: string | undefined): void {
    const key = updateKey(u)
    if (this.seen.has(key)) return
    const member = this.c.members.get(u.peer)
    // news of another generation (a process before or after the one known here) is not about this member
    if (member === undefined || u.gen !== member.gen) return
    const now = this.c.clock.monotonic()
    this.seen.set(key, now)
    const n = this.newsOf(u.peer)
    if (u.k === 'dead') {
      n.dead = true
      n.deadAt = now
    } else {
      if (u.seq > n.seq) {
        n.seq = u.seq
        n.doubts.clear()
      }
      if (u.k === 'doubt' && u.seq === n.seq) n.doubts.add(u.from)
    }
    for (const [peer, link] of this.links) {
      if (peer === via || link.closed) continue
      this.counts.sent++
      this.c.send(peer, { t: 'news', updates: [u] })
    }
    this.riding.push({ update: u, left: this.o.piggyback, via })
    if (u.peer === this.c.self) this.refute(now)
    this.judge(u.peer, now)
  }

  /**
   * Doubts of this node at its seq, while a majority of its group hears it: refuted at a
   * newer seq. Looked at as a doubt comes and at every sweep: a node that learnt of them
   * without its lease (it stood still past the doubt deadline) refutes once it holds it again.
   */
  private refute (now: number): void {
    const mine = this.news.get(this.c.self)
    const gen = this.c.members.get(this.c.self)?.gen
    if (mine === undefined || mine.doubts.size === 0 || gen === undefined || mine.seq < this.mySeq) return
    // held down by the doubts it heard of: it has lost its lease with the nodes that hold it
    // down (they echo it no more), so it must stop serving; then it refutes all the same,
    // or it would stay down for good (it may serve again once they echo it again)
    if (this.isDown(this.c.self, mine, now)) {
      this.knownDownAt = now
      this.c.heldDown?.()
    } else if (!this.holdsLease(now)) return
    this.mySeq = mine.seq + 1
    this.learn({ k: 'alive', peer: this.c.self, gen, seq: this.mySeq }, undefined)
  }

  /** When (monotonic) this node last learnt that doubts held it down; undefined if never. */
  get knownDown (): number | undefined {
    return this.knownDownAt
  }

  private newsOf (peer: string): News {
    let n = this.news.get(peer)
    if (n === undefined) this.news.set(peer, n = { seq: 0, doubts: new Set(), dead: false, deadAt: Infinity })
    return n
  }

  private sweep (): void {
    const now = this.c.clock.monotonic()
    const stalled = now - this.lastSweep >= this.o.missMs
    this.lastSweep = now
    if (stalled) {
      // this node stood still: what it did not hear meanwhile says nothing of the others
      for (const link of this.links.values()) if (link.lastHeard > -Infinity) link.lastHeard = Math.max(link.lastHeard, now - this.o.sweepMs)
    }
    if (now - this.lastForget >= 1_000) {
      this.lastForget = now
      for (const seen of this.seen) if (now - seen[1] >= this.o.forgetMs) this.seen.delete(seen[0])
    }
    this.refute(now)
    let lease: boolean | undefined
    for (const [peer, link] of this.links) {
      const dead = this.news.get(peer)?.dead === true
      // a peer missed: asked four times a beat, so that loss alone rarely silences a link for the doubt deadline
      if (!link.closed && !dead && link.lastHeard > -Infinity && now - link.lastHeard >= this.o.missMs && now - link.lastSent >= this.o.beatMs / 4) this.sendBeat(peer, link, now)
      // a doubt refuted while the link stays silent is raised again a whole deadline later, not at the next sweep
      if (!stalled && !dead && this.watched.has(peer) && link.lastHeard > -Infinity && now - link.lastHeard >= this.o.doubtMs && now - link.lastDoubt >= this.o.doubtMs) {
        const n = this.newsOf(peer)
        const gen = this.c.members.get(peer)?.gen
        lease ??= this.holdsLease(now)
        if (gen !== undefined && !n.doubts.has(this.c.self) && lease) {
          this.counts.doubts++
          link.lastDoubt = now
          this.learn({ k: 'doubt', peer, gen, seq: n.seq, from: this.c.self }, undefined)
        }
      }
      this.judge(peer, now)
    }
    // members doubted that are no link of this node: a dead witness of theirs counts only `leaseMs` after it died (see verdictOf)
    for (const [peer, n] of this.news) if (n.doubts.size > 0 && !n.dead && !this.links.has(peer)) this.judge(peer, now)
  }

  /** Looks at `peer` again, and tells of a change. */
  private judge (peer: string, now: number): void {
    if (peer === this.c.self) return
    const verdict = this.verdictOf(peer, now)
    if (verdict === (this.verdicts.get(peer) ?? 'alive')) return
    if (verdict === 'alive') this.verdicts.delete(peer)
    else this.verdicts.set(peer, verdict)
    this.c.changed?.(peer, verdict)
  }

  private verdictOf (peer: string, now: number): WitnessLiveness {
    const n = this.news.get(peer)
    if (n?.dead === true) return 'down'
    if (n !== undefined && this.isDown(peer, n, now)) return 'down'
    const link = this.links.get(peer)
    if (link !== undefined && (link.closed || now - link.lastHeard >= this.o.missMs) && link.lastHeard > -Infinity) return 'suspect'
    return (n?.doubts.size ?? 0) > 0 ? 'suspect' : 'alive'
  }

  /**
   * The down rule: the witnesses that doubt `peer` at its seq, with those gone themselves
   * (they can vouch for nothing), leave it no majority of its group. A gone witness counts
   * only `leaseMs` after it died, as long as the member may still count that witness's last
   * echo toward its lease: the down rule and the lease never hold at once.
   */
  private isDown (peer: string, n: News, now: number): boolean {
    if (n.doubts.size === 0) return false
    const gone = (w: string): boolean => {
      const d = this.news.get(w)
      return d !== undefined && d.dead && now - d.deadAt >= this.o.leaseMs
    }
    return !isMajority(this.groupOf(peer), m => m.peerId === peer || !(n.doubts.has(m.peerId) || gone(m.peerId)))
  }

  /** A member and its witnesses, as the majority rule reads them (the oldest decides a tie). */
  private groupOf (peer: string): Array<{ peerId: string, incarnation: number }> {
    const m = this.c.members.get(peer)
    if (m === undefined) return []
    const group = [{ peerId: peer, incarnation: m.gen }]
    for (const w of m.witnesses) group.push({ peerId: w, incarnation: this.c.members.get(w)?.gen ?? 0 })
    return group
  }
}
