import {
  AbortError, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_MAX_HOPS, DEFAULT_POOL_TARGET, DEFAULT_SPAWN_BATCH, DEFAULT_SUSPECT_AFTER_MS, DEFAULT_TIMING_WHEEL_MS,
  InvalidMessageError, InvalidOptionError, NodeUnavailableError, NotStartedError, OverloadedError,
  UnknownPoolError, consoleLogger, systemClock, systemRandom, toWireError
} from '@simplepool/core'
import type { Clock, Logger, TimerHandle } from '@simplepool/core'
import { WeightedRing } from '@simplepool/ring'
import type { Placement } from '@simplepool/ring'
import { Phase, SPAWNED } from './activation.js'
import type { Activation, Reply } from './activation.js'
import { WorkerEvents } from './events.js'
import { LocalPool, NOT_NOW } from './local-pool.js'
import type { LocalEnv } from './local-pool.js'
import { MAX_TIMEOUT_MS, checkId, checkSignal, timeoutOf } from './options.js'
import type { AbortOptions } from './options.js'
import type { PlacementContext, PlacementFn } from './pool.js'
import type {
  CountOptions, RoutingStats, RuntimeComponents, RuntimeInit, SpawnManyOptions, SpawnMode, SpawnOptions, WorkerLocation
} from './runtime-types.js'
import { validatePool } from './pool.js'
import { WorkerRef } from './ref.js'
import type { RefCallOptions, SendOptions } from './ref.js'
import { Scheduler } from './scheduler.js'
import { DeadlineWatch } from './deadline-watch.js'
import { PoolView } from './figures/pool-view.js'
import { Migrator } from './handoff.js'
import { StallGuard } from './stall-guard.js'
import { TimingWheel } from './timing-wheel.js'
import { MAX_ID_LENGTH, Op, int, opOf, str } from './wire.js'

/** How long the ring must stay still before the workers whose owner moved are handed over. */
const DEFAULT_REBALANCE_DELAY_MS = 500

/** How long after a ring change new activations claim their id from whoever may hold it. */
const DEFAULT_CLAIM_WINDOW_MS = 60_000

const NONE: readonly string[] = []

/** What {@link Runtime.arrival} returns for a message that goes on to where its worker spilled: not a peer id. */
const SPILL = '\u0000spill'

/** Workers one handoff message may carry. */
const MAX_HANDOFF_BATCH = 10_000

/** Remote spawn batches in flight at once, over all peers. */
const SPAWN_BATCHES_IN_FLIGHT = 8

/** Forwarding hints sent to one sender for one pool, at most one per this many ms. */
const HINT_INTERVAL_MS = 1_000

/** Epochs hand out this many numbers per millisecond of wall time. */
const EPOCHS_PER_MS = 1024

/** How long a node that stood still waits for the others to say whether they marked it down. */
const FENCE_ASK_TIMEOUT_MS = 2_000

/** Samples (seconds) between two agings of the handoffs remembered against resends. */
const ADOPTED_AGE_SAMPLES = 10

/** How often pool figures are sampled for rates, in ms. */
const SAMPLE_MS = 1_000

function yieldToLoop (): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}

/**
 * The pool runtime of one node: it routes every message to the one live copy of its
 * worker (straight into the mailbox when this node owns it, one envelope on the
 * transport otherwise), answers what other nodes send, and runs the local workers.
 */
export class Runtime {
  /** `worker:activate`, `worker:passivate`, `worker:fail`. */
  readonly events = new WorkerEvents()
  /** Node-wide routing counters. */
  readonly routing: RoutingStats = { droppedCasts: 0, staleRoutes: 0 }
  private readonly c: RuntimeComponents
  /** The clock every deadline, idle timeout and tick is measured on. */
  readonly clock: Clock
  private readonly logger: Logger
  private readonly pools = new Map<string, LocalPool>()
  private readonly views = new Map<string, PoolView>()
  private readonly maxHops: number
  private readonly spawnBatch: number
  private readonly wheel: TimingWheel<Activation>
  private readonly watch: DeadlineWatch
  private lastEpoch = 0
  private readonly hinted = new Map<string, number>()
  private placementCtx = new Map<string, { version: number, ctx: PlacementContext }>()
  private sampler: TimerHandle | undefined
  private samples = 0
  private readonly migrator: Migrator
  private readonly claimWindowMs: number
  private readonly rebalanceDelayMs: number
  /** Each pool's ring fingerprint in the current placement: a change of any is a ring change. */
  private rings: Map<string, string> | undefined
  private current: Placement | undefined
  /** The placement before the last ring change, and when that was. */
  private previous: Placement | undefined
  private changedAt = -Infinity
  private startedAt = -Infinity
  /** Pools whose new activations claim first, while the claim window is open (see {@link noteHolders}). */
  private claimPools = new Set<string>()
  private readonly withoutRings = new Map<string, { version: number, ring: WeightedRing | undefined }>()
  private running = false
  private stopping = false
  private readonly stall: StallGuard
  /** Aborted when the node stops: eager recovery lists no more ids. */
  private readonly recovering = new AbortController()
  /** Set while this node, back from a stall, finds out whether its activations are stale: no turn runs. */
  private fencing = false
  /** Settles when the last fencing is over. */
  private fenced: Promise<void> = Promise.resolve()
  private readonly heldWheel: Array<[Activation, number]> = []
  private readonly scheduler: Scheduler
  /** This node's peer id, read once at start: every message compares its owner with it. */
  private self = ''

