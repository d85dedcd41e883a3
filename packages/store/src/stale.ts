import { AbortError, InvalidOptionError, StaleWriteError } from '@simplepool/core'

/** What a store says when a newer epoch holds a worker's row. */
export function staleWrite (what: 'load' | 'save' | 'delete', pool: string, id: string, epoch: number, stored: number | undefined): StaleWriteError {
  return new StaleWriteError(
    `${what} of ${pool}/${id} refused: its epoch ${epoch} is older than the stored ${stored ?? 'one'}; a newer activation of the worker holds it`,
    { pool, id, epoch, ...(stored !== undefined ? { stored } : {}) })
}

/** Throws {@link aborted} when `signal` is aborted: nothing was written. */
export function throwIfAborted (signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw aborted(what)
}

/** What a call aborted before its write says. */
export function aborted (what: string): AbortError {
  return new AbortError(`${what} was aborted before it was written`)
}

/** Checks the epoch a store is given: a non-negative safe integer, as every activation's is. */
export function checkEpoch (epoch: unknown): void {
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
    throw new InvalidOptionError(`a store's epoch must be a non-negative safe integer, got ${String(epoch)} (${typeof epoch})`)
  }
}

const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** A table name to put in SQL as it is: letters, digits and underscores, 63 at most. */
export function checkTable (table: string): string {
  if (typeof table !== 'string' || !TABLE.test(table)) throw new InvalidOptionError(`a store's table must be letters, digits and underscores (63 at most, not starting with a digit), got ${String(table)}`)
  return table
}

/** The default table of the SQL stores. */
export const DEFAULT_TABLE = 'simplepool_workers'

/** What a store that was closed says to every call after. */
export function storeClosed (what: string): Error {
  const err = new Error(`${what}: the store is closed`)
  err.name = 'StoreClosedError'
  return err
}
