/**
 * The traffic of a simulated run and its books: callers on the running nodes send
 * increments (calls and casts), reads, slow turns and turns that throw to the workload's
 * workers, and every outcome is written down: acknowledged, failed (its effect unknown),
 * or cast (its effect unknown). The checks read these books.
 */
import type { WorkerContext } from '@simplepool/runtime'
import type { SimCluster } from '../sim-cluster.js'
import type { SimNode } from '../sim-node.js'
import type { WorkMsg } from './pools.js'

/** The books of one worker. */
export interface WorkerBooks {
  /** Increments whose call was answered. */
  acked: number
  /** Increments whose call failed (its effect unknown) and casts (never answered). */
  unknown: number
  /** The node that held it last, as its turns and moves showed. */
  holder?: string
  /** When its holder last changed (monotonic), and from which node. */
  movedAt: number
  movedFrom?: string
  /** The largest epoch that took a turn, and where. */
  maxEpoch: number
  maxNode?: string
  /** That copy was dropped since (its node fenced and dropped every activation): a copy below it may live on. */
  maxDropped?: boolean
  /** As its last increment was acknowledged: the node that ran it, and the nodes that held its replica then (see {@link Workload.holdersOf}). */
  ackedOn?: { node: string, holders: readonly string[] }
}

/** A stale copy took a turn: its epoch is below one that already had. */
export interface StaleTurn {
  pool: string
  id: string
  node: string
  epoch: number
  newer: number
  at: number
}

export const CHECKED_POOLS = ['ledger', 'counter'] as const
export const POOLS = [...CHECKED_POOLS, 'ticker'] as const

/** What a run sends, and the books it keeps. */
export class Workload {
  readonly books = new Map<string, WorkerBooks>()
  readonly staleTurns: StaleTurn[] = []
  readonly orderBreaks: string[] = []
  /** Calls sent and not yet ended, by the node that sent them: what (for a report), and the books of an increment. */
  readonly outstanding = new Map<string, Map<string, WorkerBooks | undefined>>()
  sent = 0
  private readonly seqs = new Map<string, number>()
  private running = false

  /** A worker (`pool/id`) whose every turn and move is traced. */
  watch?: string
  /** The nodes that acknowledged the replica of `pool`/`id` live on `node` (see `Replicator.holders`); undefined when not live there. */
  holdersOf?: (pool: string, id: string, node: string) => readonly string[] | undefined

  constructor (private readonly sim: SimCluster, readonly ids: number, private readonly trace: (line: string) => void) {
    for (const pool of POOLS) for (let i = 0; i < ids; i++) this.books.set(`${pool}/${i}`, { acked: 0, unknown: 0, movedAt: -Infinity, maxEpoch: -Infinity })
  }

  /** The books of `pool`/`id`. */
  of (pool: string, id: string): WorkerBooks {
    const b = this.books.get(`${pool}/${id}`)
    if (b === undefined) throw new Error(`no worker ${pool}/${id} in the workload`)
    return b
  }

  /** A turn ran: where, and whether its epoch was stale. */
  turn (pool: string, ctx: WorkerContext, msg: WorkMsg, n: number): void {
    const b = this.of(pool, ctx.id)
    if (this.watch === `${pool}/${ctx.id}`) this.trace(`watch ${pool}/${ctx.id}: ${JSON.stringify(msg)} on ${ctx.node} epoch ${ctx.epoch}, state ${n}`)
    this.hold(b, ctx.node)
    // a copy on a node that was killed takes no more turns: a newer one below its epoch is
    // the gap the README names (a clock ahead, killed before its record carried its epoch
    // mark), which only a store's conditional writes notice, and the store's books check.
    // Not a node stopped gracefully: its copy went on, handed over
    if (ctx.epoch < b.maxEpoch && this.sim.nodes.get(b.maxNode as string)?.killed !== true && b.maxDropped !== true) {
      this.staleTurns.push({ pool, id: ctx.id, node: ctx.node, epoch: ctx.epoch, newer: b.maxEpoch, at: this.sim.clock.monotonic() })
    } else {
      b.maxEpoch = ctx.epoch
      b.maxNode = ctx.node
      b.maxDropped = false
    }
  }

  /**
   * `peerId` fenced and dropped every activation it had (it was marked down): the copies
   * there are gone, and one below their epoch elsewhere (a pool without a store resumed
   * on the sender of a handoff whose answer was lost, seed 150) is no longer stale. Turns
   * it took before this still count.
   */
  dropped (peerId: string): void {
    for (const b of this.books.values()) if (b.maxNode === peerId) b.maxDropped = true
  }

  /** A worker reached `node` with its state (a handoff). */
  moved (pool: string, id: string, node: string): void {
    if (this.watch === `${pool}/${id}`) this.trace(`watch ${pool}/${id}: arrived on ${node}`)
    const b = this.books.get(`${pool}/${id}`)
    if (b !== undefined) this.hold(b, node)
  }

