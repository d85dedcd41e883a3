import { murmur3, peerTag } from '@simplepool/core'
import type { Clock, Random, TimerHandle } from '@simplepool/core'
import { ROSTER_BUCKETS, ROSTER_CHUNK, ROSTER_PULL_MAX } from './roster-messages.js'
import type { RosterMessage, RosterPull, RosterRecord, RosterVersion } from './roster-messages.js'
import type { WitnessedMember } from './witness-options.js'

/** The timing of a roster, in ms. */
export interface RosterOptions {
  /** Every this often, a digest goes to one link peer picked at random (anti-entropy). */
  pushPullMs: number
  /** A `gone` record is kept this long, so late copies of the generation it ends stay out. */
  goneKeptMs: number
}

export const ROSTER_DEFAULTS: RosterOptions = {
  // a record lost on every link of a flood (rare: it goes to every link at once) is found
  // within this long; a joiner's first snapshot does not wait for it
  pushPullMs: 5_000,
  // ten times the time a down member stays in views before it is forgotten
  goneKeptMs: 600_000
}

/** What a roster is given. */
export interface RosterComponents {
  /** This node's record, as it starts. */
  readonly self: RosterRecord
  readonly clock: Clock
  readonly random: Random
  /** The peers this node keeps links to now: news goes to all of them, digests to one. */
  peers: () => readonly string[]
  send: (peer: string, message: RosterMessage) => void
  /** A member's record changed (a new member, a new version, a generation over: `gone`). */
  changed?: (record: RosterRecord, previous: RosterRecord | undefined) => void
  /** The first answer to `join` is complete: this node knows the members its bootstrap peer knew. */
  synced?: () => void
  /** This node sent `peer` a digest (a new link, or anti-entropy) or answered its join: the owner may tell it more (the detector's news). */
  compared?: (peer: string) => void
  /** A member says this node's generation is over (it was held down and forgotten while cut off): it must come back as a new one. */
  buried?: () => void
}

/**
 * The member list, spread over the witness links (docs/design/membership-v2.md): each
 * member's record, versioned by generation and seq, with no I/O. A member that changes its
 * record pushes it to its links, and each node that finds it newer than its own copy passes
 * it on to its other links, so one change costs each node a message per link, whatever
 * the size of the cluster. A joiner pulls the whole list from one member it reached (a
 * snapshot), and every `pushPullMs` each node sends one link peer a digest of its versions
 * in 64 buckets: the peer pulls the buckets that differ, which finds what a flood missed.
 * A generation that is over (the member left, or was held down and forgotten) is kept as a
 * `gone` record for `goneKeptMs`, so that a late copy does not bring the member back.
 */
export class Roster {
  private readonly c: RosterComponents
  private readonly o: RosterOptions
  private readonly records = new Map<string, { record: RosterRecord, at: number }>()
  private readonly hashes = new Array<number>(ROSTER_BUCKETS).fill(0)
  private readonly witnessed = new Map<string, WitnessedMember>()
  private own: RosterRecord
  /** The peers a join asked (an answer from any of them will do), and whether this node has the list to answer joins itself. */
  private readonly asked = new Set<string>()
  private ready = false
  private timer: TimerHandle | undefined
  /** Messages sent and records received, for the model's figures. */
  readonly counts = { sent: 0, records: 0 }

  constructor (components: RosterComponents, options: Partial<RosterOptions> = {}) {
    this.c = components
    this.o = { ...ROSTER_DEFAULTS, ...options }
    this.own = components.self
    this.store(this.own)
  }

  /** Starts the anti-entropy exchanges. */
  start (): void {
    const tick = (): void => {
      this.pushPull()
      this.timer = this.c.clock.setTimeout(tick, this.o.pushPullMs * (0.5 + this.c.random.next()))
    }
    this.timer = this.c.clock.setTimeout(tick, this.o.pushPullMs * this.c.random.next())
  }

