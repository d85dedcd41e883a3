import { StaleWriteError, definePool } from 'simplepool'
import type { Pool, WorkerStore } from 'simplepool'
import { join } from 'node:path'
import { FileStore } from './file-store.js'

/** Options of the test pools, from the harness's `poolOptions`. */
export interface TestPoolOptions {
  /** Idle timeout of the `stored` pool, in ms. @default 300 */
  idleTimeoutMs?: number
  /** Period of the `ticker` pool, in ms. @default 100 */
  tickMs?: number
  /** How long `slow-load` takes to load, in ms. @default 300 */
  loadMs?: number
  /** Bytes of state of each `blob` worker. @default 1024 */
  blobBytes?: number
  /** Directory of the `ledger` pool's {@link FileStore}, shared by every node of a test (and of `sqlite-ledger`'s file). */
  storeDir?: string
  /** Where `pg-ledger` keeps its workers: a PostgreSQL connection string, and its table. */
  pg?: { url: string, table: string }
}

/** A message to the `counter` pool. */
export type CounterMsg =
  | 'inc' | 'get'
  | { op: 'throw', name?: string, message?: string }
  | { op: 'hang' }
  | { op: 'sleep', ms: number }
  | { op: 'seq', sender: string, k: number }
  | { op: 'order' }
  | { op: 'echo', value: unknown }

interface CounterState { n: number, last: Record<string, number>, violations: number, seen: number }

/**
 * Casts the `sink` pool's workers took in this process since `armSink`: the clock is read
 * at the first and at the `target`-th only, so the count costs the handler almost nothing.
 */
export const sinkTally = { seen: 0, target: 0, firstAt: 0, lastAt: 0, done: undefined as (() => void) | undefined }

/** Starts counting casts to the `sink` pool afresh, until `target` have arrived. */
export function armSink (target: number): void {
  Object.assign(sinkTally, { seen: 0, target, firstAt: 0, lastAt: 0, done: undefined })
}

/** What `save` wrote, per pool and id, in this process: the `stored` pool's store. */
export const store = new Map<string, unknown>()

/**
 * The pools a test node can run, by name. Each is small and does one thing a test
 * checks: counting, failing, hanging, ordering, saving, ticking, slow loading.
 */
export function testPools (opts: TestPoolOptions = {}): Record<string, Pool<any, any, any>> {
  const counter = definePool<CounterState, CounterMsg, unknown>({
    name: 'counter',
    init: () => ({ n: 0, last: {}, violations: 0, seen: 0 }),
    handle: (s, msg) => {
      if (msg === 'inc') return ++s.n
      if (msg === 'get') return s.n
      switch (msg.op) {
        case 'throw': {
          const err = new Error(msg.message ?? 'handler failed')
          err.name = msg.name ?? 'Error'
          throw err
        }
        case 'hang': return new Promise(() => {})
        case 'sleep': return new Promise(resolve => setTimeout(() => { resolve(s.n) }, msg.ms))
        case 'seq': {
          // per-sender order: each sender's k must follow its previous one
          const prev = s.last[msg.sender] ?? -1
          if (msg.k !== prev + 1) s.violations++
          s.last[msg.sender] = msg.k
          s.seen++
          return undefined
        }
        case 'order': return { seen: s.seen, violations: s.violations, last: s.last }
        case 'echo': return msg.value
        default: return s.n
      }
    }
  })
  const stored = definePool<{ n: number, loads: number }, 'inc' | 'get' | 'loads', number>({
    name: 'stored',
    idleTimeoutMs: opts.idleTimeoutMs ?? 300,
    init: () => ({ n: 0, loads: 0 }),
    load: (id) => {
      const saved = store.get(`stored/${id}`) as { n: number, loads: number } | undefined
      return saved === undefined ? undefined : { ...saved, loads: saved.loads + 1 }
    },
    save: (id, s) => { store.set(`stored/${id}`, { ...s }) },
    handle: (s, msg) => msg === 'inc' ? ++s.n : msg === 'loads' ? s.loads : s.n
  })
  const ticker = definePool<{ ticks: number }, 'get', number>({
    name: 'ticker',
    tickMs: opts.tickMs ?? 100,
    init: () => ({ ticks: 0 }),
    tick: (s) => { s.ticks++ },
    handle: (s) => s.ticks
  })
  const slowLoad = definePool<{ ready: boolean }, 'get', boolean>({
    name: 'slow-load',
    load: async () => { await new Promise(resolve => setTimeout(resolve, opts.loadMs ?? 300)); return undefined },
    init: () => ({ ready: true }),
    handle: (s) => s.ready
  })
  const failInit = definePool<object, unknown, unknown>({
    name: 'fail-init',
    init: (id) => { throw new RangeError(`cannot start ${id}`) },
    handle: () => undefined
  })
  // the counter for workers whose users prefer answers to exactness: both sides of a cut serve it
  const available = definePool<CounterState, CounterMsg, unknown>({ ...counter, name: 'available', partition: 'available' })
  const ledger = ledgerPool(opts.storeDir)
  const eagerLedger = ledgerPool(opts.storeDir, 'eager-ledger', true)
  // the same counter through the store adapters, written through by the runtime itself
  const sqliteLedger = storedLedger('sqlite-ledger', async () => {
    if (opts.storeDir == null) throw new Error('the sqlite-ledger pool needs poolOptions.storeDir')
    const { SqliteStore } = await import('@simplepool/store/sqlite')
    return new SqliteStore({ path: join(opts.storeDir, 'workers.db') })
  })
  // a counter with no store whose state lives on: a replica of it on the next node of its ring
  const replicated = definePool<{ n: number }, 'inc' | 'get', number>({
    name: 'replicated',
    replicas: 1,
    init: () => ({ n: 0 }),
    handle: (s, msg) => msg === 'inc' ? ++s.n : s.n
  })
  const replicated2 = definePool<{ n: number }, 'inc' | 'get', number>({ ...replicated, name: 'replicated2', replicas: 2 })
  const pgLedger = storedLedger('pg-ledger', async () => {
    if (opts.pg == null) throw new Error('the pg-ledger pool needs poolOptions.pg')
    const { PostgresStore } = await import('@simplepool/store/postgres')
    return new PostgresStore({ connectionString: opts.pg.url, table: opts.pg.table, max: 4 })
  })
  // state of a set size, for what moving workers costs: a counter and its bytes
  const blob = definePool<{ n: number, data: Uint8Array }, 'inc' | 'get', number>({
    name: 'blob',
    init: (id) => ({ n: 0, data: new Uint8Array(opts.blobBytes ?? 1024).fill(id.length) }),
    handle: (s, msg) => msg === 'inc' ? ++s.n : s.n
  })
  // a chat room with a small state: 'say' (usually cast) counts a message, 'get' answers
  // the count; what the million-worker benchmark activates and talks to
  const room = definePool<{ said: number, last: number }, 'say' | 'get', number>({
    name: 'room',
    init: () => ({ said: 0, last: 0 }),
    handle: (s, msg) => {
      if (msg === 'say') {
        s.said++
        s.last = Date.now()
      }
      return s.said
    }
  })
  // counts what it is sent and nothing else: how fast messages reach workers, not what the
  // workers do with them (the remote benchmark's one-way figure)
  const sink = definePool<{ n: number }, unknown, number>({
    name: 'sink',
    init: () => ({ n: 0 }),
    handle: (s) => {
      const t = sinkTally
      if (++t.seen === 1) t.firstAt = performance.now()
      if (t.seen === t.target) {
        t.lastAt = performance.now()
        t.done?.()
      }
      return ++s.n
    }
  })
  // every id on one node (the first serving node by peer id), with a small target: a
  // placement that crowds one node, for what happens at its hard limit (30)
  const pinned = definePool<{ n: number }, 'inc' | 'get', number>({
    name: 'pinned',
    target: 20,
    placement: (_id, ctx) => ctx.nodes[0]?.peerId,
    init: () => ({ n: 0 }),
    handle: (s, msg) => msg === 'inc' ? ++s.n : s.n
  })
  return Object.fromEntries([counter, available, stored, ticker, slowLoad, failInit, ledger, eagerLedger, sqliteLedger, pgLedger, replicated, replicated2, blob, pinned, room, sink].map(p => [p.name, p]))
}