  constructor (components: RuntimeComponents, init: RuntimeInit) {
    if (init == null || !Array.isArray(init.pools)) throw new InvalidOptionError(`pools must be an array of pools, got ${typeof init?.pools}`)
    this.c = components
    this.clock = components.clock ?? systemClock
    this.logger = components.logger ?? consoleLogger('runtime')
    this.maxHops = init.maxHops ?? DEFAULT_MAX_HOPS
    this.spawnBatch = init.spawnBatch ?? DEFAULT_SPAWN_BATCH
    for (const [k, v] of [['maxHops', this.maxHops], ['spawnBatch', this.spawnBatch], ['timingWheelMs', init.timingWheelMs ?? 1]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(`${k} must be a positive integer, got ${String(v)} (${typeof v})`)
    }
    const pools = new Map<string, LocalPool>()
    const wheel = new TimingWheel<Activation>(this.clock, init.timingWheelMs ?? DEFAULT_TIMING_WHEEL_MS, (act, slot) => {
      // an idle deadline met while fencing would save what may be stale: it waits (and the
      // wheel's timer may be the first thing to run after a stall)
      if (!this.fencing) this.stall.check(this.clock.monotonic())
      if (this.fencing) this.heldWheel.push([act, slot])
      else (act.home as LocalPool).onWheel(act, slot)
    })
    const watch = new DeadlineWatch(this.clock, (act, reply, where) => { (act.home as LocalPool).expire(act, reply, where) })
    const scheduler = new Scheduler((act, now) => (act.home as LocalPool).run(act, now), this.clock.monotonic)
    // without a way to ask the others, a stall cannot be told from a failover: off unless asked for
    this.stall = new StallGuard(this.clock, init.fenceAfterMs ?? (components.markedDown !== undefined ? DEFAULT_SUSPECT_AFTER_MS : 0), (ms) => { this.onStall(ms) })
    scheduler.onDrain = (now) => { this.stall.check(now) }
    this.scheduler = scheduler
    const env: LocalEnv = {
      clock: this.clock,
      random: components.random ?? systemRandom,
      logger: this.logger,
      scheduler,
      wheel,
      watch,
      events: this.events,
      self: () => this.self,
      ref: (pool, id) => this.ref(pool, id),
      nextEpoch: () => this.nextEpoch(),
      holders: (pool, id) => this.holders(pool, id),
      claim: async (pool, id, holders) => await this.claim(pool, id, holders),
      fencing: () => this.fencing,
      spillEnded: (pool, id, owner) => { this.noteSpill(pool, id, owner) }
    }
    for (const def of init.pools) {
      validatePool(def)
      if (pools.has(def.name)) throw new InvalidOptionError(`two pools are named ${def.name}`)
      // own keys only: a pool named like an Object.prototype member must not read it
      const given = init.targets !== undefined && Object.hasOwn(init.targets, def.name) ? init.targets[def.name] : undefined
      pools.set(def.name, new LocalPool(def, given ?? def.target ?? DEFAULT_POOL_TARGET, env))
    }
    for (const [name, t] of Object.entries(init.targets ?? {})) {
      if (!pools.has(name)) throw new InvalidOptionError(`targets name pool ${name}, which is not among this node's pools`)
      if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new InvalidOptionError(`target of ${name} must be a number >= 0, got ${String(t)} (${typeof t})`)
    }
    this.pools = pools
    for (const local of pools.values()) this.views.set(local.name, new PoolView(local, this.clock, () => local.spilled.size))
    this.wheel = wheel
    this.watch = watch
    this.claimWindowMs = init.claimWindowMs ?? DEFAULT_CLAIM_WINDOW_MS
    this.rebalanceDelayMs = init.rebalanceDelayMs ?? DEFAULT_REBALANCE_DELAY_MS
    this.migrator = new Migrator({
      clock: this.clock,
      logger: this.logger,
      transport: components.transport,
      self: () => this.self,
      pools: () => this.pools.values(),
      ownerOf: (local, id) => this.homeOf(local, id),
      beforePump: () => { this.stall.check(this.clock.monotonic()) },
      progress: (phase, figures) => {
        const type = `migration:${phase}` as const
        if (this.events.has(type)) this.events.emit(type, { node: this.self, ...figures })
      }
    }, { perSecond: init.migrationsPerSecond })
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
    if (!moved) return
    const first = this.rings === undefined
    this.rings = rings
    this.previous = this.current
    this.current = placement
    this.noteHolders()
    this.changedAt = this.clock.monotonic()
    this.prunePointers()
    if (!first && this.running) this.reassertSpills()
    if (this.previous !== undefined && this.running) this.recoverLost(this.previous, placement)
    if (!first && this.running) this.migrator.ringChanged(this.rebalanceDelayMs)
  }

  /**
   * Notes, as the ring moves (or this node starts), the pools in which some other node
   * held workers: only there can a new activation here be a worker another node still
   * holds, so only there does it claim first. A cluster that forms and then activates pays
   * no claims. (Counts ride the heartbeat: workers a node started within its last heartbeat
   * before the change are not seen; at worst two copies meet in a handoff and the newer
   * epoch wins.) A pool whose claim window is still open stays in it.
   */
  private noteHolders (): void {
    const self = this.self
    const now = this.clock.monotonic()
    const next = now - Math.max(this.changedAt, this.startedAt) <= this.claimWindowMs ? new Set(this.claimPools) : new Set<string>()
    for (const pool of this.pools.keys()) {
      if (next.has(pool)) continue
      for (const m of this.c.members()) {
        if (m.peerId === self || m.liveness === 'down') continue
        const n = this.c.countOf?.(m.peerId, pool)
        if (n === undefined || n > 0) {
          next.add(pool)
          break
        }
      }
    }
    this.claimPools = next
  }

  /**
   * After a ring change, a spill pointer to a node that is gone (down or forgotten) goes:
   * whatever lived there is lost with it. Pointers to a node that lives on stay until it
   * says the worker ended there, or hands it over.
   */
  private prunePointers (): void {
    const alive = new Set(this.c.members().filter(m => m.liveness !== 'down').map(m => m.peerId))
    for (const local of this.pools.values()) {
      for (const [id, to] of local.spilled) if (!alive.has(to)) local.spilled.delete(id)
    }
  }

  /**
   * After a ring change, each worker spilled here that stays tells its owner so again: an
   * owner that restarted, or took this node for down a moment, has its pointer back.
   */
  private reassertSpills (): void {
    for (const local of this.pools.values()) {
      if (local.spilledFrom.size === 0) continue
      const serving = this.serves(local.name)
      for (const [id, owner] of local.spilledFrom) {
        if (serving && this.ownerIn(local.name, id, local, this.c.placement()) === owner) this.noteSpill(local.name, id, owner, true)
      }
    }
  }

  /**
   * Pools with eager recovery bring back, at once, the workers of nodes that left their
   * ring because they are down (not those draining or leaving: those hand theirs over):
   * each node activates, from `load`, the listed ids that the lost node owned and it owns now.
   */
  private recoverLost (previous: Placement, current: Placement): void {
    for (const local of this.pools.values()) {
      if (local.def.recovery !== 'eager') continue
      const now = new Set(current.ring(local.name)?.nodes ?? [])
      const lost = (previous.ring(local.name)?.nodes ?? []).filter(peer =>
        !now.has(peer) && this.c.members().find(m => m.peerId === peer)?.liveness !== 'alive')
      if (lost.length === 0) continue
      // as for the handoff: a node that comes back within the delay (it flapped) is not recovered
      this.clock.setTimeout(() => {
        const still = new Set(lost.filter(peer => this.c.members().find(m => m.peerId === peer)?.liveness !== 'alive'))
        if (still.size > 0 && this.running) void this.recover(local, still, previous)
      }, this.rebalanceDelayMs)
    }
  }

  private async recover (local: LocalPool, lost: Set<string>, previous: Placement): Promise<void> {
    const signal = this.recovering.signal
    let looked = 0
    let started = 0
    try {
      for await (const id of (local.def.liveIds as (signal: AbortSignal) => Iterable<string> | AsyncIterable<string>)(signal)) {
        if (signal.aborted || !this.running) return
        if ((++looked & 1023) === 0) await yieldToLoop()
        if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || local.activations.has(id)) continue
        try {
          const was = this.ownerIn(local.name, id, local, previous)
          if (was === undefined || !lost.has(was) || this.ownerIn(local.name, id, local, this.c.placement()) !== this.self) continue
          local.ensure(id)
          started++
        } catch {
          // a custom placement that named no serving node, or a failed activation (counted and reported by the pool)
        }
      }
      this.logger.info(`${local.name}: brought back ${started} workers of ${[...lost].join(', ')} (of ${looked} ids listed)`)
    } catch (err) {
      const e = err as Error
      this.logger.warn(`${local.name}: eager recovery stopped after ${started} workers: liveIds failed: ${e.name}: ${e.message}`)
    }
  }

