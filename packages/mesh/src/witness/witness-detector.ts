import { isMajority } from '@simplepool/core'
import type { TimerHandle } from '@simplepool/core'
import { updateKey } from './witness-messages.js'
import type { WitnessBeat, WitnessMessage, WitnessUpdate } from './witness-messages.js'
import { MemberNews, groupOf, sameList } from './member-news.js'
import { WITNESS_DEFAULTS } from './witness-options.js'
import type { WitnessComponents, WitnessLiveness, WitnessOptions } from './witness-options.js'
import { type Link, callsForLink, needsLink, newLink, quietSince } from './link-state.js'

/** Beat numbers whose sending time is kept (an older echo counts for nothing), and news items a beat carries at most. */
const SENT_KEPT = 64
const PIGGYBACK_MAX = 32

/**
 * Failure detection by witnesses (docs/design/membership-v2.md), pure: no I/O, every
 * timer on the injected clock. Each member names `witnesses` (K) in each of its epochs;
 * a member and each of its witnesses keep a link, on which each side beats every
 * `beatMs` and echoes the other's latest beat. A member holds its lease while a majority
 * of its group (itself and its witnesses) echoed it within `leaseMs`. A witness that hears
 * nothing on a link for `doubtMs` floods a doubt of the member in the member's epoch, and
 * from then on gives it no echo until the member enters a later epoch. A member is down
 * once, in some epoch, the witnesses that doubt it leave it no majority of its group. A
 * link that closed and whose redial was refused proves its peer dead at once.
 *
 * A member leaves an epoch when it is doubted in it, or to name other witnesses (members
 * joined or went: `setWitnesses`): it proposes the next epoch, with its list, on its
 * beats; every witness that does not doubt it promises no doubt below the proposed one;
 * once a majority of its group promised, it enters it and floods so, and every node drops
 * the doubts of older epochs. While it proposes other witnesses, its lease needs a
 * majority of both groups. Safe in any order of cuts, heals and losses: a doubter stopped counting
 * toward the lease before its doubt (`leaseMs` < `doubtMs`) and never counts again, and the next
 * epoch needs a majority that promised no doubt in this one, so an old epoch's doubts stay a
 * minority everywhere. A member held down in an epoch can enter no later one: it is down for its
 * generation, learns it (`heldDown`), must stop serving, and comes back only as a new generation
 * (`forget` on every other node, `reincarnated` on it). Witnesses it means to name and has not
 * proposed yet are told so on its beats (`want`): they link back and echo it.
 *
 * A witness doubts only while it holds its own lease (a majority of its own group echoes
 * it), only a member it has heard, and never in the sweep that follows a stall of its own:
 * a node cut off or stalled is the likelier broken one, and says nothing of others.
 */
export class WitnessDetector {
  private readonly c: WitnessComponents
  private readonly o: WitnessOptions
  private readonly links = new Map<string, Link>()
  private readonly news = new Map<string, MemberNews>()
  /** News passed on lately, by key, and when: the same news again is dropped. */
  private readonly seen = new Map<string, number>()
  /** News that rides the next beats: how many more beats each, and the link it came on (not sent back). */
  private riding: Array<{ update: WitnessUpdate, left: number, via: string | undefined }> = []
  private readonly verdicts = new Map<string, WitnessLiveness>()
  /** When each peer with no link here was last told this node's epoch (see `receive`). */
  private readonly cued = new Map<string, number>()
  private readonly sentAt = new Float64Array(SENT_KEPT)
  private beatSeq = -1
  /** This node's epoch, and the witnesses it names in it. */
  private epoch = 0
  private list: readonly string[]
  /** The witnesses this node means to name (`setWitnesses`; its epoch's until told otherwise). */
  private wanted: readonly string[]
  /** The epoch this node proposes to enter, its list, and the witnesses that promised it. */
  private proposal: { epoch: number, witnesses: readonly string[], promised: Set<string> } | undefined
  /** Lists proposed since this node's entry and superseded: their witnesses may doubt it there, so its lease and next entry need a majority of each. */
  private superseded: Array<readonly string[]> = []
  private lastSweep: number
  private lastForget = -Infinity
  private knownDownAt: number | undefined
  private readonly timers: { beat?: TimerHandle, sweep?: TimerHandle } = {}
  /** Messages sent and received, doubts raised, and epochs entered naming other witnesses (the model's figures). */
  readonly counts = { sent: 0, received: 0, doubts: 0, renamed: 0 }