  stop (): void {
    if (this.timer !== undefined) this.c.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  /** This node's record. */
  get self (): RosterRecord {
    return this.own
  }

  /** A member's record, while its generation is not over. */
  get (peerId: string): RosterRecord | undefined {
    const r = this.records.get(peerId)?.record
    return r?.gone === true ? undefined : r
  }

  /** Every member whose generation is not over, this node included. */
  * members (): IterableIterator<RosterRecord> {
    for (const { record } of this.records.values()) if (record.gone !== true) yield record
  }

  /** How many members the roster holds (this node included). */
  get size (): number {
    return this.witnessed.size
  }

  /** The members as the witness detector reads them: generation and the witnesses named at join. */
  get witnessedMembers (): ReadonlyMap<string, WitnessedMember> {
    return this.witnessed
  }

  /** Changes this node's record (a status, targets, addresses; or `gone`: it leaves) and pushes it to every link. */
  update (change: Partial<Pick<RosterRecord, 'addresses' | 'status' | 'pools' | 'gone'>>): void {
    this.own = { ...this.own, ...change, seq: this.own.seq + 1 }
    this.store(this.own)
    this.push(this.own, undefined)
  }

  /** This node comes back as a new generation, naming `witnesses`: a new record, pushed to every link. */
  reincarnate (gen: number, witnesses: readonly string[]): void {
    const { gone: _, ...rest } = this.own
    // (the same generation named afresh as it joins takes a new seq: a copy of the record with the old list may be out)
    this.own = { ...rest, gen, seq: gen === this.own.gen ? this.own.seq + 1 : 0, witnesses }
    this.store(this.own)
    this.push(this.own, undefined)
  }

  /** Asks `peer` for every record it holds: `synced` once the whole answer of any peer asked arrived. */
  join (peer: string): void {
    this.asked.add(peer)
    this.sendTo(peer, { t: 'pull', have: [] })
  }

  /** This node has the member list (it synced, or started the cluster): it answers joins from now on. */
  answerJoins (): void {
    this.ready = true
    this.asked.clear()
  }

  /**
   * Ends a member's generation here (it was held down, and its time in views is over): its
   * record is kept as `gone`. Each node buries on its own verdict, so nothing is pushed;
   * anti-entropy carries it to a node that still holds the member.
   */
  bury (peerId: string, gen: number): void {
    const r = this.records.get(peerId)?.record
    if (r === undefined || r.gen !== gen || r.gone === true || peerId === this.own.peerId) return
    this.take({ ...r, gone: true })
  }

  /** A new link to `peer`: the two sides compare their lists at once, so a member either side missed while the links formed is found now, not at the next exchange. */
  greet (peer: string): void {
    this.sendTo(peer, { t: 'digest', hashes: [...this.hashes] })
    this.c.compared?.(peer)
  }

  /** A message from `from`, on its link. */
  receive (from: string, m: RosterMessage): void {
    if (m.t === 'records') {
      // news is passed on; a pull's answer is not (the asker alone lacked it)
      let over: RosterRecord[] | undefined
      for (const r of m.records) {
        this.counts.records++
        if (this.take(r)) {
          if (m.answer !== true) this.push(r, from)
          continue
        }
        // the sender holds live a generation that is over here: it learns so (it may be that
        // member itself, back from a cut longer than the others kept it down)
        const held = this.records.get(r.peerId)?.record
        if (held?.gone === true && r.gone !== true && compare(versionOf(held), versionOf(r)) > 0) (over ??= []).push(held)
      }
      if (over !== undefined) this.sendTo(from, { t: 'records', records: over, answer: true })
      if (m.done === true && this.asked.has(from)) {
        this.asked.clear()
        this.c.synced?.()
      }
    } else if (m.t === 'digest') {
      const buckets: number[] = []
      for (let b = 0; b < ROSTER_BUCKETS; b++) if ((m.hashes[b] ?? 0) !== this.hashes[b]) buckets.push(b)
      if (buckets.length > 0) this.pull(from, buckets, false)
    } else {
      this.answer(from, m)
    }
  }

  /** Sends `from` what `pull` lacks; pulls back what it holds newer, unless it is itself an answer. */
  private answer (from: string, pull: RosterPull): void {
    // a node without the list yet would hand a joiner a list of one: the joiner asks another
    if (pull.buckets === undefined && !this.ready) return
    const buckets = pull.buckets === undefined ? undefined : new Set(pull.buckets)
    const theirs = new Map<string, RosterVersion>()
    for (const v of pull.have) theirs.set(v.p, v)
    const out: RosterRecord[] = []
    let theyHaveNewer = false
    for (const { record } of this.records.values()) {
      if (buckets !== undefined && !buckets.has(bucketOf(record.peerId))) continue
      const v = theirs.get(record.peerId)
      // a generation over goes only to a node that holds it live: one that never knew it, or
      // forgot it, needs nothing (and sending it back would keep it for ever)
      const newer = v === undefined || compare(versionOf(record), v) > 0
      if (newer && (record.gone !== true || v !== undefined)) out.push(record)
      else if (v !== undefined && compare(v, versionOf(record)) > 0) theyHaveNewer = true
      theirs.delete(record.peerId)
    }
    // what they named and this node has never held
    if (theirs.size > 0) theyHaveNewer = true
    for (let i = 0; i < out.length || i === 0; i += ROSTER_CHUNK) {
      const last = i + ROSTER_CHUNK >= out.length
      this.sendTo(from, { t: 'records', records: out.slice(i, i + ROSTER_CHUNK), answer: true, ...(last ? { done: true } : {}) })
    }
    if (pull.buckets === undefined) this.c.compared?.(from)
    if (theyHaveNewer && pull.answer !== true && pull.buckets !== undefined) {
      this.pull(from, pull.buckets, true)
    }
  }

  /** Pulls `buckets` from `peer`, with the versions this node holds there: as several pulls when one would carry more than `ROSTER_PULL_MAX`. */
  private pull (peer: string, buckets: readonly number[], answer: boolean): void {
    const byBucket = new Map<number, RosterVersion[]>(buckets.map(b => [b, []]))
    for (const { record } of this.records.values()) if (record.gone !== true) byBucket.get(bucketOf(record.peerId))?.push(versionOf(record))
    let have: RosterVersion[] = []
    let group: number[] = []
    const flush = (): void => {
      if (group.length > 0) this.sendTo(peer, { t: 'pull', have, buckets: group, ...(answer ? { answer: true as const } : {}) })
      have = []
      group = []
    }
    for (const [b, versions] of byBucket) {
      if (group.length > 0 && have.length + versions.length > ROSTER_PULL_MAX) flush()
      group.push(b)
      // (one bucket past the bound alone: 64,000 members; the codec refuses it, and the design is for fewer)
      have = have.concat(versions)
    }
    flush()
  }

  /** A digest to one link peer, and the end of `gone` records kept long enough. */
  private pushPull (): void {
    const now = this.c.clock.monotonic()
    for (const [peerId, { record, at }] of this.records) {
      if (record.gone === true && now - at >= this.o.goneKeptMs && peerId !== this.own.peerId) {
        this.records.delete(peerId)
        this.rehash(record, undefined)
      }
    }
    const peers = this.c.peers()
    if (peers.length === 0) return
    const peer = peers[Math.floor(this.c.random.next() * peers.length)]
    this.sendTo(peer, { t: 'digest', hashes: [...this.hashes] })
    this.c.compared?.(peer)
  }

  /** Keeps `r` when it is newer than this node's copy; true then. A record of this node's own is never taken from others. */
  private take (r: RosterRecord): boolean {
    if (r.peerId === this.own.peerId) {
      if (r.gone === true && r.gen === this.own.gen && this.own.gone !== true) this.c.buried?.()
      return false
    }
    const held = this.records.get(r.peerId)?.record
    if (held !== undefined && compare(versionOf(r), versionOf(held)) <= 0) return false
    this.store(r)
    this.c.changed?.(r, held)
    return true
  }

  private store (r: RosterRecord): void {
    const held = this.records.get(r.peerId)?.record
    this.records.set(r.peerId, { record: r, at: this.c.clock.monotonic() })
    this.rehash(held, r)
    if (r.gone === true) this.witnessed.delete(r.peerId)
    else if (held?.gen !== r.gen || held.witnesses !== r.witnesses || !this.witnessed.has(r.peerId)) this.witnessed.set(r.peerId, { gen: r.gen, witnesses: r.witnesses })
  }

  private rehash (before: RosterRecord | undefined, after: RosterRecord | undefined): void {
    const r = after ?? before
    if (r === undefined) return
    const b = bucketOf(r.peerId)
    let h = this.hashes[b]
    if (before !== undefined) h = (h - hashOf(before)) >>> 0
    if (after !== undefined) h = (h + hashOf(after)) >>> 0
    this.hashes[b] = h
  }

  private push (r: RosterRecord, via: string | undefined): void {
    for (const peer of this.c.peers()) if (peer !== via) this.sendTo(peer, { t: 'records', records: [r] })
  }

  private sendTo (peer: string, m: RosterMessage): void {
    this.counts.sent++
    this.c.send(peer, m)
  }
}

function versionOf (r: RosterRecord): RosterVersion {
  return r.gone === true ? { p: r.peerId, g: r.gen, s: r.seq, x: true } : { p: r.peerId, g: r.gen, s: r.seq }
}

/** Later generation first; within one, the record that ends it; then the higher seq. */
function compare (a: RosterVersion, b: RosterVersion): number {
  if (a.g !== b.g) return a.g - b.g
  if ((a.x === true) !== (b.x === true)) return a.x === true ? 1 : -1
  return a.s - b.s
}

function bucketOf (peerId: string): number {
  return peerTag(peerId) % ROSTER_BUCKETS
}

/** A record's part of its bucket's hash; a `gone` one has none (see `answer`: it goes only where the member is held live). */
function hashOf (r: RosterRecord): number {
  if (r.gone === true) return 0
  return murmur3(`${r.peerId}\u0000${r.gen}\u0000${r.seq}\u0000${r.gone === true ? 1 : 0}`)
}