  /** A worker started on `node` (from a replica, say): it lives there now. */
  activated (pool: string, id: string, node: string): void {
    const b = this.books.get(`${pool}/${id}`)
    if (b !== undefined) this.hold(b, node)
  }

  /** `peerId` was killed: the calls it waited on die with it (their outcome is unknown). */
  killed (peerId: string): void {
    for (const inc of this.outstanding.get(peerId)?.values() ?? []) if (inc !== undefined) inc.unknown++
    this.outstanding.delete(peerId)
  }

  /** Calls still waiting for an answer, on the nodes that did not die. */
  waiting (): string[] {
    return [...this.outstanding.values()].flatMap(m => [...m.keys()])
  }

  outOfOrder (pool: string, id: string, from: string, seq: number, last: number): void {
    this.orderBreaks.push(`${pool}/${id}: message ${seq} from ${from} ran after ${last}`)
  }

  private hold (b: WorkerBooks, node: string): void {
    if (b.holder === node) return
    b.movedFrom = b.holder
    b.holder = node
    b.movedAt = this.sim.clock.monotonic()
  }

  /** Sends traffic, one message every 0 to `gapMs` ms, until {@link stop}. */
  start (gapMs: number): void {
    this.running = true
    const next = (): void => {
      if (!this.running) return
      this.sendOne()
      this.sim.clock.setTimeout(next, this.sim.random.next() * gapMs)
    }
    next()
  }

  stop (): void {
    this.running = false
  }

  /** One message from a random running node that is not paused, of a kind drawn from the seed. */
  private sendOne (): void {
    const r = this.sim.random
    const now = this.sim.clock.monotonic()
    const senders = this.sim.running().filter(n => n.time.pausedUntil() <= now)
    if (senders.length === 0) return
    const node = senders[Math.floor(r.next() * senders.length)]
    const pool = POOLS[Math.floor(r.next() * POOLS.length)]
    const id = String(Math.floor(r.next() * this.ids))
    const kind = r.next()
    if (kind < 0.7) this.call(node, pool, id, this.inc(node, pool, id))
    else if (kind < 0.85) this.cast(node, pool, id)
    else if (kind < 0.95) this.call(node, pool, id, { op: 'get' })
    else if (kind < 0.98) this.call(node, pool, id, { op: 'slow', ms: Math.floor(r.next() * 3_000) })
    else this.call(node, pool, id, { op: 'boom' })
  }

  private ownerIn (node: SimNode, pool: string, id: string): string {
    return node.placement().ownerOf(pool, id) ?? 'nobody'
  }

  private inc (node: SimNode, pool: string, id: string): WorkMsg {
    const key = `${node.peerId}/${pool}/${id}`
    const seq = (this.seqs.get(key) ?? 0) + 1
    this.seqs.set(key, seq)
    return { op: 'inc', from: node.peerId, seq }
  }

  private call (node: SimNode, pool: string, id: string, msg: WorkMsg): void {
    const b = this.of(pool, id)
    const what = `${msg.op} ${pool}/${id} from ${node.peerId} at ${this.sim.clock.monotonic().toFixed(1)} ms (#${++this.sent})`
    let mine = this.outstanding.get(node.peerId)
    if (mine === undefined) this.outstanding.set(node.peerId, mine = new Map())
    const waiting = mine
    waiting.set(what, msg.op === 'inc' ? b : undefined)
    if (this.watch === `${pool}/${id}`) this.trace(`watch ${pool}/${id}: ${what} sent ${JSON.stringify(msg)}, to ${this.ownerIn(node, pool, id)} in its view`)
    node.node.ref<WorkMsg, number>(pool, id).call(msg).then((v) => {
      waiting.delete(what)
      if (this.watch === `${pool}/${id}`) this.trace(`watch ${pool}/${id}: ${what} answered ${v}`)
      if (msg.op === 'inc') {
        b.acked++
        const holders = b.holder === undefined ? undefined : this.holdersOf?.(pool, id, b.holder)
        if (holders !== undefined) b.ackedOn = { node: b.holder as string, holders }
      }
    }, (err: Error) => {
      waiting.delete(what)
      if (msg.op === 'inc') b.unknown++
      // a handler that throws is the workload's own doing
      if (msg.op !== 'boom') this.trace(`${node.peerId} ${pool}/${id} ${msg.op} failed: ${err.name}: ${err.message}`)
    })
  }

  private cast (node: SimNode, pool: string, id: string): void {
    const b = this.of(pool, id)
    b.unknown++
    this.sent++
    try {
      const msg = this.inc(node, pool, id)
      if (this.watch === `${pool}/${id}`) this.trace(`watch ${pool}/${id}: cast ${JSON.stringify(msg)} from ${node.peerId}, to ${this.ownerIn(node, pool, id)} in its view`)
      node.node.ref<WorkMsg, number>(pool, id).cast(msg)
    } catch (err) {
      this.trace(`${node.peerId} ${pool}/${id} cast refused: ${(err as Error).name}`)
    }
  }
}