  constructor (components: WitnessComponents, options: Partial<WitnessOptions> = {}) {
    this.c = components
    this.o = { ...WITNESS_DEFAULTS, ...options }
    if (!(this.o.leaseMs < this.o.doubtMs)) throw new RangeError(`leaseMs (${this.o.leaseMs}) must be below doubtMs (${this.o.doubtMs})`)
    this.list = this.wanted = components.members.get(components.self)?.witnesses ?? []
    for (const peer of components.links ?? this.list) this.linkTo(peer)
    this.lastSweep = components.clock.monotonic()
  }

  /** Starts beating and sweeping. */
  start (): void {
    const beat = (): void => {
      this.beat()
      this.timers.beat = this.c.clock.setTimeout(beat, this.o.beatMs)
    }
    const sweep = (): void => {
      this.sweep()
      this.timers.sweep = this.c.clock.setTimeout(sweep, this.o.sweepMs)
    }
    this.lastSweep = this.c.clock.monotonic()
    beat()
    this.timers.sweep = this.c.clock.setTimeout(sweep, this.o.sweepMs)
  }

  stop (): void {
    for (const t of [this.timers.beat, this.timers.sweep]) if (t !== undefined) this.c.clock.clearTimeout(t)
    this.timers.beat = this.timers.sweep = undefined
  }

  /** This node's verdict on `peer`. */
  liveness (peer: string): WitnessLiveness {
    return this.verdicts.get(peer) ?? 'alive'
  }

  /** The peers this node keeps links to. */
  linked (): string[] { return [...this.links.keys()] }

  /** What this node knows of the members it holds suspect or down, as news, for a node that missed it as it flooded. */
  known (): WitnessUpdate[] { return [...this.news].flatMap(([p, n]) => this.liveness(p) === 'alive' ? [] : n.updates(p, this.c.members.get(p)?.gen ?? -1, this.c.self)) }

  /** The witnesses this node names now (its epoch's). */
  get witnesses (): readonly string[] { return this.list }

  /** Members not held down whose current or proposed epoch names this node: one that leaves waits for them to name others. */
  namedBy (): string[] { return [...this.news].filter(([p, n]) => p !== this.c.self && !n.dead && this.liveness(p) !== 'down' && n.epochsNaming(this.c.self).length > 0).map(([p]) => p) }

  /**
   * True while a majority of this node's group echoed it within `leaseMs`, and of each group
   * proposed since its entry (any may doubt it there); never once it learnt it is held down.
   */
  holdsLease (now = this.c.clock.monotonic()): boolean {
    return this.knownDownAt === undefined && this.groups().every(list => this.echoed(list, now))
  }

  /** The lists whose groups this node's lease and next entry need a majority of: its epoch's, and those proposed since. */
  private groups (): Array<readonly string[]> {
    const p = this.proposal
    return [this.list, ...this.superseded, ...(p === undefined ? [] : [p.witnesses])]
  }

  /** Whether a majority of the group of `list` (this node included) echoed it within `leaseMs`. */
  private echoed (list: readonly string[], now: number): boolean {
    return isMajority(groupOf(this.c.self, list), m => m.peerId === this.c.self || (this.links.get(m.peerId)?.echoedUntil ?? -Infinity) > now)
  }

