/**
 * The cluster as a watcher sees it: the dashboard's one stream (`GET /v1/watch`) and the
 * cluster-wide event stream (`GET /v1/events?scope=cluster`).
 *
 * It costs nothing while nobody watches: only while a stream is open does this node ask
 * every member, once a second, for its figures and the events it logged since the last
 * question. From two answers in a row it makes rates; from their latency histograms
 * (counts since each pool started) the turns in between, merged over every node and pool
 * into the cluster's p50 and p99. Every member's events go into one log here, so a
 * watcher that reconnects with `Last-Event-ID` gets what it missed from all of them, and
 * what happened while nobody watched is fetched on the next question (as far as each
 * member's own buffer reaches).
 */
import type { ServerResponse } from 'node:http'
import { InvalidMessageError } from '@simplepool/core'
import type { Logger } from '@simplepool/core'
import { LatencyHistogram } from '@simplepool/runtime'
import type { AdminNode, MemberInfo, WatchFigures } from './admin-node.js'
import { AdminEventLog } from './event-log.js'
import { askMembers } from './ask-members.js'
import { asObject, sendEvent } from './server-sent-events.js'
import { EVENT_LOG_KEEP, WATCH_HISTORY, WATCH_MAX_INTERVAL_MS, WATCH_ROWS_MAX, WATCH_TICK_MS } from '@simplepool/core'

/** What the previous answer of a member held, to make rates and latencies of the interval. */
interface Previous {
  at: number
  pools: Record<string, { turns: number, failures: number, latency: LatencyHistogram }>
}

/** One pool on one node in a tick. */
export interface TickPool {
  count: number
  target: number
  targetShare: number
  share: number
  msgsPerSec: number
  failuresPerSec: number
  p99Ms: number
}

/** One node in a tick; without figures when it did not answer (`error` says why). */
export interface TickNode {
  node: string
  self: boolean
  status: string
  liveness: string
  health: string | null
  reasons: string[]
  loopP99Ms: number | null
  rssBytes: number | null
  heapUsedBytes: number | null
  workers: number
  msgsPerSec: number
  failuresPerSec: number
  migrationBacklog: number
  /** Replicas it keeps for workers owned elsewhere, and their bytes of state; null when unknown. */
  replicas: number | null
  replicaBytes: number | null
  pools: Record<string, TickPool>
  error?: string
}

/** One pool over the whole cluster in a tick. */
export interface TickPoolTotal {
  count: number
  target: number
  msgsPerSec: number
  failuresPerSec: number
}

/** What a watcher receives once a second. */
export interface Tick {
  at: number
  node: string
  version: number
  ringAgreed: boolean | null
  /** Over every member, whichever rows the watcher is sent. */
  totals: { nodes: number, up: number, workers: number, msgsPerSec: number, failuresPerSec: number, p50Ms: number, p99Ms: number, pools: Record<string, TickPoolTotal> }
  /** Where `nodes` starts in the order of every member (see {@link WatchPage}). */
  from: number
  nodes: TickNode[]
  /** The nodes draining or handing workers over, of every member (whatever the page), at most {@link WATCH_ROWS_MAX}. */
  moving: TickNode[]
}

/**
 * The rows of the nodes a watcher is sent: `rows` from the `from`th of every member, in
 * the order a screen wants them: this node, then those that need a look (not answering,
 * not alive, not up, not online, handing workers over), then the rest, each part by id.
 * A screen asks for what it can show, so a tick at 1,000 members is as large as at 20;
 * the totals still count every member.
 */
export interface WatchPage {
  from: number
  rows: number
}

/** The cluster as the watchers of this node see it: see the file's comment. */
export class ClusterWatch {
  /** Every member's events, in the order they reached this node. */
  readonly log = new AdminEventLog()
  /** Each dashboard stream and the rows it is sent (all, up to `WATCH_ROWS_MAX`, when it named none). */
  private readonly dashboards = new Map<ServerResponse, WatchPage>()
  private watchers = 0
  private timer?: ReturnType<typeof setInterval>
  private polling = false
  /** Per member: the id of the last event taken from it (kept while nobody watches, to fetch what was missed). */
  private readonly cursors = new Map<string, string>()
  /** Per member: its last answer's counters, to make the next tick's rates (dropped while nobody watches). */
  private readonly previous = new Map<string, Previous>()
  /** The last tick made, every node's rows in it: a stream opened for another page gets its rows at once (see `openDashboard`). */
  private last?: Tick
  /** The last ticks' totals, oldest first (only ticks someone watched: there are no others). */
  private readonly history: Array<{ at: number, msgsPerSec: number, failuresPerSec: number, p50Ms: number, p99Ms: number }> = []