/**
 * A counter that writes every increment through to a {@link FileStore} shared by all
 * nodes, with its activation's epoch, before it answers: an acknowledged increment is
 * durable, a lost or doubled one shows, and a stale activation's write is refused (and
 * logged) instead of overwriting newer state.
 */
function ledgerPool (storeDir: string | undefined, name = 'ledger', eager = false): Pool<{ n: number }, 'inc' | 'get', number> {
  let store: FileStore | undefined
  const open = (): FileStore => {
    if (storeDir == null) throw new Error(`the ${name} pool needs poolOptions.storeDir`)
    store ??= new FileStore(eager ? join(storeDir, name) : storeDir)
    return store
  }
  return definePool<{ n: number }, 'inc' | 'get', number>({
    name,
    // brought back at once after a node is lost: every id the store holds is one that lived
    ...(eager ? { recovery: 'eager' as const, liveIds: () => open().keys() } : {}),
    init: () => ({ n: 0 }),
    load: (id) => {
      const saved = open().read<number>(id)
      return saved === undefined ? undefined : { n: saved.value }
    },
    handle: (s, msg, ctx) => {
      if (msg !== 'inc') return s.n
      if (!open().write(ctx.id, s.n + 1, ctx.epoch)) throw new StaleWriteError(`${ctx.id}: epoch ${ctx.epoch} is older than the stored one`, { pool: ctx.pool, id: ctx.id, epoch: ctx.epoch })
      return ++s.n
    },
    save: (id, s, ctx) => {
      if (!open().write(id, s.n, ctx.epoch)) throw new StaleWriteError(`${id}: epoch ${ctx.epoch} is older than the stored one`, { pool: ctx.pool, id, epoch: ctx.epoch })
    }
  })
}

/**
 * A counter given a store adapter and `writeThrough`: the runtime saves every increment
 * before it answers, fenced by the activation's epoch. The store opens on first use (a
 * node that never runs the pool opens no database).
 */
function storedLedger (name: string, open: () => Promise<WorkerStore>): Pool<{ n: number }, 'inc' | 'get', number> {
  let opened: Promise<WorkerStore> | undefined
  const store = async (): Promise<WorkerStore> => await (opened ??= open())
  const lazy: WorkerStore = {
    load: async (...a) => await (await store()).load(...a),
    save: async (...a) => { await (await store()).save(...a) },
    delete: async (...a) => { await (await store()).delete(...a) },
    liveIds: async function * (...a) { yield * (await store()).liveIds(...a) },
    close: async () => { if (opened !== undefined) await (await opened).close() }
  }
  return definePool<{ n: number }, 'inc' | 'get', number>({
    name,
    store: lazy,
    writeThrough: true,
    init: () => ({ n: 0 }),
    handle: (s, msg) => msg === 'inc' ? ++s.n : s.n
  })
}
