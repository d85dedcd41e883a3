/**
 * Where a pool's workers keep their state between activations: one row per worker, with
 * the epoch of the activation that last claimed it.
 *
 * Epochs fence stale copies. While the cluster's views disagree (a node paused, cut off
 * or killed, until it is marked down), two activations of one worker may take turns; the
 * newer has the higher epoch. A load raises the row's epoch to the loading activation's
 * before it reads, and a save or delete is made only if no higher epoch holds the row: once
 * the newer copy has loaded, the older can write nothing, and what it tries is refused with
 * `StaleWriteError`. The runtime then drops that copy unsaved (see `PoolDefinition.store`).
 *
 * Every method takes the activation's epoch and an `AbortSignal`. States are the pool's
 * portable form (after `snapshot`); an adapter encodes them as it likes.
 */
export interface WorkerStore {
  /**
   * Raises the epoch of `pool`/`id` to `options.epoch` (creating the row when there is
   * none) and returns the state saved there, or `undefined` when none was. Throws
   * `StaleWriteError`, and changes nothing, when a higher epoch holds the row.
   */
  load: (pool: string, id: string, options: StoreCallOptions) => Promise<unknown>
  /** Writes `state` with `options.epoch`, unless a higher epoch holds the row (`StaleWriteError`). */
  save: (pool: string, id: string, state: unknown, options: StoreCallOptions) => Promise<void>
  /** Removes the worker's state, unless a higher epoch holds the row (`StaleWriteError`). */
  delete: (pool: string, id: string, options: StoreCallOptions) => Promise<void>
  /** The ids of `pool` that have state saved, for eager recovery (see `PoolDefinition.recovery`). */
  liveIds: (pool: string, options?: { signal?: AbortSignal }) => AsyncIterable<string>
  /** Releases the connections or file the store holds; it takes no call after. */
  close: () => Promise<void>
}

/** What every call to a {@link WorkerStore} is given. */
export interface StoreCallOptions {
  /** The epoch of the activation calling. */
  readonly epoch: number
  /** Aborted when the activation stops or its turn runs past its call's deadline. */
  readonly signal?: AbortSignal
}
