import { definePool } from 'simplepool'
import type { Pool } from 'simplepool'

/** Options of the test pools, from the harness's `poolOptions`. */
export interface TestPoolOptions {
  /** Idle timeout of the `stored` pool, in ms. @default 300 */
  idleTimeoutMs?: number
  /** Period of the `ticker` pool, in ms. @default 100 */
  tickMs?: number
  /** How long `slow-load` takes to load, in ms. @default 300 */
  loadMs?: number
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
  return Object.fromEntries([counter, stored, ticker, slowLoad, failInit].map(p => [p.name, p]))
}
