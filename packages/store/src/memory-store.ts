import type { StoreCallOptions, WorkerStore } from '@simplepool/core'
import { decodeState, encodeState } from './codec.js'
import { checkEpoch, staleWrite, storeClosed, throwIfAborted } from './stale.js'

/**
 * A store in this process's memory: the contract of {@link WorkerStore} with no database,
 * for tests, examples and a single node whose workers need outlive only their activations
 * (passivation), not the process. States are kept encoded, as a database keeps them: what
 * a worker changes after a save is not in the store until it saves again.
 */
export class MemoryStore implements WorkerStore {
  private readonly rows = new Map<string, Map<string, { epoch: number, state: Uint8Array | undefined }>>()
  private closed = false

  async load (pool: string, id: string, options: StoreCallOptions): Promise<unknown> {
    const row = this.fence('load', pool, id, options)
    return row?.state === undefined ? undefined : decodeState(row.state)
  }

  async save (pool: string, id: string, state: unknown, options: StoreCallOptions): Promise<void> {
    const bytes = encodeState(state)
    this.fence('save', pool, id, options, { state: bytes })
  }

  async delete (pool: string, id: string, options: StoreCallOptions): Promise<void> {
    // the row stays, its epoch with it: an older copy cannot write the worker back
    this.fence('delete', pool, id, options, { state: undefined })
  }

  async * liveIds (pool: string, options?: { signal?: AbortSignal }): AsyncIterable<string> {
    for (const [id, row] of this.rows.get(pool) ?? []) {
      throwIfAborted(options?.signal, `the ids of ${pool}`)
      if (row.state !== undefined) yield id
    }
  }

  async close (): Promise<void> {
    this.closed = true
  }

  /** Raises the row's epoch (and writes `write.state`, when given), unless a newer epoch holds it; returns the row as it was. */
  private fence (what: 'load' | 'save' | 'delete', pool: string, id: string, options: StoreCallOptions, write?: { state: Uint8Array | undefined }): { epoch: number, state: Uint8Array | undefined } | undefined {
    if (this.closed) throw storeClosed(`the ${what} of ${pool}/${id}`)
    checkEpoch(options.epoch)
    throwIfAborted(options.signal, `the ${what} of ${pool}/${id}`)
    let rows = this.rows.get(pool)
    if (rows === undefined) this.rows.set(pool, rows = new Map())
    const row = rows.get(id)
    if (row !== undefined && row.epoch > options.epoch) throw staleWrite(what, pool, id, options.epoch, row.epoch)
    rows.set(id, { epoch: options.epoch, state: write !== undefined ? write.state : row?.state })
    return row
  }
}
