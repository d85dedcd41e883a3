/**
 * The membership model: the witness failure detector (`WitnessDetector` of
 * `@simplepool/mesh`, docs/design/membership-v2.md) alone, on N simulated nodes in
 * virtual time, at sizes no machine runs as processes (1,000, 10,000). The network
 * delivers each message after a seeded delay, or loses it; faults: one node killed (its
 * links close, and a redial of it is refused), one hung (it sends and takes nothing, no
 * link closes), one cut off (it runs, but every message to or from it is lost), short
 * pauses of random nodes (their timers and input wait), message loss, links cut for a
 * while at random (`flapsPerSecond`), partitions of a random part of the nodes
 * (`partitionsPerMinute`), nodes that join and leave (`joinsPerSecond`,
 * `leavesPerSecond`: every member then names its witnesses anew); later the hung node
 * resumes and the cut heals. It measures how long until every other node holds each of
 * the three down, how many times a node held down a member that was none of them, nor one
 * that left, or the cut-off node held anyone down (false downs), whether a node ever held
 * its lease while any node held it down (never, if the rules are right), how long after
 * the heal until nobody holds the two down, how many times a running node was without its
 * lease, whether the cut-off node lost its own, whether members came to name the
 * witnesses they mean to, and the messages each node sends a second. What the model
 * leaves out: how the member list spreads and how a node joins by snapshot (every node
 * knows at once every member, its first witnesses, and the new generation of one that
 * learnt it was held down and came back).
 */
import { seededRandom } from '@simplepool/core'
import { WITNESS_DEFAULTS, WitnessDetector, witnessesOf } from '@simplepool/mesh'
import type { WitnessLiveness, WitnessMessage, WitnessOptions, WitnessedMember } from '@simplepool/mesh'
import { SimClock } from './sim-clock.js'
import type { NodeClock } from './sim-clock.js'

/** What a model run takes. */
export interface ModelOptions {
  nodes: number
  /** Virtual seconds after the warm-up; the kill and the hang come 2 s into them. @default 30 */
  seconds?: number
  seed?: number
  /** Share of messages lost, 0 to 1. @default 0 */
  loss?: number
  /** Pauses of 500 ms per node per minute, at random times. @default 0 */
  pausesPerMinute?: number
  /** Detector options (witnesses, beatMs, ...). */
  detector?: Partial<WitnessOptions>
  /** The hung node resumes, and the cut heals, this long after the fault (if before the end). @default 8000 */
  healAfterMs?: number
  /**
   * Links cut a second, at random times after the warm-up: each a random link of a random
   * node, both ways, silent (nothing closes), for 1 to 8 s. Cuts that come and go in every
   * order are where a rule that holds for one fault at a time may not. @default 0
   */
  flapsPerSecond?: number
  /**
   * Partitions a minute after the warm-up: at random times, a random fifth to half of the
   * nodes is cut off from the rest, both ways, for 2 to 8 s (one at a time). Groups on
   * either side keep their leases and judge what they cannot hear. @default 0
   */
  partitionsPerMinute?: number
  /** Nodes that join a second after the warm-up, each naming its witnesses among the members then; every member names anew (`setWitnesses`). @default 0 */
  joinsPerSecond?: number
  /** Nodes that leave a second after the warm-up (they stop; their links close and a redial is refused); every member names anew a second later. @default 0 */
  leavesPerSecond?: number
}

