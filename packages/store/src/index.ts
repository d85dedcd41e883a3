/**
 * Where a SimplePool pool's workers keep their state between activations, fenced by each
 * activation's epoch (the contract is `WorkerStore`, in `@simplepool/core`): give one to a
 * pool as `definePool({ store })`.
 *
 * - `MemoryStore` (here): in this process, for tests and examples.
 * - `SqliteStore` (`@simplepool/store/sqlite`, needs `better-sqlite3` 12): one file, the
 *   embedded default for one machine.
 * - `PostgresStore` (`@simplepool/store/postgres`, needs `pg` 8): for clusters of several
 *   machines.
 *
 * @example
 * ```ts
 * import { definePool } from 'simplepool'
 * import { SqliteStore } from '@simplepool/store/sqlite'
 * const store = new SqliteStore({ path: 'workers.db' })
 * const counters = definePool<{ n: number }, 'inc' | 'get', number>({
 *   name: 'counter',
 *   store,
 *   writeThrough: true, // every acknowledged increment is in the file
 *   init: () => ({ n: 0 }),
 *   handle: (state, msg) => msg === 'inc' ? ++state.n : state.n
 * })
 * ```
 *
 * @packageDocumentation
 */
export { MemoryStore } from './memory-store.js'
export { decodeState, encodeState } from './codec.js'
export { DEFAULT_TABLE } from './stale.js'
export type { StoreCallOptions, WorkerStore } from '@simplepool/core'