  /** Looks again, now, for workers whose owner moved, and hands them over. */
  rebalance (): void {
    if (this.running) this.migrator.ringChanged()
  }

  /**
   * What a rebalance of `pool` would move from this node now: per destination, how many
   * of its live workers belong elsewhere (by the same rule the handoff follows). Looks at
   * every worker of the pool here: an operator's question, not for a hot path.
   */
  movePlan (pool: string): Record<string, number> {
    const local = this.pools.get(pool)
    if (local === undefined) throw new UnknownPoolError(`node ${this.self} does not run pool ${pool}`, { pool })
    const plan: Record<string, number> = {}
    for (const id of local.activations.keys()) {
      const home = this.homeOf(local, id)
      if (home !== undefined && home !== this.self) plan[home] = (plan[home] ?? 0) + 1
    }
    return plan
  }

  /** The node worker `id` belongs on in this node's view (undefined: nobody serves the pool). */
  private homeOf (local: LocalPool, id: string): string | undefined {
    try {
      const owner = this.ownerOf(local.name, id, local)
      // a worker spilled here stays while its owner is the same and this node serves the pool
      if (owner !== this.self && local.spilledFrom.get(id) === owner && this.serves(local.name)) return this.self
      return owner
    } catch {
      return undefined
    }
  }

  /** Workers waiting to be handed to their new owners. */
  get migrationBacklog (): number {
    return this.migrator.backlog
  }

  /** Starts the one-second sampling of pool figures. */
  start (): void {
    if (this.running) return
    this.self = this.c.self()
    this.noteHolders()
    this.startedAt = this.clock.monotonic()
    this.running = true
    const tick = (): void => {
      const now = this.clock.monotonic()
      const age = (++this.samples % ADOPTED_AGE_SAMPLES) === 0
      for (const p of this.pools.values()) {
        p.stats.sample(now)
        for (const [id, r] of p.reclaim) if (now - r.at > this.claimWindowMs) p.reclaim.delete(id)
        if (age) p.ageAdopted()
      }
      this.sampler = this.clock.setTimeout(tick, SAMPLE_MS)
    }
    tick()
    this.stall.start()
  }

  /**
   * The event loop stood still long enough that the others may have marked this node down
   * and started its workers elsewhere. No turn runs, no worker is saved or handed over,
   * until the others say whether they did; if any did (or cannot say), every activation
   * here is dropped unsaved, and new ones claim their id first, as after a ring change.
   */
  private onStall (pausedMs: number): void {
    if (this.fencing || !this.running) return
    this.fencing = true
    this.scheduler.hold()
    this.migrator.hold()
    // what starts here meanwhile is not stale (it has a larger epoch), but claims its id
    // first, since the others may hold it
    const staleUpTo = this.lastEpoch
    const changedBefore = this.changedAt
    const claimedBefore = this.claimPools
    this.claimPools = new Set(this.pools.keys())
    const stalledAt = this.changedAt = this.clock.monotonic()
    const ask = this.c.markedDown?.(pausedMs, { timeoutMs: FENCE_ASK_TIMEOUT_MS }) ?? Promise.resolve(true)
    this.fenced = ask.catch(() => true).then((down) => {
      let dropped = 0
      if (down) {
        const err = new NodeUnavailableError(`node ${this.self} stood still for ${Math.round(pausedMs)} ms and was marked down; its workers live elsewhere`, { node: this.self })
        for (const p of this.pools.values()) dropped += p.fence(err, staleUpTo)
        this.changedAt = this.clock.monotonic()
      } else if (this.changedAt === stalledAt) {
        // nobody took its workers: no claim window for a stall alone
        this.changedAt = changedBefore
        this.claimPools = claimedBefore
      }
      this.fencing = false
      this.logger.warn(`the event loop stood still for ${Math.round(pausedMs)} ms; ${down ? `marked down: dropped ${dropped} stale activations` : 'nobody marked this node down: nothing dropped'}`)
      if (this.events.has('node:fence')) this.events.emit('node:fence', { node: this.self, pausedMs, markedDown: down, dropped })
      this.scheduler.release()
      this.migrator.release()
      for (const [act, slot] of this.heldWheel.splice(0)) (act.home as LocalPool).onWheel(act, slot)
    })
  }