/** What a model run measured. */
export interface ModelResult {
  nodes: number
  seconds: number
  loss: number
  pausesPerMinute: number
  witnesses: number
  /** Ms from the kill until every other running node held the killed node down; NaN if some never did. */
  killDownMs: number
  /** Ms from the hang until every other running node held the hung node down; NaN if some never did. */
  hangDownMs: number
  /** Ms from the cut until every other running node held the cut-off node down; NaN if some never did. */
  cutDownMs: number
  /** Whether the cut-off node held its lease as the cut ended (or at the end): it must not (it serves nothing then). */
  cutHoldsLease: boolean
  /** Doubts the cut-off node raised of others while cut off, once its lease was gone: none (without its lease it vouches for nothing). */
  cutDoubts: number
  /** Times a node held down a member that was not killed, hung or cut off, or the cut-off node held anyone down. */
  falseDowns: number
  /** Times a node held a running member suspect (it recovers; down is what counts). */
  suspects: number
  /** Doubts raised by running nodes of running members: each floods the cluster, and its refutation too. */
  falseDoubts: number
  /** Samples (one a second per node) at which a node that ran throughout, and was not paused, did not hold its lease. */
  leaseLost: number
  /** Samples (every 100 ms) at which a node held its lease while some other node held it down (however stale that node's news, and whether or not it learnt it): must be 0. */
  downWhileLeased: number
  /** Times a node learnt it was held down and came back as a new generation. */
  rejoins: number
  /** Nodes that joined, and left, during the run (see `joinsPerSecond`, `leavesPerSecond`). */
  joined: number
  left: number
  /** Epochs entered that named other witnesses (joins and leaves change whom members name). */
  renamed: number
  /** Members whose witnesses, at the end, are not those they mean to name (a change stuck): 0 once things settle. */
  unsettled: number
  /** Ms from the heal until no node held the resumed or the healed node down; NaN if some still did at the end, or no heal came. */
  recoveredMs: number
  /** Messages sent per node per second over the run after the warm-up. */
  messagesPerNodePerSecond: number
  /** Wall-clock ms the run took. */
  wallMs: number
}

const WARMUP_MS = 5_000
const PAUSE_MS = 500
/** From learning it is held down until a node is back as a new generation (a join by snapshot). */
const REJOIN_MS = 500
/** How often the lease-against-down check looks. */
const CHECK_MS = 100

