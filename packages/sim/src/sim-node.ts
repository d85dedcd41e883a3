import { DEFAULT_DOWN_AFTER_MS, DEFAULT_FORGET_AFTER_MS, DEFAULT_HEARTBEAT_MS, DEFAULT_SUSPECT_AFTER_MS, MEMBERSHIP_SWEEP_MS } from '@simplepool/core'
import type { Clock, Logger, MemberRecord, MemberStatus, Random, TimerHandle } from '@simplepool/core'
import { MembershipView, decodeRecord, encodeRecord } from '@simplepool/mesh'
import { Placement } from '@simplepool/ring'
import { Runtime } from '@simplepool/runtime'
import type { Pool, RuntimeInit } from '@simplepool/runtime'
import type { SimNetwork } from './sim-network.js'

/** What a simulated node is made of and with. */
export interface SimNodeInit {
  peerId: string
  pools: ReadonlyArray<Pool<any, any, any>>
  targets?: Record<string, number>
  /** The node's own clock (see `SimClock.forNode`), and how to stop all of its events at once. */
  clock: Clock
  kill: () => void
  network: SimNetwork
  random: Random
  logger: Logger
  /** Runtime tuning, as `createNode`'s `runtime` option. */
  runtime?: Omit<RuntimeInit, 'pools' | 'targets'>
  /** Incarnation of this start: a restarted node has a larger one. */
  incarnation: number
}

/**
 * One simulated node: the real membership view, fed by records that cross the simulated
 * network each heartbeat and swept for silence as the mesh does, and the real runtime,
 * told of every new placement. What the libp2p host adds (connections, their closing, the
 * redial) is left out: a node that is gone is found by its silence alone.
 */
export class SimNode {
  readonly peerId: string
  readonly runtime: Runtime
  readonly view: MembershipView
  private readonly c: SimNodeInit
  private status: MemberStatus = 'joining'
  private seq = 0
  private placementCache?: Placement
  private heartbeat?: TimerHandle
  private sweeper?: TimerHandle
  private alive = true

  constructor (init: SimNodeInit) {
    this.c = init
    this.peerId = init.peerId
    const transport = init.network.attach(init.peerId, {
      handleCall: (p, from) => this.runtime.handleCall(p, from),
      handleCast: (p, from) => { this.runtime.handleCast(p, from) },
      onGossip: (bytes, from) => { this.onGossip(bytes as Uint8Array, from) }
    })
    this.runtime = new Runtime({
      self: () => this.peerId,
      placement: () => this.placement(),
      members: () => this.view.snapshot().members,
      countOf: (peer, pool) => this.view.figures(peer)?.counts[pool],
      transport,
      clock: init.clock,
      random: init.random,
      logger: init.logger
    }, { fenceAfterMs: 0, ...init.runtime, pools: init.pools, targets: init.targets })
    this.view = new MembershipView(this.record(), init.clock, { suspectAfterMs: DEFAULT_SUSPECT_AFTER_MS, downAfterMs: DEFAULT_DOWN_AFTER_MS, forgetAfterMs: DEFAULT_FORGET_AFTER_MS })
    this.view.addEventListener('membership:change', () => { if (this.alive) this.runtime.onPlacement(this.placement()) })
  }

  /** Starts: heartbeats and sweeps run, the runtime takes work, and the node announces `up`. */
  start (): void {
    this.runtime.start()
    this.runtime.onPlacement(this.placement())
    this.beat()
    this.sweep()
    this.setStatus('up')
  }

  /** Announces a status at once (`draining`, `leaving`...). */
  setStatus (status: MemberStatus): void {
    this.status = status
    this.publish()
  }

  /** Announces this node's targets (its ring weights) at once. */
  setTargets (targets: Record<string, number>): void {
    for (const [pool, t] of Object.entries(targets)) this.runtime.setTarget(pool, t)
    this.publish()
  }

  /** Leaves gracefully: `leaving` is announced, the runtime saves and deactivates, and the node goes. */
  async stop (): Promise<void> {
    if (!this.alive) return
    this.setStatus('leaving')
    await this.runtime.stop()
    this.end()
  }

  /** kill -9: everything in memory is gone at once; nothing more runs or is sent. */
  kill (): void {
    if (!this.alive) return
    this.c.kill()
    this.end()
  }

  /** The placement of the current view, rebuilt only when its version moved. */
  placement (): Placement {
    const snap = this.view.snapshot()
    if (this.placementCache?.version !== snap.version) this.placementCache = Placement.fromSnapshot(snap, this.placementCache)
    return this.placementCache
  }

  private end (): void {
    this.alive = false
    if (this.heartbeat !== undefined) this.c.clock.clearTimeout(this.heartbeat)
    if (this.sweeper !== undefined) this.c.clock.clearTimeout(this.sweeper)
    this.c.network.detach(this.peerId)
  }

  private record (): MemberRecord {
    const counts = this.runtime.counts()
    const pools: MemberRecord['pools'] = {}
    for (const [name, target] of Object.entries(this.runtime.targets())) pools[name] = { target, count: counts[name] ?? 0 }
    return { peerId: this.peerId, addresses: [], status: this.status, pools, incarnation: this.c.incarnation, seq: ++this.seq, load: 0, heartbeatMs: DEFAULT_HEARTBEAT_MS }
  }

  /** Sends this node's record to every node on the network, as its heartbeat does. */
  private publish (): void {
    if (!this.alive) return
    const record = this.record()
    this.view.updateSelf(record)
    const bytes = encodeRecord(record)
    for (const peer of this.c.network.peers()) if (peer !== this.peerId) this.c.network.gossip(this.peerId, peer, bytes)
  }

  private onGossip (bytes: Uint8Array, from: string): void {
    if (!this.alive) return
    const record = decodeRecord(bytes)
    // the real gossip is signed: a node speaks only for itself
    if (record.peerId !== from) return
    this.view.onRecord(record)
  }

  private beat (): void {
    this.heartbeat = this.c.clock.setTimeout(() => {
      this.publish()
      this.beat()
    }, DEFAULT_HEARTBEAT_MS)
  }

  private sweep (): void {
    this.sweeper = this.c.clock.setTimeout(() => {
      this.view.sweep()
      this.sweep()
    }, MEMBERSHIP_SWEEP_MS)
  }
}
