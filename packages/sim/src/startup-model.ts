/**
 * The start of a cluster under witness membership (docs/design/membership-v2.md), in
 * virtual time: N nodes start within `spreadMs` of each other, each pulls the member list
 * from a bootstrap node (given the first `bootstraps` to start, it asks them in turn),
 * names its witnesses and pushes its record over its links, while every other node
 * renames its witnesses as the members arrive. It measures what the membership model leaves out (there every node is
 * handed the member list): the time from the last start until every node sees every
 * member up and holds its lease, what that costs each node, the idle cost after, and
 * the time until a killed node is down everywhere. Deterministic for a seed.
 */
import { seededRandom } from '@simplepool/core'
import { WitnessMembership } from '@simplepool/mesh'
import type { LinkMessage } from '@simplepool/mesh'
import { SimClock } from './sim-clock.js'

export interface StartupOptions {
  nodes: number
  /** Nodes start at random times within this many ms. @default 1000 */
  spreadMs?: number
  /** Each node joins through one of the first this many to start. @default 3 */
  bootstraps?: number
  /** Share of messages lost. @default 0 */
  loss?: number
  /** Virtual seconds of idle cluster after it agreed, for the idle cost. @default 10 */
  idleSeconds?: number
  witnesses?: number
  seed?: number
}

export interface StartupResult {
  nodes: number
  witnesses: number
  loss: number
  /** From the last start until every node saw every member up (not down) and held its lease; null if that did not come within 60 s. */
  agreedMs: number | null
  /** Until every node saw every member (alive or not). */
  knownMs: number | null
  /** Messages each node sent, on average, until agreement. */
  startupMessagesPerNode: number
  /** Records each node received, on average, until agreement (a member's record more than once is the cost of the flood). */
  recordsPerNode: number
  /** Messages each node sends a second once the cluster is idle (from 5 s after agreement). */
  idleMessagesPerNodePerSecond: number
  /** Members some node held suspect or down while every node ran (must be 0). */
  falseDowns: number
  /** From the kill of one node until every other node held it down. */
  killDownMs: number | null
  wallMs: number
}

const AGREE_LIMIT_MS = 60_000
const SETTLE_MS = 5_000

export async function runStartupModel (opts: StartupOptions): Promise<StartupResult> {
  const wall = performance.now()
  const n = opts.nodes
  const spread = opts.spreadMs ?? 1_000
  const loss = opts.loss ?? 0
  const k = opts.witnesses ?? 6
  const random = seededRandom(opts.seed ?? 1)
  const clock = new SimClock()
  const ids = Array.from({ length: n }, (_, i) => `n${String(i).padStart(5, '0')}`)
  const starts = ids.map((_, i) => i === 0 ? 0 : Math.floor(random.next() * spread)).sort((a, b) => a - b)
  const dead = new Set<string>()
  const nodes = new Map<string, WitnessMembership>()
  let sent = 0
  let records = 0
  const deliver = (from: string, to: string, m: LinkMessage): void => {
    if (dead.has(from)) return
    sent++
    if (dead.has(to)) {
      // a killed process: the link closes and its redial is refused
      clock.setTimeout(() => { if (!dead.has(from)) { nodes.get(from)?.linkClosed(to); nodes.get(from)?.refused(to) } }, 1)
      return
    }
    if (loss > 0 && random.next() < loss) return
    if (m.t === 'records') records += m.records.length
    clock.setTimeout(() => { if (!dead.has(to)) nodes.get(to)?.receive(from, m) }, 1 + random.next() * 4)
  }
  let falseDowns = 0
  for (const [i, id] of ids.entries()) {
    const node = new WitnessMembership({
      self: { peerId: id, addresses: [], status: 'up', pools: { room: { target: 1 } } },
      clock: clock.forNode().clock,
      random: seededRandom((opts.seed ?? 1) * 100_003 + i),
      send: (to, m) => { deliver(id, to, m) }
    }, { witnesses: k })
    node.addEventListener('member:down', (e) => { if (!dead.has(e.detail.peerId)) falseDowns++ })
    nodes.set(id, node)
    // every node is given the same bootstrap list (the first to start), and starts at a random one of them
    const list = ids.slice(0, Math.min(i, opts.bootstraps ?? 3))
    const first = Math.floor(random.next() * list.length)
    const via = [...list.slice(first), ...list.slice(0, first)]
    clock.setTimeout(() => { node.start(via) }, starts[i])
  }
  const last = starts[n - 1]
  const everyone = (done: (node: WitnessMembership) => boolean): boolean => {
    for (const [id, node] of nodes) if (!dead.has(id) && !done(node)) return false
    return true
  }
  // up as a node's view has it: all N members, announced up and not held down (a suspect keeps its workers)
  const up = (node: WitnessMembership): boolean => node.snapshot().members.length === n && node.snapshot().members.every(m => m.status === 'up' && m.liveness !== 'down')
  let knownMs: number | null = null
  let agreedMs: number | null = null
  for (let t = last; t <= last + AGREE_LIMIT_MS; t += 50) {
    await clock.run(t)
    if (knownMs === null && everyone(node => node.snapshot().members.length === n)) knownMs = t - last
    if (everyone(node => up(node) && node.holdsLease())) {
      agreedMs = t - last
      break
    }
  }
  const startupMessagesPerNode = sent / n
  const recordsPerNode = records / n
  // idle
  const idleMs = (opts.idleSeconds ?? 10) * 1_000
  // (what the start set going, witnesses named anew as the last members arrived, settles first)
  await clock.run(clock.monotonic() + SETTLE_MS)
  const before = sent
  await clock.run(clock.monotonic() + idleMs)
  const idleMessagesPerNodePerSecond = (sent - before) / n / (idleMs / 1_000)
  // kill -9 of one node
  const victim = ids[Math.floor(n / 2)]
  dead.add(victim)
  nodes.get(victim)?.stop()
  const killedAt = clock.monotonic()
  let killDownMs: number | null = null
  for (let t = killedAt; t <= killedAt + 30_000; t += 10) {
    await clock.run(t)
    if (everyone(node => node.get(victim)?.liveness === 'down' || node.get(victim) === undefined)) {
      killDownMs = t - killedAt
      break
    }
  }
  for (const node of nodes.values()) node.stop()
  return { nodes: n, witnesses: k, loss, agreedMs, knownMs, startupMessagesPerNode: Math.round(startupMessagesPerNode), recordsPerNode: Math.round(recordsPerNode), idleMessagesPerNodePerSecond: Math.round(idleMessagesPerNodePerSecond * 10) / 10, falseDowns, killDownMs, wallMs: Math.round(performance.now() - wall) }
}
