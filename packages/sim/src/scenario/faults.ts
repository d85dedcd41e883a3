/**
 * The operations and faults of a run, drawn from its seed as it goes: joins, graceful
 * stops, drains and undrains, target changes, rebalances, kill -9, pauses short of the
 * down deadline and past it, partitions one-way and two-way (a node cut off from the rest,
 * and `split`: a minority or equal halves, held or flapping), and wall-clock jumps, each
 * on the cluster as it is when its time comes, overlapping each other. What each did is
 * written to the trace; the faults that may cost a node its memory, and the windows in
 * which membership may disagree, are kept for the checks.
 */
import type { SimCluster } from '../sim-cluster.js'
import type { SimNode } from '../sim-node.js'
import { POOLS } from './workload.js'

/** A time span in which the nodes' views may disagree (a fault was in effect). */
export interface Unsettled {
  kind: string
  from: number
  to: number
}

/** What a plan does with the cluster it is given: the checks' hooks. */
export interface FaultHooks {
  /** A node was made and started: the run listens to it. */
  joined: (node: SimNode) => void
  /** A node's graceful stop begins. */
  stopping?: (node: SimNode) => void
  /** A node's graceful stop ended: what it still held had nowhere to go if no other node served its pool. */
  stopped?: (node: SimNode) => void
  /** A node is about to be killed: what it held may be lost. */
  killed: (node: SimNode) => void
  trace: (line: string) => void
}

export type Op = 'join' | 'stop' | 'drain' | 'undrain' | 'targets' | 'rebalance' | 'kill' | 'pause' | 'longPause' | 'partition' | 'split' | 'clockJump'

/** How often each operation is drawn, relative to the others. */
export const WEIGHTS: ReadonlyArray<[Op, number]> = [
  ['join', 3], ['stop', 2], ['drain', 3], ['undrain', 3], ['targets', 3], ['rebalance', 1],
  ['kill', 1], ['pause', 2], ['longPause', 1], ['partition', 2], ['clockJump', 1],
  // last, so that a run without it draws exactly as it did before it came
  ['split', 2]
]

/** Draws and applies operations until stopped. */
export class FaultPlan {
  readonly unsettled: Unsettled[] = []
  /** Operations applied. */
  applied = 0
  /** Operations still running (stops, drains...), what they are and the node running them: the run waits for them before its checks. */
  readonly inFlight = new Map<Promise<unknown>, { what: string, on: string }>()
  private running = false
  private nextId: number
  private readonly drained = new Set<string>()
  /** Nodes asked to stop whose stop has not ended: they still run, but will not stay. */
  private readonly stopping = new Set<string>()

  private readonly weights: ReadonlyArray<[Op, number]>
  private readonly total: number

  constructor (private readonly sim: SimCluster, private readonly hooks: FaultHooks, private readonly maxNodes: number, firstId: number, exclude: readonly Op[] = []) {
    this.nextId = firstId
    this.weights = WEIGHTS.filter(([op]) => !exclude.includes(op))
    this.total = this.weights.reduce((n, [, w]) => n + w, 0)
  }

  /** Applies one operation every 0 to 2 × `meanGapMs`, until {@link stop}. */
  start (meanGapMs: number): void {
    this.running = true
    const next = (): void => {
      if (!this.running) return
      this.apply(this.draw())
      this.sim.clock.setTimeout(next, this.sim.random.next() * 2 * meanGapMs)
    }
    this.sim.clock.setTimeout(next, this.sim.random.next() * 2 * meanGapMs)
  }

  /**
   * No more operations; every cut link is mended, and every node serves every pool again
   * (undrained, every target back to the default), as an operator puts a cluster back in
   * service: the end checks ask every worker to answer. The operations still under way end
   * first: one that ended after the restore (a target set to 0, an undrain that failed)
   * left a pool nobody served (seed 7283).
   */
  stop (): void {
    this.running = false
    this.sim.network.heal()
    const all = Object.fromEntries(POOLS.map(pool => [pool, 100_000]))
    const underWay = Promise.allSettled([...this.inFlight.keys()])
    for (const node of this.live()) {
      this.drained.delete(node.peerId)
      this.track(`restore ${node.peerId}`, node, async () => {
        await underWay
        const self = node.node.mesh.snapshot().members.find(m => m.peerId === node.peerId)
        if (self?.status === 'draining') await node.node.undrain(node.peerId)
        await node.node.setTargets(node.peerId, all)
      })
    }
  }

