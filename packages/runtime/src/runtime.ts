import {
  HANDED_IN_AGE_SAMPLES, DEFAULT_CLAIM_WINDOW_MS, DEFAULT_MAX_HOPS, DEFAULT_REBALANCE_DELAY_MS,
  DEFAULT_SPAWN_BATCH, DEFAULT_SUSPECT_AFTER_MS, DEFAULT_TIMING_WHEEL_MS, InvalidOptionError,
  NodeUnavailableError, NotStartedError, SAMPLE_MS, UnknownPoolError, consoleLogger, systemClock, systemRandom
} from '@simplepool/core'
import type { Clock, Logger, Member, TimerHandle } from '@simplepool/core'
import type { Placement } from '@simplepool/ring'
import type { Activation } from './activation/activation.js'
import { DeadlineWatch } from './activation/deadline-watch.js'
import { LocalPool } from './activation/local-pool.js'
import type { PoolComponents } from './activation/pool-components.js'
import { createPools, perPool, setTarget } from './activation/pools.js'
import { Scheduler } from './activation/scheduler.js'
import { TimingWheel } from './activation/timing-wheel.js'
import { WorkerEvents } from './events.js'
import { Access } from './access/access.js'
import { StateSenders } from './access/state-senders.js'
import { Epochs } from './fencing/epochs.js'
import { Fence } from './fencing/fence.js'
import { HeldLease } from './fencing/held-lease.js'
import { QuorumLease } from './fencing/quorum.js'
import { StallGuard } from './fencing/stall-guard.js'
import { PoolView } from './figures/pool-view.js'
import { HandoffReceiver } from './handoff/receiver.js'
import { ClaimWindow } from './handoff/claims.js'
import { HandoffSender } from './handoff/sender.js'
import { Recovery } from './handoff/recovery.js'
import { checkId } from './options.js'
import type { AbortOptions } from './options.js'
import { Dispatch } from './protocol/dispatch.js'
import { Replicator } from './replication/replicator.js'
import { WorkerRef } from './ref.js'
import type { RefCallOptions, SendOptions } from './ref.js'
import { Forwarding } from './routing/forwarding.js'
import { Inbound } from './routing/inbound.js'
import { LocalRequests } from './routing/local-requests.js'
import { Outbound } from './routing/outbound.js'
import { Owners } from './routing/owners.js'
import { SendOrder } from './routing/send-order.js'
import { Spill } from './routing/spill.js'
import { ViewWait } from './routing/view-wait.js'
import type { SpillTables } from './routing/spill.js'
import type {
  CountOptions, RoutingStats, RuntimeComponents, RuntimeInit, SpawnManyOptions, SpawnOptions, WorkerLocation
} from './runtime-types.js'

/**
 * The pool runtime of one node: it routes every message to the one live copy of its
 * worker (straight into the mailbox when this node owns it, one envelope on the
 * transport otherwise), answers what other nodes send, and runs the local workers.
 *
 * This class is the runtime's lifecycle, its public API and its wiring; each concern
 * lives in its own part: `activation/` (mailboxes, turns, passivation), `routing/`
 * (owners, forwarding, spill, messages from other nodes), `handoff/` (moving workers,
 * taking them in, the claim window, eager recovery), `fencing/` (epochs, stalls),
 * `figures/` (counters, latency, health) and `protocol/` (the messages between nodes).
 */
