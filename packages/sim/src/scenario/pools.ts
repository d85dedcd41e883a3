/**
 * The workload's pools, one per kind of state: `ledger` writes every increment through
 * to the store with its epoch before it answers; `counter` keeps its state only in
 * memory (only a handoff keeps it); `ticker` counts its ticks and saves on passivation.
 * Every turn reports where it ran, so the checks know which node held which worker.
 */
import { StaleWriteError, sleep } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import { definePool } from '@simplepool/runtime'
import type { Pool, WorkerContext } from '@simplepool/runtime'
import type { SimStore } from './store.js'

/** A message to a workload worker. `from` and `seq` are the sender's: its order, checked. */
export type WorkMsg =
  | { op: 'inc', from: string, seq: number }
  | { op: 'get' }
  | { op: 'slow', ms: number }
  | { op: 'boom' }

/** A counter's state: its value, and the last sequence number seen from each sender (per-sender order). */
export interface CounterState {
  n: number
  seen: Record<string, number>
}

/** What the pools tell the workload as they run. */
export interface TurnObserver {
  /** A turn of `pool`/`id` ran on `ctx.node` with `ctx.epoch`, on state `n`. */
  turn: (pool: string, ctx: WorkerContext, msg: WorkMsg, n: number) => void
  /** A sender's message arrived after one it sent later. */
  outOfOrder: (pool: string, id: string, from: string, seq: number, last: number) => void
  /** The clock of node `peerId`: a slow turn sleeps on its node's time. */
  clockOf: (peerId: string) => Clock
}

function handle (pool: string, s: CounterState, msg: WorkMsg, ctx: WorkerContext, obs: TurnObserver, write?: (n: number) => void): number | Promise<number> {
  obs.turn(pool, ctx, msg, s.n)
  switch (msg.op) {
    case 'inc': {
      const last = s.seen[msg.from] ?? 0
      if (msg.seq <= last) obs.outOfOrder(pool, ctx.id, msg.from, msg.seq, last)
      write?.(s.n + 1)
      s.seen[msg.from] = Math.max(last, msg.seq)
      return ++s.n
    }
    case 'get': return s.n
    case 'slow': return sleep(obs.clockOf(ctx.node), msg.ms).then(() => s.n)
    case 'boom': throw new Error('a handler that throws')
  }
}

/** Makes the three pools over `store`, reporting to `obs`. */
export function workloadPools (store: SimStore, obs: TurnObserver): Array<Pool<any, any, any>> {
  const fresh = (): CounterState => ({ n: 0, seen: {} })
  const ledger = definePool<CounterState, WorkMsg, number>({
    name: 'ledger',
    init: fresh,
    // the row is claimed for this activation's epoch before it is read (see SimStore.fence)
    load: (id, ctx) => {
      if (!store.fence(id, ctx.epoch)) throw new StaleWriteError(`${id}: epoch ${ctx.epoch} is older than the stored one`, { pool: ctx.pool, id, epoch: ctx.epoch })
      const n = store.read(id)
      return n === undefined ? undefined : { n, seen: {} }
    },
    handle: (s, msg, ctx) => handle('ledger', s, msg, ctx, obs, (n) => {
      if (!store.write(ctx.id, n, ctx.epoch)) throw new StaleWriteError(`${ctx.id}: epoch ${ctx.epoch} is older than the stored one`, { pool: ctx.pool, id: ctx.id, epoch: ctx.epoch })
    }),
    save: (id, s, ctx) => {
      if (!store.write(id, s.n, ctx.epoch)) throw new StaleWriteError(`${id}: epoch ${ctx.epoch} is older than the stored one`, { pool: ctx.pool, id, epoch: ctx.epoch })
    }
  })
  const counter = definePool<CounterState, WorkMsg, number>({
    name: 'counter',
    init: fresh,
    handle: (s, msg, ctx) => handle('counter', s, msg, ctx, obs)
  })
  const ticker = definePool<CounterState & { ticks: number }, WorkMsg, number>({
    name: 'ticker',
    init: () => ({ ...fresh(), ticks: 0 }),
    handle: (s, msg, ctx) => handle('ticker', s, msg, ctx, obs),
    tick: (s) => { s.ticks++ },
    tickMs: 1_000,
    idleTimeoutMs: 20_000
  })
  return [ledger, counter, ticker]
}
