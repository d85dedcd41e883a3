/**
 * A pool: one type of worker, its behaviour and the options SimplePool would otherwise
 * choose for it.
 */
import { InvalidOptionError } from '@simplepool/core'
import type { WorkerStore } from '@simplepool/core'
import type { WorkerRef } from './ref.js'

/** What a worker's code sees of itself and the cluster; one per activation. */
export interface WorkerContext {
  /** The worker's id. */
  readonly id: string
  /** The pool's name. */
  readonly pool: string
  /** The peer id of the node this activation runs on. */
  readonly node: string
  /** Grows on every activation of this worker; a newer epoch fences off an older copy. */
  readonly epoch: number
  /**
   * Aborted when the activation stops, or when its current turn runs past the deadline
   * of the call it serves: long async work should watch it.
   */
  readonly signal: AbortSignal
  /** A ref to any worker, to message it from this one. */
  ref: <M = unknown, R = unknown>(pool: string, id: string) => WorkerRef<M, R>
}

/** Where a pool's workers live: the node for an id, from the pool's ring of serving nodes. */
export interface PlacementContext {
  /** The pool's weighted ring: the owner of any key. Undefined when no node serves the pool. */
  ownerOf: (key: string) => string | undefined
  /** The nodes serving the pool and their ring weights (targets, normalized), sorted by peer id. */
  readonly nodes: ReadonlyArray<{ readonly peerId: string, readonly weight: number }>
}

/**
 * A pool's own placement: a pure function of the id and the nodes serving the pool, so
 * every node computes the same owner. Return `undefined` for "nobody".
 */
export type PlacementFn = (id: string, ctx: PlacementContext) => string | undefined

/** The thresholds that turn a pool's figures into a status. */
export interface HealthThresholds {
  /** Failed turns (failures + timeouts) over turns in the last minute at which the pool is `degraded`. @default 0.01 */
  degradedErrorRatio?: number
  /** ...and at which it is `critical`. @default 0.1 */
  criticalErrorRatio?: number
  /** Failures + timeouts per minute below which the ratios are not applied (a few errors among few turns are noise). @default 5 */
  minErrorsPerMin?: number
  /** Turn latency p99 (ms) above which the pool is `degraded`. @default 250 */
  degradedP99Ms?: number
}