  constructor (private readonly node: AdminNode, private readonly writable: boolean, private readonly logger: Logger) {}

  /** The dashboard's stream: `hello`, then a `tick` a second (with the rows of `page`) and every member's events as `cluster` events. */
  openDashboard (res: ServerResponse, lastEventId: string | undefined, page: WatchPage = { from: 0, rows: WATCH_ROWS_MAX }): void {
    const pools = [...new Set(this.node.members().flatMap(m => Object.keys(m.pools)))].sort()
    const hello = { node: this.node.peerId, writable: this.writable, pools, at: Date.now(), history: this.history }
    const opened = this.log.open(res, lastEventId, {
      as: 'cluster',
      first: `event: hello\ndata: ${JSON.stringify(hello)}\n\n`,
      onClose: () => {
        this.dashboards.delete(res)
        this.unwatch()
      }
    })
    if (!opened) return
    this.dashboards.set(res, page)
    // a page turned is a new stream, and a new watch's first answers only prime the rates:
    // the last tick's rows of that page now, rather than none for a second or two
    const last = this.last
    if (last !== undefined && Date.now() - last.at <= WATCH_MAX_INTERVAL_MS) sendEvent(res, tickText(last, page))
    this.watch()
  }

  /** Every member's events, named for their type, each saying which member logged it. */
  openEvents (res: ServerResponse, lastEventId: string | undefined): void {
    if (this.log.open(res, lastEventId, { onClose: () => { this.unwatch() } })) this.watch()
  }

  /** Ends every stream: the node is stopping. */
  close (): void {
    this.log.close()
    this.dashboards.clear()
    this.watchers = 0
    this.stopTimer()
  }

  private watch (): void {
    this.watchers++
    if (this.timer !== undefined) return
    this.timer = setInterval(() => { void this.poll() }, WATCH_TICK_MS)
    this.timer.unref()
    void this.poll()
  }

  private unwatch (): void {
    this.watchers = Math.max(0, this.watchers - 1)
    if (this.watchers === 0) this.stopTimer()
  }

  private stopTimer (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    // the next watcher's first rates start from its own first answers, not from before the gap
    this.previous.clear()
  }