  /**
   * The witnesses this node should name (members joined or went): links to them start now,
   * and once a majority of the group they make echoes this node, it proposes an epoch
   * naming them.
   */
  setWitnesses (witnesses: readonly string[]): void {
    this.wanted = witnesses.filter(w => w !== this.c.self)
    for (const w of this.wanted) this.linkTo(w)
    this.propose(this.c.clock.monotonic())
  }

  /** A message from `from` on its link (a member that beats this node is linked with). */
  receive (from: string, m: WitnessMessage): void {
    const link = this.links.get(from) ?? (this.c.members.has(from) && callsForLink(this.c.self, from, [this.wanted, ...this.groups()], this.news.get(from), m) ? this.linkTo(from) : undefined)
    if (link === undefined) {
      // a link this side dropped, whose peer has not yet: its news still counts, and it
      // learns this node's epoch and list (once a doubt deadline), which may not name it
      // any more: a peer that took an older list for the latest would wait on it for ever
      for (const u of m.updates) this.learn(u, from)
      const now = this.c.clock.monotonic()
      if (this.c.members.has(from) && now - (this.cued.get(from) ?? -Infinity) >= this.o.doubtMs) {
        this.cued.set(from, now)
        this.c.send(from, { t: 'beat', seq: Math.max(0, this.beatSeq), echo: -1, miss: false, gen: this.c.members.get(this.c.self)?.gen ?? 0, epoch: this.epoch, witnesses: this.list, updates: [] })
      }
      return
    }
    this.counts.received++
    const now = this.c.clock.monotonic()
    link.lastHeard = now
    link.closed = false
    if (m.t === 'beat') {
      if (m.seq > link.theirBeat) link.theirBeat = m.seq
      if (m.echo >= 0 && m.echo <= this.beatSeq && this.beatSeq - m.echo < SENT_KEPT) {
        link.echoedUntil = Math.max(link.echoedUntil, this.sentAt[m.echo % SENT_KEPT] + this.o.leaseMs)
      }
      // its epoch, and its proposal (a beat from before it came back as a new generation says nothing of the new one)
      if (m.gen === this.c.members.get(from)?.gen) {
        const n = this.newsOf(from)
        n.enter(m.epoch, m.witnesses)
        link.wantsList = m.needList === true
        link.wanted = m.want === true
        if (m.propose !== undefined) {
          n.heardOf(m.propose.epoch, m.propose.witnesses)
          // promised, unless this side doubts it in its current epoch
          if (m.propose.epoch > link.promised && !this.doubts(from, link)) link.promised = m.propose.epoch
        }
      }
    }
    // the news first: a doubt it carries may hold this node down, and then its promise enters nothing
    for (const u of m.updates) this.learn(u, from)
    if (m.t === 'beat') {
      if (m.ack !== undefined && m.ackGen === this.c.members.get(this.c.self)?.gen && this.proposal !== undefined && m.ack >= this.proposal.epoch) {
        this.proposal.promised.add(from)
        this.enter()
      }
      // it misses this node: an answer now, not at the next beat (none before this node beats at all)
      if (m.miss && this.beatSeq >= 0) this.sendBeat(from, link, now)
    }
    this.judge(from, now)
  }

  /** The connection to `peer` closed: suspect until it is heard again (anything it sends reopens the link here). Beats go on to it: each is the owner's cue to open it again. */
  linkClosed (peer: string): void {
    const link = this.links.get(peer)
    if (link === undefined) return
    link.closed = true
    this.judge(peer, this.c.clock.monotonic())
  }

  /** A redial of `peer` was refused: its process is gone; every node learns it. */
  refused (peer: string): void {
    const gen = this.c.members.get(peer)?.gen
    if (gen === undefined) return
    this.learn({ k: 'dead', peer, gen, from: this.c.self }, undefined)
  }

  /**
   * `peer` is back as a new generation (its entry in `members` says which): what this node
   * knew of the old one goes, and its link starts afresh.
   */
  forget (peer: string): void {
    this.news.delete(peer)
    const link = this.links.get(peer)
    // (its echoes of this node's beats still count toward this node's lease; its beat numbers start again)
    if (link !== undefined) Object.assign(link, { doubted: new Set(), promised: -1, lastDoubt: -Infinity, theirBeat: -1, wantsList: false, wanted: false })
    this.judge(peer, this.c.clock.monotonic())
  }