/** A pool's behaviour and options. `S` is the state, `M` the message, `R` the reply. */
export interface PoolDefinition<S = unknown, M = unknown, R = unknown> {
  /** The pool's name, the same on every node. */
  name: string
  /** The state of a new worker: on first activation, or when `load` found nothing. */
  init: (id: string, ctx: WorkerContext) => S | Promise<S>
  /** Saved state, or `undefined` to start from `init`. Runs before `init` on every activation. */
  load?: (id: string, ctx: WorkerContext) => S | undefined | Promise<S | undefined>
  /** One turn: every call and cast. Mutate `state` in place; the return value is a call's reply. */
  handle: (state: S, msg: M, ctx: WorkerContext) => R | Promise<R>
  /** Persists state as the worker leaves memory: passivation, stop, a node stopping with nowhere to hand it, and (with `load`) a handoff that went unanswered. Workers handed to another node go with their state, unsaved. */
  save?: (id: string, state: S, ctx: WorkerContext) => void | Promise<void>
  /**
   * Where the workers' state is kept (see `@simplepool/store` for SQLite and PostgreSQL):
   * `load`, `save` and `liveIds` are made from it unless given, fenced by each activation's
   * epoch. A write the store refuses (`StaleWriteError`: a newer copy's epoch holds the
   * row) drops the activation unsaved, and its waiting calls get that error.
   */
  store?: WorkerStore
  /**
   * Saves the state after every turn (calls, casts and ticks), before the call is answered
   * and before the next turn runs: what a caller was answered is in the store. A save that
   * fails fails the call, and the activation is dropped unsaved, so that its next message
   * loads what the store holds. Needs `save` (or `store`). @default false
   */
  writeThrough?: boolean
  /** Periodic background work, every `tickMs`, as a turn in the worker's mailbox. */
  tick?: (state: S, ctx: WorkerContext) => void | Promise<void>
  /** Period of `tick`; each worker's first tick is spread over one period. */
  tickMs?: number
  /** Passivate (save, then deactivate) a worker idle this long. @default never */
  idleTimeoutMs?: number
  /** For state that cbor-x cannot carry as is: its portable form. */
  snapshot?: (state: S) => unknown
  /** The inverse of `snapshot`. */
  restore?: (snapshot: unknown) => S
  /**
   * Where workers live: `'ring'` (the pool's weighted consistent-hash ring) or a pure
   * function of the id and the serving nodes. @default 'ring'
   */
  placement?: 'ring' | PlacementFn
  /** This pool's target on nodes that name none. @default 100000 */
  target?: number
  /** Messages waiting per worker before more are refused with `OverloadedError`. @default 10000 */
  mailboxLimit?: number
  /** Deadline of a call to this pool when the caller gives none, in ms. @default 5000 */
  callTimeoutMs?: number
  /** Active workers, as a multiple of the target, at which the pool is `degraded`. @default 1.25 */
  softLimitRatio?: number
  /** ...and at which it is `critical`. @default 1.5 */
  hardLimitRatio?: number
  /**
   * After a node is marked down, its workers come back on their new owners: `'lazy'` on
   * their next message, `'eager'` at once (from `load`), for the ids `liveIds` lists.
   * @default 'lazy'
   */
  recovery?: 'lazy' | 'eager'
  /**
   * The ids of workers that should be live, usually read from the store `save` writes
   * to; each node brings back those that the lost node owned and that it owns now.
   */
  liveIds?: (signal: AbortSignal) => Iterable<string> | AsyncIterable<string>
  /** When the pool's health turns `degraded` or `critical`. */
  health?: HealthThresholds
  /**
   * What a node cut off from a majority of the cluster (a network partition; see the
   * lease on a majority) does with this pool's workers. `'safe'`: it stops taking turns
   * for them within its lease, and calls get `NodeIsolatedError`; the majority serves
   * them; at most one side serves each id. `'available'`: it goes on serving them (and
   * starts those its own view gives it), so both sides may serve an id; once the cut
   * heals, where two copies meet in a handoff the newer epoch wins, and the other is
   * dropped and reported (`worker:conflict`). For workers whose users prefer an answer
   * to exactness. @default 'safe'
   */
  partition?: 'safe' | 'available'
}

/** A pool definition, checked. Its type parameters ride along so refs can be typed by it. */
export type Pool<S = unknown, M = unknown, R = unknown> = Readonly<PoolDefinition<S, M, R>> & { readonly __types?: [S, M, R] }

const FUNCTIONS = ['init', 'handle'] as const
const OPTIONAL_FUNCTIONS = ['load', 'save', 'tick', 'snapshot', 'restore', 'liveIds'] as const
const STORE_METHODS = ['load', 'save', 'delete', 'liveIds', 'close'] as const
const POSITIVE = ['tickMs', 'idleTimeoutMs', 'target', 'mailboxLimit', 'callTimeoutMs', 'softLimitRatio', 'hardLimitRatio'] as const

function describe (v: unknown): string {
  return `${typeof v === 'string' ? JSON.stringify(v) : String(v)} (${typeof v})`
}