export class Runtime {
  /** `worker:activate`, `worker:passivate`, `worker:fail`, `worker:migrate`, `migration:*`, `node:fence`. */
  readonly events = new WorkerEvents()
  /** Node-wide routing counters. */
  readonly routing: RoutingStats = { droppedCasts: 0, staleRoutes: 0 }
  /** The clock every deadline, idle timeout and tick is measured on. */
  readonly clock: Clock
  private readonly c: RuntimeComponents
  private readonly logger: Logger
  private readonly pools = new Map<string, LocalPool>()
  private readonly views = new Map<string, PoolView>()
  private readonly spawnBatch: number
  private readonly wheel: TimingWheel<Activation>
  private readonly watch: DeadlineWatch
  private readonly scheduler: Scheduler
  /** This node's epochs: the largest handed out so far, raised by those heard of (a handoff, a member's record). */
  readonly epochs: Epochs
  private readonly owners: Owners
  private readonly spill: Spill
  private readonly requests: LocalRequests
  private readonly inbound: Inbound
  private readonly dispatch: Dispatch
  private readonly outbound: Outbound
  private readonly order: SendOrder
  private readonly viewWait: ViewWait
  private readonly sender: HandoffSender
  private readonly receiver: HandoffReceiver
  private readonly claims: ClaimWindow
  private readonly recovery: Recovery
  private readonly fence: Fence
  private readonly stall: StallGuard
  /** Replicas of this node's workers on their successors, and those it keeps for others (`peek` reads one). */
  readonly replicator: Replicator
  /** Who among the members may call, host and operate on what (see `AccessRules`); the node's operations check it too. */
  readonly access: Access
  private readonly claimWindowMs: number
  private readonly rebalanceDelayMs: number
  /** Each pool's ring fingerprint in the current placement: a change of any is a ring change. */
  private rings: Map<string, string> | undefined
  private current: Placement | undefined
  private sampler: TimerHandle | undefined
  private samples = 0
  private running = false
  private stopping = false
  /** This node's peer id, read once at start: every message compares its owner with it. */
  private self = ''