  /** `peer`'s generation is over here (it left, or was held down and is forgotten): nothing of it is kept, and its link goes. */
  drop (peer: string): void {
    for (const known of [this.news, this.verdicts, this.cued]) known.delete(peer)
    if (this.links.delete(peer)) this.c.unlinked?.(peer)
  }

  /** This node is back as a new generation (its entry in `members` says which): epoch 0, with the witnesses it names there. */
  reincarnated (): void {
    this.news.delete(this.c.self)
    this.epoch = 0
    this.list = this.wanted = this.c.members.get(this.c.self)?.witnesses ?? []
    this.proposal = this.knownDownAt = undefined
    this.superseded = []
    // echoes of the last generation's beats count for nothing toward this one's lease
    for (const link of this.links.values()) link.echoedUntil = -Infinity
    for (const w of this.list) this.linkTo(w)
  }

  private linkTo (peer: string): Link {
    let link = this.links.get(peer)
    if (link === undefined && peer !== this.c.self) {
      link = newLink(this.c.clock.monotonic())
      this.links.set(peer, link)
      this.c.linked?.(peer)
    }
    return link as Link
  }

  private beat (): void {
    const now = this.c.clock.monotonic()
    this.beatSeq++
    this.sentAt[this.beatSeq % SENT_KEPT] = now
    // a closed link too: a beat to it is the owner's cue to open it again (its redial; news waits for the beats)
    for (const [peer, link] of this.links) if (this.news.get(peer)?.dead !== true) this.sendBeat(peer, link, now)
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
    const n = this.news.get(peer)
    const gen = this.c.members.get(peer)?.gen
    const down = this.verdicts.get(peer) === 'down'
    const doubted = this.doubts(peer, link)
    // a peer this side doubts in its epoch hears so on every beat: it cannot enter the
    // next one without learning it, and this side gives it no echo until it does
    if (doubted && n !== undefined && gen !== undefined) {
      for (const seq of link.doubted) {
        const witnesses = n.listOf(seq)
        if (witnesses !== undefined) updates.push({ k: 'doubt', peer, gen, seq, from: this.c.self, witnesses })
      }
    }
    // a peer held down here gets no echo (nothing toward its lease while this node may take
    // over its work) and, on every beat, the doubts that hold it down: it learns it is down
    // even when the flood went by while it was cut off
    if (down && n !== undefined && gen !== undefined && !n.dead) {
      for (const [seq, from] of n.doubts) {
        const witnesses = n.listOf(seq)
        if (witnesses !== undefined) for (const f of from) if (updates.length < PIGGYBACK_MAX) updates.push({ k: 'doubt', peer, gen, seq, from: f, witnesses })
      }
    }
    const beat: WitnessBeat = {
      t: 'beat',
      seq: Math.max(0, this.beatSeq),
      gen: this.c.members.get(this.c.self)?.gen ?? 0,
      echo: down || doubted ? -1 : link.theirBeat,
      miss: now - link.lastHeard >= this.o.missMs,
      epoch: this.epoch,
      // (an epoch's list comes with its entry's news; a peer that missed it asks)
      ...(link.wantsList ? { witnesses: this.list } : {}),
      ...(n !== undefined && n.listOf(n.seq) === undefined ? { needList: true } : {}),
      ...(this.wanted.includes(peer) && !this.groups().some(l => l.includes(peer)) ? { want: true as const } : {}),
      ...(this.proposal !== undefined ? { propose: { epoch: this.proposal.epoch, witnesses: this.proposal.witnesses } } : {}),
      ...(link.promised > (n?.seq ?? 0) && gen !== undefined ? { ack: link.promised, ackGen: gen } : {}),
      updates
    }
    link.lastSent = now
    this.counts.sent++
    this.c.send(peer, beat)
  }