  /** Asks every live member (once at a time: a slow tick is skipped, not stacked), then sends the tick. */
  private async poll (): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      const members = this.node.members()
      const { answers, unreachable } = await askMembers(this.node, () => true, async (peer, signal) => checkFigures(peer === this.node.peerId
        ? this.node.watchFigures(this.cursors.get(peer))
        : await this.node.watchFiguresOf(peer, this.cursors.get(peer), { signal })))
      if (this.watchers === 0) return
      this.takeEvents(answers)
      if (this.dashboards.size > 0) {
        // the first answers of a watch only prime the rates: a tick of zeros would read as an idle cluster
        const primed = this.previous.size > 0
        const tick = this.tick(members, answers, new Map(unreachable.map(u => [u.node, u.error])))
        if (!primed) return
        const { msgsPerSec, failuresPerSec, p50Ms, p99Ms } = tick.totals
        this.history.push({ at: tick.at, msgsPerSec, failuresPerSec, p50Ms, p99Ms })
        if (this.history.length > WATCH_HISTORY) this.history.shift()
        this.last = tick
        // one text per page asked for, however many watch it
        const texts = new Map<string, string>()
        for (const [res, page] of this.dashboards) {
          const key = `${page.from}:${page.rows}`
          let text = texts.get(key)
          if (text === undefined) texts.set(key, text = tickText(tick, page))
          sendEvent(res, text)
        }
      }
    } catch (err) {
      this.logger.warn(`the admin watch could not make a tick: ${(err as Error).message}`)
    } finally {
      this.polling = false
    }
  }

  /** Members' new events into the one log, in time order, each tagged with its member. */
  private takeEvents (answers: Map<string, WatchFigures>): void {
    const fresh: Array<{ node: string, type: string, at: number, data: unknown }> = []
    for (const [peer, f] of answers) {
      if (f.gap) fresh.push({ node: peer, type: 'events:gap', at: f.events[0]?.at ?? Date.now(), data: { reason: 'some events of this member were dropped before they were read' } })
      for (const e of f.events) fresh.push({ node: peer, type: e.type, at: e.at, data: e.data })
      const last = f.events.at(-1)
      if (last !== undefined) this.cursors.set(peer, last.id)
    }
    fresh.sort((a, b) => a.at - b.at)
    // the log keeps the newest EVENT_LOG_KEEP: the first answers of a hundred members bring
    // up to WATCH_EVENTS_MAX each, and writing what the log would drop at once anyway to an
    // open stream would overflow its buffer and cut the watcher off. The newest go, after a
    // gap that says how many were left out (it takes one place of the log's)
    if (fresh.length > EVENT_LOG_KEEP) {
      const dropped = fresh.length - (EVENT_LOG_KEEP - 1)
      fresh.splice(0, dropped)
      this.log.add('events:gap', { reason: `${dropped} older events of the members were left out: the log keeps the newest ${EVENT_LOG_KEEP}` }, fresh[0].at)
    }
    for (const e of fresh) this.log.add(e.type, { ...asObject(e.data), node: e.node }, e.at)
  }

  /** The tick of these answers; `unreachable`: the members that did not answer, and why. */
  private tick (members: MemberInfo[], answers: Map<string, WatchFigures>, unreachable: Map<string, string>): Tick {
    const placement = this.node.placement()
    const total = new LatencyHistogram()
    const nodes: TickNode[] = []
    // what each node should hold (among those up) and holds (among all live: a draining node still holds some)
    const targetSum: Record<string, number> = {}
    const countSum: Record<string, number> = {}
    for (const m of members) {
      const f = answers.get(m.peerId)
      if (m.liveness === 'down') continue
      for (const [pool, p] of Object.entries(m.pools)) {
        if (m.status === 'up') targetSum[pool] = (targetSum[pool] ?? 0) + p.target
        const count = f !== undefined ? (f.pools[pool]?.count ?? 0) : p.count
        countSum[pool] = (countSum[pool] ?? 0) + count
      }
    }
    for (const m of members) {
      const f = answers.get(m.peerId)
      const poolRow = (pool: string, count: number, target: number, msgsPerSec = 0, failuresPerSec = 0, p99Ms = 0): TickPool =>
        ({ count, target, targetShare: targetShare(target, targetSum[pool], m.status), share: ratio(count, countSum[pool]), msgsPerSec, failuresPerSec, p99Ms })
      const row: TickNode = {
        node: m.peerId,
        self: m.peerId === this.node.peerId,
        status: m.status,
        liveness: m.liveness,
        health: null,
        reasons: [],
        loopP99Ms: null,
        rssBytes: null,
        heapUsedBytes: null,
        workers: 0,
        msgsPerSec: 0,
        failuresPerSec: 0,
        migrationBacklog: 0,
        replicas: null,
        replicaBytes: null,
        pools: {}
      }
      if (f === undefined) {
        row.error = unreachable.get(m.peerId)
        // what its last heartbeat said
        for (const [pool, p] of Object.entries(m.pools)) {
          row.workers += p.count
          row.pools[pool] = poolRow(pool, p.count, p.target)
        }
        nodes.push(row)
        continue
      }
      row.health = f.health
      row.reasons = f.reasons
      row.loopP99Ms = f.loopP99Ms
      row.rssBytes = f.rssBytes
      row.heapUsedBytes = f.heapUsedBytes
      row.migrationBacklog = f.migrationBacklog
      row.replicas = f.replicas?.count ?? null
      row.replicaBytes = f.replicas?.bytes ?? null
      const prev = this.previous.get(m.peerId)
      const next: Previous = { at: f.at, pools: {} }
      const dt = prev !== undefined && f.at - prev.at <= WATCH_MAX_INTERVAL_MS ? (f.at - prev.at) / 1000 : 0
      for (const [pool, p] of Object.entries(f.pools)) {
        const latency = LatencyHistogram.fromSparse(p.latency)
        next.pools[pool] = { turns: p.turns, failures: p.failures, latency }
        const before = prev?.pools[pool]
        let msgs = 0
        let failures = 0
        let p99 = 0
        if (before !== undefined && dt > 0) {
          msgs = Math.max(0, p.turns - before.turns) / dt
          failures = Math.max(0, p.failures - before.failures) / dt
          // this second's turns; `latency` stays whole for the next tick's difference
          const interval = new LatencyHistogram()
          interval.add(latency)
          interval.subtract(before.latency)
          p99 = interval.quantile(0.99)
          total.add(interval)
        }
        row.workers += p.count
        row.msgsPerSec += msgs
        row.failuresPerSec += failures
        row.pools[pool] = poolRow(pool, p.count, p.target, msgs, failures, p99)
      }
      this.previous.set(m.peerId, next)
      nodes.push(row)
    }
    // members the view forgot: their figures and event cursors go too
    for (const peer of [...this.previous.keys(), ...this.cursors.keys()]) {
      if (!members.some(m => m.peerId === peer)) {
        this.previous.delete(peer)
        this.cursors.delete(peer)
      }
    }
    const pools: Record<string, TickPoolTotal> = {}
    for (const n of nodes) {
      for (const [name, p] of Object.entries(n.pools)) {
        const t = pools[name] ??= { count: 0, target: 0, msgsPerSec: 0, failuresPerSec: 0 }
        t.count += p.count
        if (n.status === 'up' && n.liveness !== 'down') t.target += p.target
        t.msgsPerSec += p.msgsPerSec
        t.failuresPerSec += p.failuresPerSec
      }
    }
    return {
      at: Date.now(),
      node: this.node.peerId,
      version: placement.version,
      ringAgreed: ringAgreed(this.node.rings().rings, members, answers),
      totals: {
        nodes: members.length,
        up: members.filter(m => m.status === 'up' && m.liveness !== 'down').length,
        workers: nodes.reduce((s, n) => s + n.workers, 0),
        msgsPerSec: nodes.reduce((s, n) => s + n.msgsPerSec, 0),
        failuresPerSec: nodes.reduce((s, n) => s + n.failuresPerSec, 0),
        p50Ms: total.quantile(0.5),
        p99Ms: total.quantile(0.99),
        pools
      },
      from: 0,
      nodes: nodes.sort(screenOrder),
      moving: nodes.filter(n => n.status === 'draining' || n.migrationBacklog > 0).slice(0, WATCH_ROWS_MAX)
    }
  }
}

