/**
 * SimplePool's pool runtime: pools of workers, each worker found by id and live at most
 * once; mailboxes with one turn at a time; routing to the owner the ring names, with
 * forwarding when views disagree; lazy, async and sync spawning; passivation and ticks on
 * one timing wheel; and per-pool figures and health.
 *
 * @example
 * ```ts
 * import { definePool } from '@simplepool/runtime'
 * export const counters = definePool<{ n: number }, 'inc' | 'get', number>({
 *   name: 'counter',
 *   init: () => ({ n: 0 }),
 *   handle: (state, msg) => msg === 'inc' ? ++state.n : state.n
 * })
 * ```
 *
 * @packageDocumentation
 */
export * from './pool.js'
export * from './ref.js'
export * from './options.js'
export * from './events.js'
export * from './figures/health.js'
export * from './figures/latency.js'
export * from './figures/pool-stats.js'
export * from './figures/pool-view.js'
export * from './activation/timing-wheel.js'
export * from './protocol/index.js'
export * from './runtime-types.js'
export * from './runtime.js'
export * from './access/access-rules.js'
export { Access, PoolRight, CALL_OR_HOST } from './access/access.js'
export type { Refusals } from './access/access.js'
export type { LocalPool } from './activation/local-pool.js'
export type { SpillTables } from './routing/spill.js'