  /**
   * Liveness: a fault that stays to the end, drawn from the seed: a one-way cut (one
   * node's messages to another are lost, the other way works), a node hung for good (a
   * process that stopped running but still holds its sockets), or a slow link (100 to
   * 400 ms each way). Returns the nodes it involves, whose own calls the checks forgive.
   */
  hold (): { what: string, involved: string[] } {
    const live = this.live()
    const r = this.sim.random
    const a = this.pick(live)
    const b = this.pick(live.filter(n => n !== a))
    const kind = r.next()
    let what: string
    let involved: string[]
    if (kind < 0.4 && b !== undefined) {
      this.sim.network.partition(a.peerId, b.peerId, true)
      what = `a one-way cut: ${a.peerId} cannot reach ${b.peerId}`
      involved = [a.peerId, b.peerId]
    } else if (kind < 0.7 && live.length > 2 && this.hostsWithout(a) * 2 > this.hostsWithout()) {
      a.time.pause(24 * 3_600_000)
      this.forget(a.peerId)
      what = `${a.peerId} hung for good`
      involved = [a.peerId]
    } else {
      const other = b ?? a
      const delayMs = 100 + r.next() * 300
      this.sim.network.setLink(a.peerId, other.peerId, { delayMs, jitterMs: 20 })
      this.sim.network.setLink(other.peerId, a.peerId, { delayMs, jitterMs: 20 })
      what = `a slow link between ${a.peerId} and ${other.peerId}: ${Math.round(delayMs)} ms`
      involved = []
    }
    this.hooks.trace(`held to the end: ${what}`)
    return { what, involved }
  }

  /** The running nodes, in their order of joining. */
  private live (): SimNode[] {
    return this.sim.running()
  }

  /**
   * How many running nodes host workers (up, with a target above 0 somewhere), `but`
   * left out. A node hung for good is held only while the others keep a majority of them:
   * without one they wait by design (the lease on a majority), which is no failure of
   * progress.
   */
  private hostsWithout (but?: SimNode): number {
    return this.live().filter(n => n !== but && n.view.snapshot().members.find(m => m.peerId === n.peerId)?.status === 'up' &&
      Object.values(n.runtime.targets()).some(t => t > 0)).length
  }

  private pick<T> (from: T[]): T {
    return from[Math.floor(this.sim.random.next() * from.length)]
  }

  private draw (): Op {
    let x = this.sim.random.next() * this.total
    for (const [op, w] of this.weights) {
      x -= w
      if (x < 0) return op
    }
    return 'rebalance'
  }

  /** Keeps `p`, an operation `on` runs, until it ends; one whose node is killed ends with it. */
  /**
   * Runs `op` on node `on` and traces how it ends. A node that stands still runs it when it
   * resumes, as its process would read the request then: run at once, it would act (ask
   * the others, send) in the middle of its stall (seed 92927: a drain asked of a paused
   * node began its fence early, and what the kernel kept for it was read after it).
   */
  private track (what: string, on: SimNode, op: () => Promise<unknown>): void {
    const p = on.time.pausedUntil() <= this.sim.clock.monotonic()
      ? op()
      : new Promise((resolve, reject) => { on.time.clock.setTimeout(() => { op().then(resolve, reject) }, 0) })
    const done = p.then(() => { this.hooks.trace(`${what}: done`) }, (err: Error) => { this.hooks.trace(`${what}: ${err.name}: ${err.message}`) })
    this.inFlight.set(done, { what: `${what} (begun at ${(this.sim.clock.monotonic() / 1_000).toFixed(3)} s)`, on: on.peerId })
    void done.finally(() => { this.inFlight.delete(done) })
  }

  /** `peerId` was killed (or hung for good): what it ran will never end, and nobody waits for it. */
  forget (peerId: string): void {
    for (const [p, op] of this.inFlight) if (op.on === peerId) this.inFlight.delete(p)
  }

  private unsettle (kind: string, ms: number): void {
    const now = this.sim.clock.monotonic()
    this.unsettled.push({ kind, from: now, to: now + ms })
  }