  /** Whether this node doubts `peer` in the peer's current epoch or a later one (as known here): no echo and no promise for it then. */
  private doubts (peer: string, link: Link): boolean {
    const seq = this.news.get(peer)?.seq ?? 0
    for (const e of link.doubted) {
      if (e >= seq) return true
      // entered past: that doubt is void
      link.doubted.delete(e)
    }
    return false
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
    } else if (u.k === 'alive') {
      n.enter(u.seq, u.witnesses)
    } else {
      n.doubt(u.seq, u.from, u.witnesses)
      // a doubt of an epoch the member has left (known here, as an entry told only to its
      // links may be): every node that holds that doubt must learn the entry that voids it
      const list = n.listOf(n.seq)
      if (u.seq < n.seq && list !== undefined) this.learn({ k: 'alive', peer: u.peer, gen: u.gen, seq: n.seq, witnesses: list }, undefined)
    }
    // (an entry told to the member's links alone goes no further: see `enter`)
    const near = u.k === 'alive' && u.near === true && via !== undefined
    if (!near) {
      for (const [peer, link] of this.links) if (peer !== via && !link.closed) { this.counts.sent++; this.c.send(peer, { t: 'news', updates: [u] }) }
      this.riding.push({ update: u, left: this.o.piggyback, via })
    }
    if (u.peer === this.c.self) this.propose(now)
    this.judge(u.peer, now)
  }

  /**
   * Doubts of this node in its epoch or a later one: held down by them, it learns it is down
   * (others may take over its work: it must stop serving) and stays so for this generation.
   * Otherwise, doubted, or meaning to name other witnesses (once a majority of their group
   * echoes it), it proposes the epoch after the latest doubted or proposed, and enters it
   * once a majority of its group promised. Looked at as news comes, and at every sweep.
   */
  private propose (now: number): void {
    if (this.knownDownAt !== undefined) return
    const self = this.c.self
    const mine = this.news.get(self)
    // held down; or so many of one of its groups are dead that no majority of it can ever
    // echo (nor promise another epoch): either way it can serve no more in this generation
    const dead = (m: { peerId: string }): boolean => this.news.get(m.peerId)?.dead === true
    const orphaned = this.groups().some(list => !isMajority(groupOf(self, list), m => m.peerId === self || !dead(m)))
    if (orphaned || mine?.isDown(self) === true) {
      this.knownDownAt = now
      this.proposal = undefined
      this.c.heldDown?.()
      return
    }
    const p = this.proposal
    const latest = p?.witnesses ?? this.list
    // doubts the pending proposal does not void (it voids those below its epoch)
    const fresh = [...(mine?.doubts.keys() ?? [])].filter(e => e >= (p?.epoch ?? this.epoch))
    // other witnesses, once a majority of their group echoes this node: its lease holds through the change
    const change = !sameList(this.wanted, latest) && this.echoed(this.wanted, now)
    if (fresh.length === 0 && !change) return
    if (p !== undefined && !sameList(p.witnesses, this.list) && !this.superseded.some(l => sameList(l, p.witnesses))) this.superseded.push(p.witnesses)
    const epoch = Math.max(this.epoch, p?.epoch ?? 0, ...fresh) + 1
    this.proposal = { epoch, witnesses: change ? this.wanted : latest, promised: new Set() }
  }

  /**
   * Enters the proposed epoch once a majority of each group that may doubt this node below
   * it (its epoch's, and those proposed since) promised it no such doubt; every node learns it.
   */
  private enter (): void {
    const p = this.proposal
    const gen = this.c.members.get(this.c.self)?.gen
    if (p === undefined || gen === undefined || this.knownDownAt !== undefined) return
    const promised = (list: readonly string[]): boolean => isMajority(groupOf(this.c.self, list), m => m.peerId === this.c.self || p.promised.has(m.peerId))
    if (!promised(this.list) || !this.superseded.every(promised)) return
    this.proposal = undefined
    this.superseded = []
    this.epoch = p.epoch
    if (!sameList(p.witnesses, this.list)) this.counts.renamed++
    this.list = p.witnesses
    // every node learns it when it voids doubts; an entry only to rename goes to this node's
    // links alone (the promises keep an old epoch's doubts a minority, heard of or not), so
    // renames as a hundred nodes start flood nothing. (Learning it looks at the doubts again.)
    const voids = (this.news.get(this.c.self)?.doubts.size ?? 0) > 0
    this.learn({ k: 'alive', peer: this.c.self, gen, seq: p.epoch, witnesses: p.witnesses, ...(voids ? {} : { near: true as const }) }, undefined)
  }

  private newsOf (peer: string): MemberNews {
    let n = this.news.get(peer)
    if (n === undefined) this.news.set(peer, n = new MemberNews(this.c.members.get(peer)?.witnesses))
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
      for (const [peer, at] of this.cued) if (now - at >= this.o.doubtMs) this.cued.delete(peer)
      this.prune(now)
    }
    this.propose(now)
    let lease: boolean | undefined
    for (const [peer, link] of this.links) {
      const n = this.newsOf(peer)
      // a peer missed: asked four times a beat, so that loss alone rarely silences a link for the doubt deadline
      if (!n.dead && link.lastHeard > -Infinity && now - link.lastHeard >= this.o.missMs && now - link.lastSent >= this.o.beatMs / 4) this.sendBeat(peer, link, now)
      if (!stalled && !n.dead && now - quietSince(link) >= this.o.doubtMs && now - link.lastDoubt >= this.o.doubtMs) {
        // a witness of it in some epoch from its current one on doubts it in each epoch that
        // names this node, and in the latest it knows of (named there or not: its doubt
        // carries that epoch's list to the witnesses that missed the proposal); never below
        // an epoch it promised
        const named = n.epochsNaming(this.c.self)
        const gen = this.c.members.get(peer)?.gen
        const epochs = named.length === 0 ? [] : [...new Set([n.latest(), ...named])].filter(e => e >= link.promised && !link.doubted.has(e))
        if (epochs.length > 0 && gen !== undefined && (lease ??= this.holdsLease(now))) {
          link.lastDoubt = now
          for (const epoch of epochs) {
            const witnesses = n.listOf(epoch)
            if (witnesses === undefined) continue
            this.counts.doubts++
            link.doubted.add(epoch)
            this.learn({ k: 'doubt', peer, gen, seq: epoch, from: this.c.self, witnesses }, undefined)
          }
        }
      }
      this.judge(peer, now)
    }
  }

  /** Whether either side needs the link to `peer`, as far as this side knows (see `needsLink`). */
  private needs (peer: string): boolean {
    return needsLink(this.c.self, peer, [this.wanted, ...this.groups()], this.news.get(peer)) || this.links.get(peer)?.wanted === true
  }

  /**
   * Links neither side needs (see `needs`) for three doubt deadlines: dropped (both sides beat
   * until then: silence is no cue). A peer that still needs it beats again, which reopens it.
   */
  private prune (now: number): void {
    for (const [peer, link] of this.links) {
      if (this.needs(peer)) {
        link.unneeded = undefined
        continue
      }
      link.unneeded ??= now
      if (now - link.unneeded < 3 * this.o.doubtMs) continue
      this.links.delete(peer)
      this.c.unlinked?.(peer)
    }
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
    if (n !== undefined && n.isDown(peer)) return 'down'
    const link = this.links.get(peer)
    // (the silence of a link neither side needs, which the peer may have dropped already, says nothing)
    if (link !== undefined && (link.closed || now - link.lastHeard >= this.o.missMs) && link.lastHeard > -Infinity && this.needs(peer)) return 'suspect'
    return (n?.doubts.size ?? 0) > 0 ? 'suspect' : 'alive'
  }
}