/** A tick as a stream of `page` is sent it: the rows of its page. */
function tickText (tick: Tick, page: WatchPage): string {
  return `event: tick\ndata: ${JSON.stringify({ ...tick, from: page.from, nodes: tick.nodes.slice(page.from, page.from + page.rows) })}\n\n`
}

/** This node first, then the nodes that need a look, then the rest; each part by id (see {@link WatchPage}). */
export function screenOrder (a: TickNode, b: TickNode): number {
  if (a.self !== b.self) return a.self ? -1 : 1
  const la = needsLook(a)
  if (la !== needsLook(b)) return la ? -1 : 1
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0
}

function needsLook (n: TickNode): boolean {
  return n.error !== undefined || n.liveness !== 'alive' || n.status !== 'up' || (n.health !== null && n.health !== 'online') || n.migrationBacklog > 0
}

/** Whether every live member that answered places every pool as this node does; null when one did not answer. */
function ringAgreed (own: Record<string, string>, members: MemberInfo[], answers: Map<string, WatchFigures>): boolean | null {
  let agreed = true
  for (const m of members) {
    if (m.liveness === 'down' || m.status === 'leaving') continue
    const f = answers.get(m.peerId)
    if (f === undefined) return null
    if (Object.keys(own).some(pool => f.rings?.[pool] !== own[pool])) agreed = false
  }
  return agreed
}

function ratio (part: number, sum: number | undefined): number {
  return sum !== undefined && sum > 0 ? part / sum : 0
}

/** What a node should hold of a pool: its target's part, and nothing unless it is up. */
function targetShare (target: number, sum: number | undefined, status: string): number {
  return status === 'up' ? ratio(target, sum) : 0
}

/** An event type safe on an SSE `event:` line and as a log's key. */
const EVENT_TYPE = /^[\w:.-]{1,64}$/

/**
 * A member's answer, checked field by field as anything from the network is: a malformed
 * one (another version, a bug) counts as that member not answering, and cannot break the
 * tick of the others or inject lines into an event stream.
 */
function checkFigures (f: WatchFigures): WatchFigures {
  const bad = (what: string): never => { throw new InvalidMessageError(`a watch answer with a bad ${what}`) }
  if (f === null || typeof f !== 'object') bad('shape')
  if (!Number.isFinite(f.at) || typeof f.pools !== 'object' || f.pools === null || !Array.isArray(f.events)) bad('shape')
  for (const p of Object.values(f.pools)) {
    if (p === null || typeof p !== 'object' || !Number.isFinite(p.count) || !Number.isFinite(p.target) || !Number.isFinite(p.turns) || !Number.isFinite(p.failures)) bad('pool')
  }
  for (const e of f.events) {
    if (e === null || typeof e !== 'object' || typeof e.id !== 'string' || typeof e.type !== 'string' || !EVENT_TYPE.test(e.type) || !Number.isFinite(e.at)) bad('event')
  }
  return f
}