  /**
   * Saves and deactivates every local worker, then stops. Messages waiting for them are
   * answered with `NodeUnavailableError`.
   */
  async stop (options: AbortOptions = {}): Promise<void> {
    if (!this.running || this.stopping) return
    this.stopping = true
    // a stop right after a stall (a SIGTERM handler may be the first thing to run) saves
    // only what is not stale
    this.stall.check(this.clock.monotonic())
    await this.fenced
    this.running = false
    this.migrator.stop()
    // a worker whose handoff is in flight is not here to save: wait for the answer, which
    // either moves it or gives it back (and then it is saved below)
    await this.migrator.idle()
    if (this.sampler !== undefined) this.clock.clearTimeout(this.sampler)
    this.stall.stop()
    this.recovering.abort()
    for (const p of this.pools.values()) await p.shutdown(options.signal)
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

  /**
   * This node's own pool, or `undefined`: its tables and mailboxes, for the runtime's
   * tests and benchmarks. Anything else reads {@link pool}.
   * @internal
   */
  localPool (name: string): LocalPool | undefined {
    return this.pools.get(name)
  }

  /** This node's targets, for its membership record. */
  targets (): Record<string, number> {
    const out: Record<string, number> = {}
    for (const p of this.pools.values()) out[p.name] = p.target
    return out
  }

  /** Workers active on this node per pool, for the membership heartbeat. */
  counts (): Record<string, number> {
    const out: Record<string, number> = {}
    for (const p of this.pools.values()) out[p.name] = p.activations.size
    return out
  }

  /** A ref to worker `id` of `pool`. Throws `UnknownPoolError` for a pool no node runs. */
  ref<M = unknown, R = unknown> (pool: string, id: string): WorkerRef<M, R> {
    checkId(id)
    if (!this.pools.has(pool) && !this.c.placement().has(pool)) throw new UnknownPoolError(`no node runs pool ${String(pool)}`, { pool })
    return new WorkerRef<M, R>(this, pool, id)
  }

  /** See {@link WorkerRef.call}. */
  call (pool: string, id: string, msg: unknown, options?: RefCallOptions): Promise<unknown> {
    try {
      this.requireRunning()
      checkId(id)
      const local = this.pools.get(pool)
      const timeoutMs = timeoutOf(options, local?.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS)
      const signal = options?.signal
      checkSignal(signal)
      const spawn = options?.spawn !== false
      const placement = this.c.placement()
      if (local !== undefined) {
        const act = local.activations.get(id)
        if (act !== undefined && act.ownedAt === placement.version) return this.callLocal(local, id, msg, spawn, timeoutMs, signal)
      }
      const owner = this.ownerOf(pool, id, local, placement)
      if (owner === this.self) {
        const spilled = this.spillOf(local as LocalPool, id, spawn)
        if (spilled === undefined) return this.callLocal(local as LocalPool, id, msg, spawn, timeoutMs, signal, placement.version)
        return this.c.transport.call(spilled, [Op.Call, pool, id, msg, spawn ? 1 : 0, 0, timeoutMs, 1], { timeoutMs, signal })
      }
      return this.c.transport.call(owner, [Op.Call, pool, id, msg, spawn ? 1 : 0, 0, timeoutMs], { timeoutMs, signal })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** See {@link WorkerRef.cast}. */
  cast (pool: string, id: string, msg: unknown, options?: SendOptions): void {
    this.requireRunning()
    checkId(id)
    const local = this.pools.get(pool)
    const placement = this.c.placement()
    if (local !== undefined) {
      // a worker live here and owned here at this placement version: no ring lookup
      const act = local.activations.get(id)
      if (act !== undefined && act.ownedAt === placement.version) {
        local.deliverTo(act, null, msg)
        return
      }
    }
    const spawn = options?.spawn !== false
    const owner = this.ownerOf(pool, id, local, placement)
    if (owner !== this.self) {
      this.c.transport.cast(owner, [Op.Cast, pool, id, msg, spawn ? 1 : 0, 0])
      return
    }
    const spilled = this.spillOf(local as LocalPool, id, spawn)
    if (spilled === undefined) (local as LocalPool).deliver(id, null, msg, spawn).ownedAt = placement.version
    else this.c.transport.cast(spilled, [Op.Cast, pool, id, msg, spawn ? 1 : 0, 0, 1])
  }

  /** Activates a worker on its owner; see {@link SpawnOptions}. Resolves with where it lives, or null for `lazy`. */
  async spawn (pool: string, id: string, options: SpawnOptions = {}): Promise<WorkerLocation | null> {
    this.requireRunning()
    checkId(id)
    const mode = this.modeOf(options)
    const local = this.pools.get(pool)
    const owner = this.ownerOf(pool, id, local)
    if (mode === 'lazy') return null
    const timeoutMs = timeoutOf(options, DEFAULT_CALL_TIMEOUT_MS)
    checkSignal(options.signal)
    const sync = mode === 'sync' ? 1 : 0
    if (owner === this.self) {
      const spilled = this.spillOf(local as LocalPool, id, true)
      if (spilled === undefined) return await this.spawnLocal(local as LocalPool, id, mode === 'sync', timeoutMs, options.signal)
      return await (this.c.transport.call(spilled, [Op.Spawn, pool, id, 0, sync, 1], { timeoutMs, signal: options.signal }) as Promise<WorkerLocation>)
    }
    return await (this.c.transport.call(owner, [Op.Spawn, pool, id, 0, sync], { timeoutMs, signal: options.signal }) as Promise<WorkerLocation>)
  }

  /**
   * Activates many workers: ids are grouped by owner into batches, remote batches go as
   * one message each (a few in flight), and the event loop is yielded between batches, so
   * 100,000 ids never stall this node or their owners. Resolves with the number of ids
   * live at the end (for `lazy`, 0: nothing is activated).
   */
  async spawnMany (pool: string, ids: readonly string[], options: SpawnManyOptions = {}): Promise<number> {
    this.requireRunning()
    if (!Array.isArray(ids)) throw new InvalidOptionError(`ids must be an array of strings, got ${typeof ids}`)
    for (const id of ids) checkId(id)
    const mode = this.modeOf(options)
    const local = this.pools.get(pool)
    if (local === undefined && !this.c.placement().has(pool)) throw new UnknownPoolError(`no node runs pool ${String(pool)}`, { pool })
    if (mode === 'lazy') return 0
    const timeoutMs = timeoutOf(options, DEFAULT_CALL_TIMEOUT_MS)
    const signal = options.signal
    let done = 0
    let live = 0
    // the first batch to fail fails the whole call, once every batch in flight has settled
    let failed: Error | undefined
    const inFlight = new Set<Promise<void>>()
    try {
      for (let i = 0; i < ids.length && failed === undefined; i += this.spawnBatch) {
        checkSignal(signal)
        const chunk = ids.slice(i, i + this.spawnBatch)
        for (const [owner, group] of this.groupByOwner(pool, chunk, local)) {
          if (owner === this.self) {
            // not `live += await ...`: that reads `live` before the await and would drop what
            // remote batches added meanwhile
            const n = await this.spawnManyLocal(local as LocalPool, group, mode === 'sync', timeoutMs)
            live += n
            continue
          }
          const tracked: Promise<void> = (this.c.transport.call(owner, [Op.SpawnMany, pool, group, mode === 'sync' ? 1 : 0, 0], { timeoutMs, signal }) as Promise<number>)
            .then((n) => { live += n }, (err) => { failed ??= err as Error })
            .finally(() => { inFlight.delete(tracked) })
          inFlight.add(tracked)
          if (inFlight.size >= SPAWN_BATCHES_IN_FLIGHT) await Promise.race(inFlight)
        }
        done += chunk.length
        options.onProgress?.(done, ids.length)
        await yieldToLoop()
      }
    } finally {
      await Promise.all(inFlight)
    }
    if (failed !== undefined) throw failed
    return live
  }

  /** Where worker `id` is live, or null. Never activates it. */
  async where (pool: string, id: string, options: AbortOptions = {}): Promise<WorkerLocation | null> {
    this.requireRunning()
    checkId(id)
    const local = this.pools.get(pool)
    const owner = this.ownerOf(pool, id, local)
    if (owner === this.self) {
      const spilled = this.spillOf(local as LocalPool, id, false)
      if (spilled === undefined) return this.whereLocal(local as LocalPool, id, owner)
      return await (this.c.transport.call(spilled, [Op.Where, pool, id, 0, 0, 1], this.callOptions(options)) as Promise<WorkerLocation | null>)
    }
    return await (this.c.transport.call(owner, [Op.Where, pool, id, 0], this.callOptions(options)) as Promise<WorkerLocation | null>)
  }

  /**
   * Worker `id` as it lives on this node (epoch, mailbox, why it is here), or null; asks no
   * other node. `where` asks the owner, which does not know of a copy that waits to be
   * handed to it: an operator looking for a worker asks every node this.
   */
  whereHere (pool: string, id: string): WorkerLocation | null {
    this.requireRunning()
    checkId(id)
    const local = this.pools.get(pool)
    if (local === undefined) throw new UnknownPoolError(`node ${this.self} does not run pool ${pool}`, { pool })
    return this.whereLocal(local, id, this.ownerIn(pool, id, local, this.c.placement()) ?? this.self)
  }

  /** True when worker `id` is live. Never activates it. */
  async alive (pool: string, id: string, options: AbortOptions = {}): Promise<boolean> {
    return (await this.where(pool, id, options)) !== null
  }

  /**
   * Saves and deactivates worker `id` after the messages queued before this request.
   * Resolves true when a live worker was stopped, false when none was live.
   */
  async stopWorker (pool: string, id: string, options: AbortOptions = {}): Promise<boolean> {
    this.requireRunning()
    // it saves: after a stall, not before the others said whether this node was replaced
    this.stall.check(this.clock.monotonic())
    checkId(id)
    const local = this.pools.get(pool)
    const owner = this.ownerOf(pool, id, local)
    const opts = this.callOptions(options)
    if (owner === this.self) {
      const spilled = this.spillOf(local as LocalPool, id, false)
      if (spilled === undefined) return await this.stopLocal(local as LocalPool, id, opts.timeoutMs, opts.signal)
      return await (this.c.transport.call(spilled, [Op.Stop, pool, id, 0, 0, 1], opts) as Promise<boolean>)
    }
    return await (this.c.transport.call(owner, [Op.Stop, pool, id, 0], opts) as Promise<boolean>)
  }

  /**
   * Workers of `pool`: on this node with `local`, else exact over the cluster by asking
   * every member that is not down. A member that does not answer fails the count with
   * `NodeUnavailableError` rather than give a wrong number.
   */
  async count (pool: string, options: CountOptions = {}): Promise<number> {
    const local = this.pools.get(pool)
    if (options.local === true) {
      if (local === undefined) throw new UnknownPoolError(`this node does not run pool ${String(pool)}`, { pool })
      return local.activations.size
    }
    if (local === undefined && !this.c.placement().has(pool)) throw new UnknownPoolError(`no node runs pool ${String(pool)}`, { pool })
    const opts = this.callOptions(options)
    const self = this.self
    const parts = this.c.members()
      .filter(m => m.liveness !== 'down' && (m.peerId === self || m.pools[pool] !== undefined))
      .map(async (m) => {
        if (m.peerId === self) return local?.activations.size ?? 0
        try {
          return await (this.c.transport.call(m.peerId, [Op.Count, pool], opts) as Promise<number>)
        } catch (err) {
          const e = err as Error
          if (e.name === 'UnknownPoolError') return 0
          throw new NodeUnavailableError(`count of ${pool} is incomplete: ${m.peerId} did not answer (${e.name}: ${e.message})`, { peer: m.peerId })
        }
      })
    const counts = await Promise.all(parts)
    return counts.reduce((a, b) => a + b, 0)
  }

  /** Sets this node's target for a pool (its weight on the ring follows through membership). */
  setTarget (pool: string, target: number): void {
    const local = this.pools.get(pool)
    if (local === undefined) throw new UnknownPoolError(`this node does not run pool ${String(pool)}`, { pool })
    if (typeof target !== 'number' || !Number.isFinite(target) || target < 0) throw new InvalidOptionError(`target of ${pool} must be a number >= 0, got ${String(target)} (${typeof target})`)
    local.target = target
  }

  /** Handles a runtime call from another node; the transport sends back what this returns or throws. */
  handleCall (payload: unknown, from: string): unknown {
    if (!this.running) throw new NodeUnavailableError(`node ${this.self} is stopping`, { node: this.self })
    const p = payload as unknown[]
    const now = this.clock.monotonic()
    this.stall.check(now)
    switch (opOf(payload)) {
      case Op.Call: {
        const pool = str(p, 1, 'pool')
        const id = str(p, 2, 'id')
        const spawn = p[4] !== 0
        const hops = int(p, 5, 'hops')
        const timeoutMs = Math.min(int(p, 6, 'timeoutMs'), MAX_TIMEOUT_MS)
        const local = this.pools.get(pool)
        const placement = this.c.placement()
        const live = local?.activations.get(id)
        // live and owned here at this placement version: no ring lookup, as for a local call
        let version: number | undefined = placement.version
        if (live === undefined || live.ownedAt !== version) {
          const owner = this.ownerOf(pool, id, local, placement)
          const to = this.arrival(local, pool, id, owner, from, p[7] === 1, spawn)
          if (to === SPILL) return this.relay(local?.spilled.get(id) as string, pool, hops, timeoutMs, [Op.Call, pool, id, p[3], p[4], hops + 1, timeoutMs, 1])
          if (to !== this.self) return this.forward(from, pool, owner, hops, timeoutMs, [Op.Call, pool, id, p[3], p[4], hops + 1, timeoutMs])
          // a worker spilled here is not owned here: the next message looks again
          if (owner !== this.self) version = undefined
        }
        if (!this.fencing) {
          const answer = (local as LocalPool).callNow(id, p[3], spawn, now + Math.max(1, timeoutMs), version)
          if (answer !== NOT_NOW) return answer
        }
        return this.callLocal(local as LocalPool, id, p[3], spawn, Math.max(1, timeoutMs), undefined, version)
      }
      case Op.SpawnMany: return this.handleSpawnMany(p, from)
      case Op.Spawn:
      case Op.Where:
      case Op.Stop: {
        const pool = str(p, 1, 'pool')
        const id = str(p, 2, 'id')
        const hops = int(p, 3, 'hops')
        const local = this.pools.get(pool)
        const owner = this.ownerOf(pool, id, local)
        // (spilled here by its owner, a where or stop is answered here: it starts nothing)
        const to = this.arrival(local, pool, id, owner, from, p[5] === 1, p[0] === Op.Spawn)
        if (to === SPILL) return this.relay(local?.spilled.get(id) as string, pool, hops, DEFAULT_CALL_TIMEOUT_MS, [p[0], pool, id, hops + 1, p[4], 1])
        if (to !== this.self) return this.forward(from, pool, owner, hops, DEFAULT_CALL_TIMEOUT_MS, [p[0], pool, id, hops + 1, p[4]])
        const l = local as LocalPool
        if (p[0] === Op.Spawn) return this.spawnLocal(l, id, p[4] === 1, DEFAULT_CALL_TIMEOUT_MS)
        if (p[0] === Op.Where) return this.whereLocal(l, id, owner)
        return this.stopLocal(l, id, DEFAULT_CALL_TIMEOUT_MS)
      }
      case Op.HandoffMany: {
        const pool = str(p, 1, 'pool')
        const items = p[2]
        if (!Array.isArray(items) || items.length % 3 !== 0 || items.length > 3 * MAX_HANDOFF_BATCH) {
          throw new InvalidMessageError(`a handoff carries [id, epoch, snapshot] triples, at most ${MAX_HANDOFF_BATCH}`)
        }
        const local = this.pools.get(pool)
        if (local === undefined) throw new UnknownPoolError(`node ${this.self} does not run pool ${pool}`, { pool })
        const out: unknown[] = []
        for (let i = 0; i < items.length; i += 3) {
          try {
            const id = str(items, i, 'id')
            const epoch = int(items, i + 1, 'epoch')
            out.push(local.adopt(id, items[i + 2], from, epoch).epoch)
          } catch (err) {
            // one worker refused (already live here, a bad id) does not fail the others
            out.push(toWireError(err))
          }
        }
        return out
      }
      case Op.Claim: {
        const pool = str(p, 1, 'pool')
        const id = str(p, 2, 'id')
        // the node that wants the worker: the sender, or the one a spill pointer's owner asks for
        const claimer = p[3] === undefined ? from : str(p, 3, 'claimer')
        const local = this.pools.get(pool)
        const act = local?.activations.get(id)
        if (local === undefined) return 'none'
        if (act === undefined) {
          // it spilled from here: the node it spilled to may hold it
          const spilledTo = local.spilled.get(id)
          if (spilledTo === undefined || spilledTo === claimer || p[3] !== undefined) return 'none'
          return this.c.transport.call(spilledTo, [Op.Claim, pool, id, claimer], { timeoutMs: DEFAULT_CALL_TIMEOUT_MS }).catch(() => 'none')
        }
        // it may be stale: the claimer asks again in a moment
        if (this.fencing) return 'mine'
        // handed only to the node this one sees as its owner, so 'moved' means "moved to you"
        const owner = this.ownerOf(pool, id, local)
        if (owner !== claimer) return 'mine'
        return this.migrator.handOverNow(local, act, owner).then(moved => moved ? 'moved' : 'mine')
      }
      case Op.Count: {
        const pool = str(p, 1, 'pool')
        const local = this.pools.get(pool)
        if (local === undefined) throw new UnknownPoolError(`node ${this.self} does not run pool ${pool}`, { pool })
        return local.activations.size
      }
      default:
        throw new InvalidMessageError(`unknown runtime operation ${String(p[0])}`)
    }
  }

  /** Handles a runtime cast from another node. A cast that cannot be delivered is counted, never thrown back. */
  handleCast (payload: unknown, from: string): void {
    if (!this.running) {
      this.routing.droppedCasts++
      return
    }
    this.stall.check(this.clock.monotonic())
    const p = payload as unknown[]
    const op = opOf(payload)
    if (op === Op.Hint) {
      this.routing.staleRoutes++
      return
    }
    if (op === Op.SpillNote) {
      const local = this.pools.get(str(p, 1, 'pool'))
      const id = str(p, 2, 'id')
      if (p[3] === 1) local?.spilledTo(id, from)
      else local?.unspilled(id, from, this.clock.monotonic())
      return
    }
    if (op !== Op.Cast) throw new InvalidMessageError(`unknown runtime cast ${String(op)}`)
    const pool = str(p, 1, 'pool')
    const id = str(p, 2, 'id')
    const hops = int(p, 5, 'hops')
    try {
      const local = this.pools.get(pool)
      const placement = this.c.placement()
      const live = local?.activations.get(id)
      // live and owned here at this placement version: no ring lookup, as for a local send
      if (live !== undefined && live.ownedAt === placement.version) {
        (local as LocalPool).deliverTo(live, null, p[3])
        return
      }
      const owner = this.ownerOf(pool, id, local, placement)
      const spawn = p[4] !== 0
      const to = this.arrival(local, pool, id, owner, from, p[6] === 1, spawn)
      if (to === this.self) {
        const act = (local as LocalPool).deliver(id, null, p[3], spawn)
        if (owner === this.self) act.ownedAt = placement.version
        return
      }
      if (hops + 1 > this.maxHops) throw new NodeUnavailableError(`no agreed owner for ${pool}/${id} after ${hops} hops`)
      if (to === SPILL) {
        this.c.transport.cast(local?.spilled.get(id) as string, [Op.Cast, pool, id, p[3], p[4], hops + 1, 1])
        return
      }
      this.noteForward(from, pool, owner, local)
      this.c.transport.cast(owner, [Op.Cast, pool, id, p[3], p[4], hops + 1])
    } catch (err) {
      this.routing.droppedCasts++
      const e = err as Error
      this.logger.debug?.(`dropped a cast to ${pool}/${id} from ${from}: ${e.name}: ${e.message}`)
    }
  }

  /**
   * Where a message from another node goes: this node's id (deliver here), `SPILL` (on to
   * the node its worker spilled to, whose pointer `local.spilled` now holds), or the owner
   * this node sees (forward). `flagged`: its owner spilled it here.
   */
  private arrival (local: LocalPool | undefined, pool: string, id: string, owner: string, from: string, flagged: boolean, activates: boolean): string {
    if (owner === this.self) return this.spillOf(local as LocalPool, id, activates) === undefined ? owner : SPILL
    return flagged && this.acceptSpill(local, pool, id, from, activates) ? this.self : owner
  }

  /**
   * Where a message for `id`, which this node owns, goes instead of here: the node the
   * worker spilled to, or undefined to deliver it here. A node at its hard limit for the
   * pool activates no new worker: the next node on the ring takes it, and this node keeps
   * a pointer so messages, `where` and stops find it. Once the pool is below its soft limit
   * here again, the next message brings the worker back (claimed, state and all).
   */
  private spillOf (local: LocalPool, id: string, spawn: boolean): string | undefined {
    // the common case, no pointers and room: two comparisons, no lookup on the way of every message
    if (local.spilled.size === 0 && (!spawn || local.activations.size < local.hardLimit)) return undefined
    if (local.activations.has(id)) return undefined
    const to = local.spilled.get(id)
    if (to === undefined) {
      if (!spawn || local.activations.size < local.hardLimit) return undefined
      const next = this.ownerWithout(local.name, id, this.self)
      // no other node serves the pool: over the limit here rather than nowhere
      if (next === undefined) return undefined
      local.spilled.set(id, next)
      local.stats.counters.spilled++
      return next
    }
    if (spawn && local.activations.size < local.softLimit) {
      local.spilled.delete(id)
      local.reclaim.set(id, { from: to, at: this.clock.monotonic() })
      return undefined
    }
    return to
  }

  /**
   * A message its owner `from` spilled here (at its hard limit): true to take it here.
   * Taken when the worker is live here or the message starts nothing; otherwise this node
   * starts the worker only if it serves the pool and is below its own hard limit (else it
   * throws `OverloadedError`, and tells `from` to forget its pointer here). False when this
   * node sees another owner than `from` (the views differ): route it as any message.
   */
  private acceptSpill (local: LocalPool | undefined, pool: string, id: string, from: string, activates: boolean): boolean {
    if (local === undefined) throw new UnknownPoolError(`node ${this.self} does not run pool ${pool}`, { pool })
    if (!activates || local.activations.has(id)) return true
    if (this.ownerOf(pool, id, local) !== from) {
      this.noteSpill(pool, id, from)
      return false
    }
    const why = !this.serves(pool) ? `${this.self} does not serve ${pool} now` : local.activations.size >= local.hardLimit ? `${this.self} is at its hard limit too` : ''
    if (why !== '') {
      this.noteSpill(pool, id, from)
      throw new OverloadedError(`${pool}/${id} spilled from ${from} cannot start on ${this.self}: ${why}`, { pool, id })
    }
    local.spilledFrom.set(id, from)
    // after any "ended here" note still on its way: the owner's pointer comes back
    this.noteSpill(pool, id, from, true)
    return true
  }

  /** True when this node is on the pool's ring now (up, not drained, a target above 0). */
  private serves (pool: string): boolean {
    return this.c.placement().ring(pool)?.weights.has(this.self) === true
  }

  /** Tells `owner` that worker `id`, which it spilled here, is not live here (any more), or with `live`, that it is. */
  private noteSpill (pool: string, id: string, owner: string, live = false): void {
    try {
      this.c.transport.cast(owner, [Op.SpillNote, pool, id, live ? 1 : 0])
    } catch {
      // a full queue to the owner: its pointer stays, and the next spilled message asks again
    }
  }

  /** Sends a message on, one hop more (a spilled one to where its worker lives: no stale route to report). */
  private relay (to: string, pool: string, hops: number, timeoutMs: number, payload: unknown[]): Promise<unknown> {
    if (hops + 1 > this.maxHops) return Promise.reject(new NodeUnavailableError(`no agreed owner for a message to ${pool} after ${hops} hops: the nodes' views of the ring disagree`, { pool }))
    return this.c.transport.call(to, payload, { timeoutMs: Math.max(1, timeoutMs) })
  }

  /**
   * The owner of `id` in this node's view. Throws `UnknownPoolError` for a pool nobody
   * runs, `NodeUnavailableError` when nobody serves it now.
   */
  private ownerOf (pool: string, id: string, local: LocalPool | undefined, placement = this.c.placement()): string {
    const owner = this.ownerIn(pool, id, local, placement)
    if (owner !== undefined) return owner
    if (local === undefined && !placement.has(pool)) throw new UnknownPoolError(`no node runs pool ${String(pool)}`, { pool })
    throw new NodeUnavailableError(`no node serves pool ${pool} now`, { pool })
  }

  /** The owner of `id` in `placement`, or undefined when nobody serves the pool there. Never throws for that: a lookup on every activation must not build an error. */
  private ownerIn (pool: string, id: string, local: LocalPool | undefined, placement: Placement): string | undefined {
    const fn = local?.def.placement
    return typeof fn === 'function' ? this.custom(pool, id, fn, placement) : placement.ownerOf(pool, id)
  }

  private custom (pool: string, id: string, fn: PlacementFn, placement: Placement): string | undefined {
    let cached = this.placementCtx.get(pool)
    if (cached === undefined || cached.version !== placement.version) {
      const ring = placement.ring(pool)
      const ctx: PlacementContext = {
        ownerOf: (key) => placement.ownerOf(pool, key),
        nodes: (ring?.nodes ?? []).map(peerId => ({ peerId, weight: ring?.weights.get(peerId) ?? 0 }))
      }
      cached = { version: placement.version, ctx }
      this.placementCtx.set(pool, cached)
    }
    const owner = fn(id, cached.ctx)
    if (owner !== undefined && !cached.ctx.nodes.some(n => n.peerId === owner)) {
      throw new NodeUnavailableError(`the placement of ${pool} chose ${String(owner)} for ${id}, which does not serve the pool`, { pool, id })
    }
    return owner
  }

  /** A call to a worker this node owns; `version`, when given, is the placement version that said so. */
  private callLocal (local: LocalPool, id: string, msg: unknown, spawn: boolean, timeoutMs: number, signal?: AbortSignal, version?: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const reply: Reply = { resolve, reject, deadline: this.clock.monotonic() + timeoutMs, done: false }
      if (signal !== undefined) this.bindSignal(reply, signal)
      try {
        const act = local.deliver(id, reply, msg, spawn)
        if (version !== undefined) act.ownedAt = version
      } catch (err) {
        reply.done = true
        reply.reject(err as Error)
      }
    })
  }

  /** Rejects `reply` with `AbortError` when `signal` aborts first; the listener goes with the answer. */
  private bindSignal (reply: Reply, signal: AbortSignal): void {
    const { resolve, reject } = reply
    const onAbort = (): void => {
      if (reply.done) return
      reply.done = true
      reject(new AbortError('the call was aborted'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    reply.resolve = (v) => { signal.removeEventListener('abort', onAbort); resolve(v) }
    reply.reject = (e) => { signal.removeEventListener('abort', onAbort); reject(e) }
  }

  private spawnLocal (local: LocalPool, id: string, sync: boolean, timeoutMs: number, signal?: AbortSignal): Promise<WorkerLocation> {
    return new Promise((resolve, reject) => {
      const reply: Reply = { resolve: resolve as (v: unknown) => void, reject, deadline: this.clock.monotonic() + timeoutMs, done: false }
      if (signal !== undefined) this.bindSignal(reply, signal)
      try {
        const act = local.ensure(id)
        // a worker that is saving on its way out answers for the activation after it
        const waits = act.phase === Phase.Stopping || (sync && act.phase === Phase.Activating)
        if (!waits) {
          reply.done = true
          reply.resolve({ node: this.self, epoch: act.epoch })
          return
        }
        local.deliverTo(act, SPAWNED, reply)
      } catch (err) {
        reply.done = true
        reject(err as Error)
      }
    })
  }

  /**
   * Activates ids this node owns (or, with `spilledFrom`, ids their owner spilled here); at
   * the hard limit the rest spill to the next node on the ring, one batch per node.
   */
  private async spawnManyLocal (local: LocalPool, ids: readonly string[], sync: boolean, timeoutMs: number, spilledFrom?: string): Promise<number> {
    const waits: Array<Promise<unknown>> = []
    let live = 0
    let away: Map<string, string[]> | undefined
    for (const id of ids) {
      if (spilledFrom === undefined) {
        const to = this.spillOf(local, id, true)
        if (to !== undefined) {
          away ??= new Map()
          const group = away.get(to) ?? []
          group.push(id)
          away.set(to, group)
          continue
        }
      }
      try {
        const act = local.ensure(id)
        if (act.phase === Phase.Stopping || (sync && act.phase === Phase.Activating)) waits.push(this.spawnLocal(local, id, true, timeoutMs))
        else live++
      } catch {
        // its failure is counted and reported by the pool; the others go on
      }
    }
    const spilled = [...(away ?? [])].map(async ([to, group]) =>
      await (this.c.transport.call(to, [Op.SpawnMany, local.name, group, sync ? 1 : 0, 0, 1], { timeoutMs }) as Promise<number>))
    for (const r of await Promise.allSettled(waits)) if (r.status === 'fulfilled') live++
    for (const r of await Promise.allSettled(spilled)) if (r.status === 'fulfilled') live += r.value
    return live
  }

  private async handleSpawnMany (p: unknown[], from: string): Promise<number> {
    const pool = str(p, 1, 'pool')
    const ids = p[2]
    if (!Array.isArray(ids) || ids.length > 100_000) throw new InvalidMessageError('ids must be an array of at most 100000 strings')
    for (const id of ids) if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) throw new InvalidMessageError('every id must be a non-empty string')
    const sync = p[3] !== 0
    const hops = int(p, 4, 'hops')
    const local = this.pools.get(pool)
    const self = this.self
    if (p[5] === 1 && local !== undefined) {
      // spilled here by their owner: the ids this node takes, counted against its hard limit as it goes
      const here: string[] = []
      let room = local.hardLimit - local.activations.size
      for (const id of ids as string[]) {
        if (local.activations.has(id)) {
          here.push(id)
          continue
        }
        if (room <= 0) {
          this.noteSpill(pool, id, from)
          continue
        }
        try {
          if (this.acceptSpill(local, pool, id, from, true)) {
            here.push(id)
            room--
          }
        } catch {
          // refused, and the owner told
        }
      }
      return await this.spawnManyLocal(local, here, sync, DEFAULT_CALL_TIMEOUT_MS, from)
    }
    let live = 0
    for (const [owner, group] of this.groupByOwner(pool, ids as string[], local)) {
      if (owner === self) {
        for (let i = 0; i < group.length; i += this.spawnBatch) {
          const n = await this.spawnManyLocal(local as LocalPool, group.slice(i, i + this.spawnBatch), sync, DEFAULT_CALL_TIMEOUT_MS)
          live += n
          if (i + this.spawnBatch < group.length) await yieldToLoop()
        }
      } else {
        const n = await (this.forward(from, pool, owner, hops, DEFAULT_CALL_TIMEOUT_MS, [Op.SpawnMany, pool, group, p[3], hops + 1]) as Promise<number>)
        live += n
      }
    }
    return live
  }

  private groupByOwner (pool: string, ids: readonly string[], local: LocalPool | undefined): Map<string, string[]> {
    const byOwner = new Map<string, string[]>()
    for (const id of ids) {
      const owner = this.ownerOf(pool, id, local)
      let g = byOwner.get(owner)
      if (g === undefined) {
        g = []
        byOwner.set(owner, g)
      }
      g.push(id)
    }
    return byOwner
  }

  /** Worker `id` as it lives here: its epoch, mailbox, and why it is here (`owner`: the ring's owner as this node sees it). */
  private whereLocal (local: LocalPool, id: string, owner: string): WorkerLocation | null {
    const act = local.activations.get(id)
    if (act === undefined) return null
    const why = act.phase === Phase.Migrating ? 'handoff' : local.spilledFrom.has(id) ? 'spill' : owner !== this.self ? 'handoff' : 'owner'
    return { node: this.self, epoch: act.epoch, mailbox: act.queued, why, owner }
  }

  private stopLocal (local: LocalPool, id: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const reply: Reply = { resolve: resolve as (v: unknown) => void, reject, deadline: this.clock.monotonic() + timeoutMs, done: false }
      if (signal !== undefined) this.bindSignal(reply, signal)
      try {
        local.stop(id, reply)
      } catch (err) {
        reply.done = true
        reply.reject(err as Error)
      }
    })
  }

  /** Sends a message on to the owner this node sees, once more than the last hop. */
  private forward (from: string, pool: string, owner: string, hops: number, timeoutMs: number, payload: unknown[]): Promise<unknown> {
    if (hops + 1 <= this.maxHops) this.noteForward(from, pool, owner, this.pools.get(pool))
    return this.relay(owner, pool, hops, timeoutMs, payload)
  }

  /** Counts a forward and tells the sender, at most once a second per sender and pool, how this node's ring of the pool looks. */
  private noteForward (from: string, pool: string, owner: string, local: LocalPool | undefined): void {
    if (local !== undefined) local.stats.counters.forwarded++
    const key = `${from}\n${pool}`
    const now = this.clock.monotonic()
    if ((this.hinted.get(key) ?? -Infinity) + HINT_INTERVAL_MS > now) return
    this.hinted.set(key, now)
    if (this.hinted.size > 10_000) this.hinted.clear()
    try {
      this.c.transport.cast(from, [Op.Hint, pool, this.c.placement().ring(pool)?.fingerprint ?? '', owner])
    } catch {
      // a hint is advice; a full queue to the sender is no reason to fail the message
    }
  }

  private callOptions (options: AbortOptions): { timeoutMs: number, signal?: AbortSignal } {
    checkSignal(options.signal)
    return { timeoutMs: timeoutOf(options, DEFAULT_CALL_TIMEOUT_MS), signal: options.signal }
  }

  private modeOf (options: SpawnOptions): SpawnMode {
    const mode = options.mode ?? 'sync'
    if (mode !== 'sync' && mode !== 'async' && mode !== 'lazy') throw new InvalidOptionError(`mode must be 'sync', 'async' or 'lazy', got ${String(mode)}`)
    return mode
  }

  /**
   * The nodes that may still hold `id`, while the ring moved lately (within the claim
   * window since this node started or since the last change): its owner before the last
   * change, and its owner on the current ring without this node (for a node that joined,
   * that is the owner before it came: the others' points did not move). Only members that
   * are not down and did not report zero workers of the pool: at most two round trips, and
   * none in a cluster that is just forming.
   */
  private holders (pool: string, id: string): readonly string[] {
    const local = this.pools.get(pool)
    const now = this.clock.monotonic()
    const back = local?.reclaim.get(id)
    // it spilled there (and may have started there again): that node may hold it
    if (back !== undefined) local?.reclaim.delete(id)
    const spilledThere = back !== undefined && now - back.at <= this.claimWindowMs ? back.from : undefined
    if (now - Math.max(this.changedAt, this.startedAt) > this.claimWindowMs || !this.claimPools.has(pool)) return spilledThere === undefined ? NONE : [spilledThere]
    const out: string[] = []
    const consider = (holder: string | undefined): void => {
      if (holder === undefined || holder === this.self || out.includes(holder) || this.c.countOf?.(holder, pool) === 0) return
      const m = this.c.members().find(x => x.peerId === holder)
      if (m !== undefined && m.liveness !== 'down') out.push(holder)
    }
    if (this.previous !== undefined && now - this.changedAt <= this.claimWindowMs) {
      try {
        consider(this.ownerIn(pool, id, local, this.previous))
      } catch {
        // a custom placement that named a node not serving the pool then
      }
    }
    consider(this.ownerWithout(pool, id, this.self))
    if (spilledThere !== undefined && !out.includes(spilledThere)) out.push(spilledThere)
    return out
  }

  /**
   * The owner of `id` on the pool's current ring with node `without` taken off it: the
   * next node on the ring. Rings cached per pool, node left out and placement version.
   */
  private ownerWithout (pool: string, id: string, without: string): string | undefined {
    const placement = this.c.placement()
    const key = `${pool}\n${without}`
    let cached = this.withoutRings.get(key)
    if (cached === undefined || cached.version !== placement.version) {
      const weights = new Map(placement.ring(pool)?.weights ?? [])
      weights.delete(without)
      cached = { version: placement.version, ring: weights.size > 0 ? new WeightedRing(weights) : undefined }
      if (this.withoutRings.size > 64) this.withoutRings.clear()
      this.withoutRings.set(key, cached)
    }
    return cached.ring?.ownerOf(id)
  }

  /** Claims a worker from every possible holder at once: 'moved' when one handed it over, 'mine' when one keeps it for now, else 'none'. */
  private async claim (pool: string, id: string, holders: readonly string[]): Promise<string> {
    // no answer is not "none": the holder may be handing it over right now; only a holder
    // that is gone cannot hold it
    const answers = await Promise.all(holders.map(async h =>
      await (this.c.transport.call(h, [Op.Claim, pool, id], { timeoutMs: DEFAULT_CALL_TIMEOUT_MS }) as Promise<string>)
        .catch((err: Error) => err.name === 'NodeUnavailableError' ? 'none' : 'mine')))
    if (answers.includes('moved')) return 'moved'
    return answers.includes('mine') ? 'mine' : 'none'
  }

  /**
   * Epochs grow on every activation on this node and follow wall time across nodes:
   * 1024 per millisecond, so a node that restarts (or a new owner) starts above what
   * any node handed out a moment before, as long as clocks agree to within that moment.
   */
  private nextEpoch (): number {
    const e = Math.max(this.clock.now() * EPOCHS_PER_MS, this.lastEpoch + 1)
    this.lastEpoch = e
    return e
  }

  private requireRunning (): void {
    if (!this.running) throw new NotStartedError('the node is not running')
  }
}