/** Checks a pool definition and says what was expected and what arrived. */
export function validatePool (def: PoolDefinition<any, any, any>): void {
  if (def == null || typeof def !== 'object') throw new InvalidOptionError(`a pool must be an object, got ${describe(def)}`)
  if (typeof def.name !== 'string' || def.name.length === 0 || def.name.length > 256) {
    throw new InvalidOptionError(`pool name must be a string of 1 to 256 characters, got ${describe(def.name)}`)
  }
  for (const k of FUNCTIONS) {
    if (typeof def[k] !== 'function') throw new InvalidOptionError(`pool ${def.name}: ${k} must be a function, got ${describe(def[k])}`)
  }
  for (const k of OPTIONAL_FUNCTIONS) {
    if (def[k] !== undefined && typeof def[k] !== 'function') throw new InvalidOptionError(`pool ${def.name}: ${k} must be a function, got ${describe(def[k])}`)
  }
  for (const k of POSITIVE) {
    const v = def[k]
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw new InvalidOptionError(`pool ${def.name}: ${k} must be a positive number, got ${describe(v)}`)
    }
  }
  if (def.tickMs !== undefined && def.tick === undefined) throw new InvalidOptionError(`pool ${def.name}: tickMs is set but tick is not`)
  if ((def.snapshot === undefined) !== (def.restore === undefined)) throw new InvalidOptionError(`pool ${def.name}: give both snapshot and restore, or neither`)
  if (def.placement !== undefined && def.placement !== 'ring' && typeof def.placement !== 'function') {
    throw new InvalidOptionError(`pool ${def.name}: placement must be 'ring' or a function, got ${describe(def.placement)}`)
  }
  if (def.recovery !== undefined && def.recovery !== 'lazy' && def.recovery !== 'eager') {
    throw new InvalidOptionError(`pool ${def.name}: recovery must be 'lazy' or 'eager', got ${describe(def.recovery)}`)
  }
  if (def.partition !== undefined && def.partition !== 'safe' && def.partition !== 'available') {
    throw new InvalidOptionError(`pool ${def.name}: partition must be 'safe' or 'available', got ${describe(def.partition)}`)
  }
  if (def.store !== undefined && (def.store === null || typeof def.store !== 'object' || STORE_METHODS.some(m => typeof (def.store as unknown as Record<string, unknown>)[m] !== 'function'))) {
    throw new InvalidOptionError(`pool ${def.name}: store must have ${STORE_METHODS.join(', ')}, got ${describe(def.store)}`)
  }
  if (def.writeThrough !== undefined && typeof def.writeThrough !== 'boolean') throw new InvalidOptionError(`pool ${def.name}: writeThrough must be a boolean, got ${describe(def.writeThrough)}`)
  if (def.writeThrough === true && def.save === undefined && def.store === undefined) throw new InvalidOptionError(`pool ${def.name}: writeThrough needs save or store, where the state goes`)
  if (def.recovery === 'eager' && def.liveIds === undefined && def.store === undefined) throw new InvalidOptionError(`pool ${def.name}: eager recovery needs liveIds, the ids to bring back`)
  if ((def.hardLimitRatio ?? Infinity) < (def.softLimitRatio ?? 0)) {
    throw new InvalidOptionError(`pool ${def.name}: hardLimitRatio ${def.hardLimitRatio} is below softLimitRatio ${def.softLimitRatio}`)
  }
}

/**
 * Defines a pool. Checks it at once (a mistake shows where the pool is written, not when
 * a node starts) and freezes it: every node must run the same behaviour.
 *
 * @example
 * ```ts
 * const counters = definePool<{ n: number }, 'inc' | 'get', number>({
 *   name: 'counter',
 *   init: () => ({ n: 0 }),
 *   handle: (state, msg) => msg === 'inc' ? ++state.n : state.n
 * })
 * ```
 */
export function definePool<S, M = unknown, R = unknown> (def: PoolDefinition<S, M, R>): Pool<S, M, R> {
  validatePool(def)
  return Object.freeze({ ...def })
}

/**
 * The pool's `load`, `save` and `liveIds`, made from its `store` where not given: each
 * passes the activation's epoch and signal, and `snapshot`/`restore` where the pool has
 * them. Returns the definition itself when there is nothing to make. Made as a node
 * starts the pool (not by `definePool`), so that a pool spread into another of another
 * name (`{ ...pool, name }`) keeps its rows under its own name.
 */
export function withStore<S, M, R> (def: PoolDefinition<S, M, R>): PoolDefinition<S, M, R> {
  const store = def.store
  if (store === undefined || (def.load !== undefined && def.save !== undefined && def.liveIds !== undefined)) return def
  const name = def.name
  const { snapshot, restore } = def
  return {
    ...def,
    load: def.load ?? (async (id, ctx) => {
      const saved = await store.load(name, id, { epoch: ctx.epoch, signal: ctx.signal })
      return saved === undefined ? undefined : restore !== undefined ? restore(saved) : saved as S
    }),
    save: def.save ?? (async (id, state, ctx) => {
      await store.save(name, id, snapshot !== undefined ? snapshot(state) : state, { epoch: ctx.epoch, signal: ctx.signal })
    }),
    liveIds: def.liveIds ?? ((signal) => store.liveIds(name, { signal }))
  }
}