/** Runs the model once; deterministic for a seed. */
export async function runMembershipModel (opts: ModelOptions): Promise<ModelResult> {
  const started = performance.now()
  const n = opts.nodes
  if (!Number.isInteger(n) || n < 4) throw new RangeError(`the model needs at least 4 nodes, got ${n}`)
  const seconds = opts.seconds ?? 30
  const loss = opts.loss ?? 0
  const pausesPerMinute = opts.pausesPerMinute ?? 0
  const random = seededRandom(opts.seed ?? 1)
  const k = opts.detector?.witnesses ?? WITNESS_DEFAULTS.witnesses
  const clock = new SimClock()
  const ids = Array.from({ length: n }, (_, i) => `n${i}`)
  const members = new Map<string, WitnessedMember>()
  const watchedBy = new Map<string, string[]>()
  for (let i = 0; i < n; i++) {
    const witnesses = witnessesOf(ids[i], ids, k)
    members.set(ids[i], { gen: i + 1, witnesses })
    for (const w of witnesses) {
      let list = watchedBy.get(w)
      if (list === undefined) watchedBy.set(w, list = [])
      list.push(ids[i])
    }
  }
  /** The members every node names its witnesses among (churn only): all but those gone. */
  const live = new Set(ids)
  /** Nodes that left (see `leavesPerSecond`): held down, they are rightly so. */
  const departed = new Set<string>()
  const churn = (opts.joinsPerSecond ?? 0) > 0 || (opts.leavesPerSecond ?? 0) > 0
  const killed = ids[1]
  const hung = ids[2]
  const cut = ids[3]
  const victims = new Set([killed, hung, cut])
  /** The victims while they are out: held down, they are rightly so. */
  const stopped = new Set<string>()
  /** The killed node, and the cut-off one while cut: nothing to or from them arrives. (What is sent to the hung node waits for it, as TCP keeps it.) */
  const unreachable = new Set<string>()
  let cutDoubtsBefore = 0
  const clocks = new Map<string, NodeClock>()
  const detectors = new Map<string, WitnessDetector>()
  /** Every member names its witnesses anew among the live ones (churn: a join, a leave). */
  const rename = (): void => { for (const id of live) detectors.get(id)?.setWitnesses(witnessesOf(id, live, k)) }
  const linksOf = new Map<string, string[]>()
  /** Per victim, per observer: when it first held the victim down. */
  const downAt = new Map<string, Map<string, number>>([[killed, new Map()], [hung, new Map()], [cut, new Map()]])
  let falseDowns = 0
  let suspects = 0
  let sent = 0
  let counting = false
  /** Doubts of members that were none of the victims, by author, member and seq. */
  const falseDoubts = new Set<string>()
  /** Per node, the members it holds down now. */
  const downsBy = new Map<string, Set<string>>(ids.map(id => [id, new Set()]))
  /** Per member, how many nodes hold it down now. */
  const heldDown = new Map<string, number>()

  /** One side of the partition now (see `partitionsPerMinute`); undefined while there is none. */
  let side: Set<string> | undefined
  /** Links cut now (see `flapsPerSecond`), as 'a|b' with a < b, and how many cuts hold each. */
  const flapped = new Map<string, number>()
  const pairKey = (a: string, b: string): string => a < b ? `${a}|${b}` : `${b}|${a}`
  const deliver = (from: string, to: string, m: WitnessMessage): void => {
    if (counting) sent++
    if (unreachable.has(from) || unreachable.has(to)) return
    if (flapped.size > 0 && flapped.has(pairKey(from, to))) return
    if (side !== undefined && side.has(from) !== side.has(to)) return
    // a doubt goes out first from its author
    if (m.t === 'news') for (const u of m.updates) if (u.k === 'doubt' && u.from === from && !victims.has(u.peer) && !departed.has(u.peer)) falseDoubts.add(`${from}|${u.peer}|${u.seq}`)
    if (random.next() < loss) return
    const delay = 0.2 + random.next() * 0.8
    clocks.get(to)?.clock.setTimeout(() => { detectors.get(to)?.receive(from, m) }, delay)
  }
  const changed = (observer: string) => (peer: string, liveness: WitnessLiveness) => {
    const downs = downsBy.get(observer) as Set<string>
    if (liveness === 'down' && !downs.has(peer)) {
      downs.add(peer)
      heldDown.set(peer, (heldDown.get(peer) ?? 0) + 1)
    } else if (liveness !== 'down' && downs.delete(peer)) heldDown.set(peer, (heldDown.get(peer) ?? 1) - 1)
    if (liveness === 'down') {
      const victim = downAt.get(peer)
      // a node cut off from all cannot know who else is gone: any down it holds is false
      if (observer === cut && unreachable.has(cut) && !departed.has(peer)) falseDowns++
      else if (victim !== undefined && stopped.has(peer)) {
        if (!victim.has(observer)) victim.set(observer, clock.monotonic())
      } else if (!victims.has(peer) && !departed.has(peer)) falseDowns++
    } else if (liveness === 'suspect' && !stopped.has(peer)) suspects++
  }
  /**
   * A node that learnt it is held down comes back as a new generation, as a node whose
   * membership restarts would (its join is not modelled: every node learns the new
   * generation at once, and forgets what it knew of the old one).
   */
  const rejoin = (id: string): void => {
    const m = members.get(id)
    if (m === undefined || unreachable.has(id)) return
    rejoins++
    members.set(id, { gen: m.gen + n, witnesses: churn ? witnessesOf(id, live, k) : m.witnesses })
    for (const [other, d] of detectors) if (other !== id) d.forget(id)
    detectors.get(id)?.reincarnated()
  }
  let rejoins = 0
  const addNode = (id: string, links: string[]): WitnessDetector => {
    linksOf.set(id, links)
    const nodeClock = clock.forNode()
    clocks.set(id, nodeClock)
    downsBy.set(id, downsBy.get(id) ?? new Set())
    const detector = new WitnessDetector({
      self: id,
      clock: nodeClock.clock,
      members,
      links,
      send: (peer, m) => { deliver(id, peer, m) },
      changed: changed(id),
      heldDown: () => { nodeClock.clock.setTimeout(() => { rejoin(id) }, REJOIN_MS) }
    }, opts.detector)
    detectors.set(id, detector)
    return detector
  }
  for (const id of ids) addNode(id, [...new Set([...(members.get(id)?.witnesses ?? []), ...(watchedBy.get(id) ?? [])])])
  // the nodes start within one beat of each other, as processes would
  const beatMs = opts.detector?.beatMs ?? 500
  for (const id of ids) clocks.get(id)?.clock.setTimeout(() => { detectors.get(id)?.start() }, random.next() * beatMs)

  const end = WARMUP_MS + seconds * 1000
  const faultAt = WARMUP_MS + 2_000
  const healAt = faultAt + (opts.healAfterMs ?? 8_000)
  clock.setTimeout(() => { counting = true }, WARMUP_MS)
  clock.setTimeout(() => {
    // kill -9: nothing runs on it; its link peers see their connections close, and a redial refused
    stopped.add(killed)
    unreachable.add(killed)
    clocks.get(killed)?.kill()
    // (not on the cut-off node: a cut shows no close, and a redial across it times out)
    for (const peer of (linksOf.get(killed) ?? []).filter(p => p !== cut)) {
      clocks.get(peer)?.clock.setTimeout(() => { detectors.get(peer)?.linkClosed(killed) }, 1 + random.next())
      clocks.get(peer)?.clock.setTimeout(() => { detectors.get(peer)?.refused(killed) }, 3 + random.next())
    }
    if (churn) {
      clock.setTimeout(() => {
        live.delete(killed)
        rename()
      }, 1_000)
    }
    // SIGSTOP: it sends and takes nothing, and no connection closes (until SIGCONT, at the heal)
    stopped.add(hung)
    clocks.get(hung)?.pause(healAt < end ? healAt - faultAt : 1e12)
    // a cut: it runs on, and nothing reaches it or leaves it
    stopped.add(cut)
    unreachable.add(cut)
    cutDoubtsBefore = detectors.get(cut)?.counts.doubts ?? 0
  }, faultAt)
  // pauses of random running nodes, as long collections or a busy loop
  const pauses = Math.round(pausesPerMinute * n * (end / 60_000))
  for (let i = 0; i < pauses; i++) {
    const who = ids[Math.floor(random.next() * n)]
    clock.setTimeout(() => { if (!stopped.has(who)) clocks.get(who)?.pause(PAUSE_MS) }, random.next() * end)
  }
  const flaps = Math.round((opts.flapsPerSecond ?? 0) * seconds)
  for (let i = 0; i < flaps; i++) {
    const a = ids[Math.floor(random.next() * n)]
    const links = linksOf.get(a) ?? []
    if (links.length === 0) continue
    const key = pairKey(a, links[Math.floor(random.next() * links.length)])
    const at = WARMUP_MS + random.next() * seconds * 1000
    const lasts = 1_000 + random.next() * 7_000
    clock.setTimeout(() => { flapped.set(key, (flapped.get(key) ?? 0) + 1) }, at)
    clock.setTimeout(() => {
      const left = (flapped.get(key) ?? 1) - 1
      if (left > 0) flapped.set(key, left)
      else flapped.delete(key)
    }, at + lasts)
  }
  for (let i = 0; i < Math.round((opts.partitionsPerMinute ?? 0) * seconds / 60); i++) {
    const at = WARMUP_MS + random.next() * seconds * 1000
    const lasts = 2_000 + random.next() * 6_000
    const share = 0.2 + random.next() * 0.3
    clock.setTimeout(() => {
      if (side !== undefined) return
      const cutOff = new Set([...detectors.keys()].filter(() => random.next() < share))
      side = cutOff
      clock.setTimeout(() => { if (side === cutOff) side = undefined }, lasts)
    }, at)
  }
  // joins and leaves: every member then names its witnesses among the members it knows
  // (here: all, at once; the model leaves out how the membership spreads)
  let joined = 0
  // joins and leaves stop 5 s before the end, so that what they started can settle
  const churnMs = Math.max(1, seconds - 5) * 1000
  for (let i = 0; i < Math.round((opts.joinsPerSecond ?? 0) * seconds); i++) {
    clock.setTimeout(() => {
      const id = `j${joined++}`
      members.set(id, { gen: 10 * n + joined, witnesses: witnessesOf(id, live, k) })
      live.add(id)
      const d = addNode(id, [...(members.get(id)?.witnesses ?? [])])
      d.start()
      rename()
    }, WARMUP_MS + random.next() * churnMs)
  }
  for (let i = 0; i < Math.round((opts.leavesPerSecond ?? 0) * seconds); i++) {
    clock.setTimeout(() => {
      const candidates = [...live].filter(id => !victims.has(id) && !departed.has(id))
      const id = candidates[Math.floor(random.next() * candidates.length)]
      if (id === undefined) return
      departed.add(id)
      unreachable.add(id)
      clocks.get(id)?.kill()
      detectors.get(id)?.stop()
      // (its link peers see the close and redial; here every node that can reach it does, a shortcut to the same flood)
      for (const [peer, d] of detectors) {
        if (departed.has(peer) || unreachable.has(peer)) continue
        clocks.get(peer)?.clock.setTimeout(() => { d.linkClosed(id) }, 1 + random.next())
        clocks.get(peer)?.clock.setTimeout(() => { d.refused(id) }, 3 + random.next())
      }
      clock.setTimeout(() => {
        live.delete(id)
        rename()
      }, 1_000)
    }, WARMUP_MS + random.next() * churnMs)
  }
  // the heal: the hung node runs again (its pause ends), the cut closes; both refute the doubts of them
  let recoveredAt = NaN
  /** The cut-off node's lease and doubts raised, as the cut ends. */
  let cutAtHeal: { lease: boolean, doubts: number } | undefined
  if (healAt < end) {
    clock.setTimeout(() => {
      cutAtHeal = { lease: detectors.get(cut)?.holdsLease() ?? false, doubts: detectors.get(cut)?.counts.doubts ?? 0 }
      stopped.delete(hung)
      stopped.delete(cut)
      unreachable.delete(cut)
    }, healAt)
  }
  // the safety of the pair of rules: no node is held down anywhere while it holds its lease
  let downWhileLeased = 0
  for (let t = WARMUP_MS; t < end; t += CHECK_MS) {
    clock.setTimeout(() => {
      const now = clock.monotonic()
      for (const [id, d] of detectors) {
        if (id === killed || departed.has(id) || (heldDown.get(id) ?? 0) === 0 || (clocks.get(id)?.pausedUntil() ?? 0) >= now) continue
        // held down anywhere, by anyone, however stale its news: no lease
        if (d.holdsLease()) downWhileLeased++
      }
      if (Number.isNaN(recoveredAt) && now >= healAt && (heldDown.get(hung) ?? 0) === 0 && (heldDown.get(cut) ?? 0) === 0) recoveredAt = now
    }, t)
  }
  let leaseLost = 0
  for (let t = WARMUP_MS; t < end; t += 1_000) {
    clock.setTimeout(() => {
      for (const [id, d] of detectors) if (!victims.has(id) && !departed.has(id) && (clocks.get(id)?.pausedUntil() ?? 0) < clock.monotonic() && !d.holdsLease()) leaseLost++
    }, t)
  }
  await clock.run(end)
  const cutHoldsLease = cutAtHeal?.lease ?? detectors.get(cut)?.holdsLease() ?? false
  const cutDoubts = (cutAtHeal?.doubts ?? detectors.get(cut)?.counts.doubts ?? 0) - cutDoubtsBefore
  for (const d of detectors.values()) d.stop()

  // the nodes that ran throughout
  // the nodes that ran throughout: there from the start, and still there
  const observers = new Set(ids.filter(id => !victims.has(id) && !departed.has(id)))
  const detection = (victim: string): number => {
    const seen = [...(downAt.get(victim) as Map<string, number>)].filter(([observer]) => observers.has(observer)).map(([, at]) => at)
    return seen.length < observers.size ? NaN : Math.max(...seen) - faultAt
  }
  return {
    nodes: n,
    seconds,
    loss,
    pausesPerMinute,
    witnesses: k,
    killDownMs: detection(killed),
    hangDownMs: detection(hung),
    cutDownMs: detection(cut),
    cutHoldsLease,
    cutDoubts,
    falseDowns,
    suspects,
    falseDoubts: falseDoubts.size,
    leaseLost,
    downWhileLeased,
    rejoins,
    joined,
    left: departed.size,
    renamed: [...detectors.values()].reduce((sum, d) => sum + d.counts.renamed, 0),
    unsettled: churn ? [...live].filter(id => !victims.has(id) && !sameMembers(detectors.get(id)?.witnesses ?? [], witnessesOf(id, live, k))).length : 0,
    recoveredMs: recoveredAt - healAt,
    messagesPerNodePerSecond: sent / n / seconds,
    wallMs: performance.now() - started
  }
}

function sameMembers (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every(x => b.includes(x))
}