  private apply (op: Op): void {
    const live = this.live()
    const now = this.sim.clock.monotonic()
    if (live.length === 0) return
    // at least two nodes that are not paused, nor stopping, stay, so there is a cluster to check
    const staying = live.filter(n => !this.stopping.has(n.peerId))
    const spare = staying.length > 2
    const r = this.sim.random
    this.applied++
    switch (op) {
      case 'join': {
        if (live.length >= this.maxNodes) return this.apply('targets')
        const id = `n${this.nextId++}`
        const node = this.sim.add(id)
        this.hooks.joined(node)
        this.hooks.trace(`join ${id}`)
        const started = node.started
        if (started !== undefined) this.track(`join ${id}`, node, async () => { await started })
        return
      }
      case 'stop': {
        if (!spare) return this.apply('targets')
        const node = this.pick(staying)
        this.hooks.trace(`stop ${node.peerId}`)
        this.hooks.stopping?.(node)
        this.stopping.add(node.peerId)
        this.track(`stop ${node.peerId}`, node, async () => await node.stop().finally(() => {
          this.stopping.delete(node.peerId)
          this.hooks.stopped?.(node)
        }))
        return
      }
      case 'drain': {
        const target = this.pick(live)
        const asker = this.pick(live)
        this.drained.add(target.peerId)
        this.hooks.trace(`drain ${target.peerId} (asked by ${asker.peerId})`)
        this.track(`drain ${target.peerId}`, asker, async () => { await asker.node.drain(target.peerId, { timeoutMs: 30_000 }) })
        return
      }
      case 'undrain': {
        const drained = live.filter(n => this.drained.has(n.peerId))
        if (drained.length === 0) return this.apply('drain')
        const target = this.pick(drained)
        const asker = this.pick(live)
        this.drained.delete(target.peerId)
        this.hooks.trace(`undrain ${target.peerId} (asked by ${asker.peerId})`)
        this.track(`undrain ${target.peerId}`, asker, async () => { await asker.node.undrain(target.peerId) })
        return
      }
      case 'targets': {
        const target = this.pick(live)
        const pool = this.pick([...POOLS])
        const value = this.pick([0, 50_000, 100_000, 200_000])
        this.hooks.trace(`targets ${target.peerId} ${pool}=${value}`)
        const asker = this.pick(live)
        this.track(`targets ${target.peerId}`, asker, async () => { await asker.node.setTargets(target.peerId, { [pool]: value }) })
        return
      }
      case 'rebalance': {
        const pool = this.pick([...POOLS])
        this.hooks.trace(`rebalance ${pool}`)
        const asker = this.pick(live)
        this.track(`rebalance ${pool}`, asker, async () => { await asker.node.rebalance(pool) })
        return
      }
      case 'kill': {
        if (!spare) return this.apply('pause')
        const node = this.pick(live)
        this.hooks.trace(`kill ${node.peerId}`)
        this.hooks.killed(node)
        this.forget(node.peerId)
        node.kill()
        this.unsettle('kill', 10_000)
        return
      }
      case 'pause':
      case 'longPause': {
        const node = this.pick(live)
        // short: under the suspicion deadline; long: past the down deadline
        const ms = op === 'pause' ? 200 + r.next() * 1_000 : 2_500 + r.next() * 4_000
        if (node.time.pausedUntil() > now) return
        this.hooks.trace(`pause ${node.peerId} for ${Math.round(ms)} ms`)
        node.time.pause(ms)
        this.unsettle(op, ms + 10_000)
        return
      }
      case 'split': {
        // the cluster cut in two: a minority (or, of an even number, exactly half) on one
        // side; held for a while, or flapping (half a second cut, half a second whole)
        if (live.length < 3) return
        const side: SimNode[] = []
        const size = 1 + Math.floor(r.next() * Math.floor(live.length / 2))
        const rest = [...live]
        while (side.length < size) side.push(rest.splice(Math.floor(r.next() * rest.length), 1)[0])
        const flaps = r.next() < 0.3 ? 3 + Math.floor(r.next() * 8) : 0
        const ms = flaps > 0 ? 500 : 500 + r.next() * 7_500
        const names = (nodes: SimNode[]): string => nodes.map(n => n.peerId).join(',')
        this.hooks.trace(`split ${names(side)} from ${names(rest)} ${flaps > 0 ? `flapping ${flaps} times` : `for ${Math.round(ms)} ms`}`)
        const cut = (apart: boolean): void => {
          for (const a of side) {
            for (const b of rest) {
              if (apart) this.sim.network.partition(a.peerId, b.peerId)
              else this.sim.network.mend(a.peerId, b.peerId)
            }
          }
        }
        const rounds = Math.max(1, flaps)
        this.unsettle('partition', rounds * 2 * ms + 10_000)
        for (let i = 0; i < rounds; i++) {
          this.sim.clock.setTimeout(() => { cut(true) }, i * 2 * ms)
          this.sim.clock.setTimeout(() => {
            if (i === rounds - 1) this.hooks.trace(`heal ${names(side)}`)
            cut(false)
          }, i * 2 * ms + ms)
        }
        return
      }
      case 'partition': {
        if (live.length < 2) return
        const node = this.pick(live)
        const oneWay = r.next() < 0.3
        const ms = 500 + r.next() * 7_500
        const others = live.filter(n => n !== node).map(n => n.peerId)
        this.hooks.trace(`partition ${node.peerId} from ${others.join(',')}${oneWay ? ' one way (it cannot send)' : ''} for ${Math.round(ms)} ms`)
        for (const other of others) this.sim.network.partition(node.peerId, other, oneWay)
        this.unsettle('partition', ms + 10_000)
        this.sim.clock.setTimeout(() => {
          this.hooks.trace(`heal ${node.peerId}`)
          for (const other of others) this.sim.network.mend(node.peerId, other, oneWay)
        }, ms)
        return
      }
      case 'clockJump': {
        const node = this.pick(live)
        const ms = Math.round((r.next() * 2 - 1) * 3_000)
        this.hooks.trace(`clock of ${node.peerId} jumps ${ms} ms`)
        node.time.jump(ms)
        this.unsettle('clockJump', 10_000)
      }
    }
  }
}