  constructor (components: RuntimeComponents, init: RuntimeInit) {
    if (init == null || !Array.isArray(init.pools)) throw new InvalidOptionError(`pools must be an array of pools, got ${typeof init?.pools}`)
    const maxHops = init.maxHops ?? DEFAULT_MAX_HOPS
    this.spawnBatch = init.spawnBatch ?? DEFAULT_SPAWN_BATCH
    for (const [k, v] of [['maxHops', maxHops], ['spawnBatch', this.spawnBatch], ['timingWheelMs', init.timingWheelMs ?? 1], ['replicaWalkPerTurn', init.replicaWalkPerTurn ?? 1]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(`${k} must be a positive integer, got ${String(v)} (${typeof v})`)
    }
    const c = this.c = components
    const clock = this.clock = c.clock ?? systemClock
    const logger = this.logger = c.logger ?? consoleLogger('runtime')
    const self = (): string => this.self
    const pool = (name: string): LocalPool | undefined => this.pools.get(name)
    const pools = (): Iterable<LocalPool> => this.pools.values()
    const running = (): boolean => this.running
    // read at each call, as a components object that is a class instance expects
    const placement = (): Placement => c.placement()
    const members = (): ReadonlyArray<Readonly<Member>> => c.members()
    const countOf = (peer: string, name: string): number | undefined => c.countOf?.(peer, name)
    this.claimWindowMs = init.claimWindowMs ?? DEFAULT_CLAIM_WINDOW_MS
    this.rebalanceDelayMs = init.rebalanceDelayMs ?? DEFAULT_REBALANCE_DELAY_MS
    const access = this.access = new Access(init.access, { clock, events: this.events, self, runs: (name) => this.pools.has(name) })

    this.wheel = new TimingWheel<Activation>(clock, init.timingWheelMs ?? DEFAULT_TIMING_WHEEL_MS, (act, slot) => {
      // the wheel's timer may be the first thing to run after a stall
      if (!this.fence.active) this.stall.check(clock.monotonic())
      if (this.fence.holds(act.home)) this.fence.holdWheel(act, slot)
      else act.home.onWheel(act, slot)
    })
    this.watch = new DeadlineWatch(clock, (act, reply, where) => { act.home.expire(act, reply, where) })
    this.scheduler = new Scheduler((act, now) => act.home.run(act, now), clock)
    this.scheduler.onDrain = (now) => { this.stall.check(now) }
    this.epochs = new Epochs(clock)
    this.owners = new Owners({ self, placement })
    this.spill = new Spill({ clock, transport: c.transport, owners: this.owners, self, pool, pools, placement, members })
    const forwarding = new Forwarding({ clock, transport: c.transport, placement, maxHops })
    const downHere = (peer: string): boolean => (c.members().find(m => m.peerId === peer)?.liveness ?? 'down') === 'down'
    this.requests = new LocalRequests({ clock, transport: c.transport, spill: this.spill, self, isolated: (local) => this.fence.isolated && this.fence.holds(local) })
    const viewWait = this.viewWait = new ViewWait({ clock })
    this.order = new SendOrder({
      clock,
      transport: c.transport,
      self,
      behindWaiting: (p, id) => viewWait.behind(p, id),
      ownersBefore: (p, id, local, withinMs) => this.claims.ownersBefore(p, id, local, withinMs),
      gone: downHere
    })
    this.outbound = new Outbound({
      clock,
      transport: c.transport,
      owners: this.owners,
      spill: this.spill,
      requests: this.requests,
      order: this.order,
      routing: this.routing,
      self,
      pool,
      placement,
      members,
      spawnBatch: this.spawnBatch,
      requireRunning: () => { this.requireRunning() },
      checkStall: () => { this.stall.check(clock.monotonic()) },
      maySend: (name) => access.maySend(name),
      mayHost: access.hostRight
    })
    this.sender = new HandoffSender({
      clock,
      logger,
      transport: c.transport,
      self,
      pools,
      ownerOf: (local, id) => this.spill.homeOf(local, id),
      down: downHere,
      beforePump: () => { this.stall.check(clock.monotonic()) },
      observeEpoch: (e) => { this.epochs.observe(e) },
      movedOut: (p, id, to) => { this.claims.handedOver(p, id, to) },
      sentOn: (p, id, to, answered) => { this.order.followed(p, id, to, answered) },
      events: this.events,
      progress: (phase, figures) => {
        const type = `migration:${phase}` as const
        if (this.events.has(type)) this.events.emit(type, { node: this.self, ...figures })
      }
    }, { perSecond: init.migrationsPerSecond, settleMs: this.rebalanceDelayMs })
    this.claims = new ClaimWindow({
      clock,
      transport: c.transport,
      owners: this.owners,
      spill: this.spill,
      self,
      pool,
      poolNames: () => this.pools.keys(),
      members,
      countOf,
      unheard: () => c.unheard?.() ?? [],
      mayHost: access.hostRight,
      hostsHere: access.open ? undefined : (name) => access.hostsHere(name),
      fencing: () => this.fence.active,
      handOverNow: (local, act, to) => this.sender.handOverNow(local, act, to),
      sendWaiting: (local, act, to) => { this.sender.sendWaiting(local, act, to) }
    }, this.claimWindowMs)
    this.receiver = new HandoffReceiver({ events: this.events, self, pool, nextEpoch: (above) => this.epochs.next(above), observeEpoch: (e) => { this.epochs.observe(e) }, plausibleEpoch: (e) => this.epochs.plausible(e), forgetSpill: (p, id) => { this.spill.forget(p, id) }, taken: (local, act) => { if (this.running && this.spill.homeOf(local, act.id) !== this.self) this.sender.misplaced(local, act) } })
    this.recovery = new Recovery({ clock, logger, owners: this.owners, self, pools, members, placement, running }, this.rebalanceDelayMs)
    this.fence = new Fence({
      clock,
      logger,
      events: this.events,
      scheduler: this.scheduler,
      sender: this.sender,
      claims: this.claims,
      self,
      pools,
      running,
      markedDown: c.markedDown === undefined ? undefined : async (ms, options) => await (c.markedDown?.(ms, options) ?? Promise.resolve(true)),
      keepFenced: (local, act) => { this.replicator.keepFenced(local, act) },
      epochMark: () => this.epochs.last
    })
    this.inbound = new Inbound({
      clock,
      logger,
      transport: c.transport,
      owners: this.owners,
      spill: this.spill,
      forwarding,
      requests: this.requests,
      order: this.order,
      viewWait: this.viewWait,
      ownedHereBefore: (p, id, local, withinMs) => this.claims.ownedHereBefore(p, id, local, withinMs),
      routing: this.routing,
      self,
      placement,
      pools: this.pools,
      fence: this.fence,
      spawnBatch: this.spawnBatch
    })
    const replicator = this.replicator = new Replicator({ clock, logger, transport: c.transport, self, placement: () => this.current, pool, pools, running, down: downHere, ringMovedLately: (p, id) => this.claims.holders(p, id).length > 0, epochs: this.epochs, walkPerTurn: init.replicaWalkPerTurn })
    const senders = new StateSenders({ self, members, countOf, placement, wasOnRing: (p, peer) => this.claims.wasOnRing(p, peer) })
    this.dispatch = new Dispatch({ inbound: this.inbound, receiver: this.receiver, claims: this.claims, fence: this.fence, spill: this.spill, routing: this.routing, replicator, access, senders })
    // without a way to ask the others, a stall cannot be told from a failover: off unless asked for
    const lease = c.lease === undefined || c.markedDown === undefined
      ? undefined
      : 'holds' in c.lease ? new HeldLease(c.lease.holds) : new QuorumLease({ clock, self, members, ...c.lease })
    this.stall = new StallGuard(clock, init.fenceAfterMs ?? (c.markedDown !== undefined ? DEFAULT_SUSPECT_AFTER_MS : 0), (ms) => { this.fence.onStall(ms) }, lease && (() => { lease.beat(this.fence) }))

    const env: PoolComponents = {
      clock,
      random: c.random ?? systemRandom,
      logger,
      scheduler: this.scheduler,
      wheel: this.wheel,
      watch: this.watch,
      events: this.events,
      self,
      ref: (p, id) => this.ref(p, id),
      nextEpoch: () => {
        // a worker started here may be the first thing to run after a stall (a local call a
        // timer made as it came due): the guard looks first, so that it claims as after one
        this.stall.check(clock.monotonic())
        return this.epochs.next()
      },
      holders: (p, id) => this.claims.holders(p, id),
      claimFirst: (p, id, holders, waiting) => this.claims.claimFirst(p, id, holders, waiting),
      redirect: async (act) => { const local = this.pools.get(act.pool); return local !== undefined && await this.sender.redirect(local, act) },
      fencing: () => this.fence.active,
      fenceSettled: async () => { await this.fence.settled },
      removed: (p, id) => { this.spill.removed(p, id) },
      ...replicator.poolHooks()
    }
    for (const [name, local] of createPools(init.pools, init.targets, env)) {
      this.pools.set(name, local)
      this.views.set(name, new PoolView(local, clock, () => this.spill.count(name)))
    }
  }

  /**
   * The node's view moved (a new membership snapshot). When a pool's ring changed, the
   * workers whose owner moved are handed over in the background, and for a while new
   * activations first claim their id from the nodes that may hold it.
   */
  onPlacement (placement: Placement): void {
    const rings = new Map<string, string>()
    let moved = this.rings === undefined
    for (const pool of placement.pools()) {
      const f = placement.ring(pool)?.fingerprint ?? ''
      rings.set(pool, f)
      if (this.rings?.get(pool) !== f) moved = true
    }
    if (this.rings !== undefined && this.rings.size !== rings.size) moved = true
    // a node that left the rings (draining) and was then lost may have been handing over workers replicated here
    if (!moved) return this.replicator.senderLost()
    // a view read at the resume may be the first thing to run after a stall: what waits
    // here for a claim is not sent back on it while the node fences (see ClaimWindow.sendBack)
    this.stall.check(this.clock.monotonic())
    const first = this.rings === undefined
    const previous = this.current
    this.rings = rings
    this.current = placement
    this.claims.ringChanged(previous, placement)
    if (!first) this.order.ringChanged()
    this.spill.ringChanged(!first && this.running)
    if (previous !== undefined && this.running) this.recovery.ringChanged(previous, placement)
    if (!first && this.running) this.sender.ringChanged(this.rebalanceDelayMs)
    this.replicator.ringChanged()
    // last: what waited for this view is routed on all of the above
    this.viewWait.viewMoved()
  }

  /** Looks again, now, for workers whose owner moved, and hands them over. */
  rebalance (): void {
    if (this.running) this.sender.ringChanged()
  }

  /**
   * What a rebalance of `pool` would move from this node now: per destination, how many
   * of its live workers belong elsewhere (by the same rule the handoff follows).
   */
  movePlan (pool: string): Record<string, number> {
    const local = this.pools.get(pool)
    if (local === undefined) throw new UnknownPoolError(`node ${this.self} does not run pool ${pool}`, { pool })
    return this.sender.plan(local)
  }

  /** Workers waiting to be handed to their new owners. */
  get migrationBacklog (): number {
    return this.sender.backlog
  }

  /** Starts the one-second sampling of pool figures and the stall guard. */
  start (): void {
    if (this.running) return
    this.self = this.c.self()
    this.access.checkSelf([...this.pools.values()].filter(p => p.target > 0).map(p => p.name))
    this.claims.start()
    this.running = true
    const tick = (): void => {
      const now = this.clock.monotonic()
      for (const p of this.pools.values()) p.stats.sample(now)
      this.spill.age(now, this.claimWindowMs)
      if ((++this.samples % HANDED_IN_AGE_SAMPLES) === 0) this.receiver.age()
      this.replicator.sweep()
      this.sampler = this.clock.setTimeout(tick, SAMPLE_MS)
    }
    tick()
    this.stall.start()
  }

  /** Saves and deactivates every local worker, then stops. Messages waiting for them are answered with `NodeUnavailableError`. */
  async stop (options: AbortOptions = {}): Promise<void> {
    if (!this.running || this.stopping) return
    this.stopping = true
    // right after a stall (a SIGTERM handler may run first) it saves only what is not stale;
    // cut off from a majority, nothing: the side that holds serves its workers (see Fence.rejoined)
    this.stall.check(this.clock.monotonic())
    this.fence.rejoined(true)
    await this.fence.settled
    this.running = false
    this.sender.stop()
    this.viewWait.close()
    // a worker whose handoff is in flight is not here to save: wait for the answer, which
    // either moves it or gives it back (and then it is saved below)
    await this.sender.idle()
    if (this.sampler !== undefined) this.clock.clearTimeout(this.sampler)
    this.stall.stop()
    this.recovery.stop()
    for (const p of this.pools.values()) await p.passivation.shutdown(options.signal)
    this.wheel.clear()
    this.watch.clear()
  }

  /** The pools this node runs. */
  poolNames (): string[] {
    return [...this.pools.keys()]
  }

  /** One of this node's pools as the node around the runtime sees it (figures, health), or `undefined`. */
  pool (name: string): PoolView | undefined {
    return this.views.get(name)
  }

  /** Every pool of this node, as {@link pool} shows it. */
  poolViews (): PoolView[] {
    return [...this.views.values()]
  }

  /** Claims this node passed on to the node it handed their worker to, not answered yet: a stop waits for them before it announces `leaving`. */
  get claimsPassingOn (): number { return this.claims.passingOn }

  /**
   * This node's own pool, or `undefined`: its tables and mailboxes, for the runtime's
   * tests and benchmarks. Anything else reads {@link pool}.
   * @internal
   */
  localPool (name: string): LocalPool | undefined {
    return this.pools.get(name)
  }

  /** A pool's spill pointers on this node, for the runtime's tests. @internal */
  spillTables (name: string): SpillTables | undefined {
    return this.pools.has(name) ? this.spill.tablesOf(name) : undefined
  }

  /** This node's targets, for its membership record. */
  targets (): Record<string, number> { return perPool(this.pools, p => p.target) }

  /** Workers active on this node per pool, for the membership heartbeat. */
  counts (): Record<string, number> { return perPool(this.pools, p => p.activations.size) }

  /** Sets this node's target for a pool (its weight on the ring follows through membership). */
  setTarget (pool: string, target: number): void { setTarget(this.pools, pool, target) }

  /** A ref to worker `id` of `pool`. Throws `UnknownPoolError` for a pool no node runs. */
  ref<M = unknown, R = unknown> (pool: string, id: string): WorkerRef<M, R> {
    checkId(id)
    if (!this.pools.has(pool) && !this.c.placement().has(pool)) throw new UnknownPoolError(`no node runs pool ${String(pool)}`, { pool })
    return new WorkerRef<M, R>(this.outbound, pool, id)
  }

  /** See {@link WorkerRef.call}. */
  call (pool: string, id: string, msg: unknown, options?: RefCallOptions): Promise<unknown> {
    return this.outbound.call(pool, id, msg, options)
  }

  /** See {@link WorkerRef.cast}. */
  cast (pool: string, id: string, msg: unknown, options?: SendOptions): void {
    this.outbound.cast(pool, id, msg, options)
  }

  /** Activates a worker on its owner; see {@link SpawnOptions}. Resolves with where it lives, or null for `lazy`. */
  spawn (pool: string, id: string, options: SpawnOptions = {}): Promise<WorkerLocation | null> {
    return this.outbound.spawn(pool, id, options)
  }

  /**
   * Activates many workers: ids are grouped by owner into batches, remote batches go as
   * one message each (a few in flight), and the event loop is yielded between batches, so
   * 100,000 ids never stall this node or their owners. Resolves with the number of ids
   * live at the end (for `lazy`, 0: nothing is activated).
   */
  async spawnMany (pool: string, ids: readonly string[], options: SpawnManyOptions = {}): Promise<number> {
    return await this.outbound.spawnMany(pool, ids, options)
  }

  /** Where worker `id` is live, or null. Never activates it. */
  async where (pool: string, id: string, options: AbortOptions = {}): Promise<WorkerLocation | null> {
    return await this.outbound.where(pool, id, options)
  }

  /**
   * Worker `id` as it lives on this node (epoch, mailbox, why it is here), or null; asks no
   * other node. `where` asks the owner, which does not know of a copy that waits to be
   * handed to it: an operator looking for a worker asks every node this.
   */
  whereHere (pool: string, id: string): WorkerLocation | null {
    return this.outbound.whereHere(pool, id)
  }

  /** True when worker `id` is live. Never activates it. */
  async alive (pool: string, id: string, options: AbortOptions = {}): Promise<boolean> {
    return (await this.outbound.where(pool, id, options)) !== null
  }

  /** Saves and deactivates worker `id` after the messages queued before this request: true when a live worker was stopped, false when none was live. */
  async stopWorker (pool: string, id: string, options: AbortOptions = {}): Promise<boolean> {
    return await this.outbound.stopWorker(pool, id, options)
  }

  /**
   * Workers of `pool`: on this node with `local`, else exact over the cluster by asking
   * every member that is not down. A member that does not answer fails the count with
   * `NodeUnavailableError` rather than give a wrong number.
   */
  async count (pool: string, options: CountOptions = {}): Promise<number> {
    return await this.outbound.count(pool, options)
  }

  /** The membership says this node's lease changed (it learnt it is held down): looked at now, not at the next beat. */
  leaseChanged (): void { this.stall.beatNow() }

  /** Handles a runtime call from another node; the transport sends back what this returns or throws. */
  handleCall (payload: unknown, from: string): unknown {
    if (!this.running) throw new NodeUnavailableError(`node ${this.self} is stopping`, { node: this.self })
    const now = this.clock.monotonic()
    this.stall.check(now)
    return this.dispatch.call(payload, from, now)
  }

  /** Handles a runtime cast from another node. A cast that cannot be delivered is counted, never thrown back. */
  handleCast (payload: unknown, from: string): void {
    if (!this.running) { this.routing.droppedCasts++; return }
    this.stall.check(this.clock.monotonic())
    this.dispatch.cast(payload, from)
  }

  private requireRunning (): void {
    if (!this.running) throw new NotStartedError('the node is not running')
  }
}
