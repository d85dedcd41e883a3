import { AbortError, InvalidOptionError, MAX_TIMER_MS } from '@simplepool/core'
import { MAX_ID_LENGTH } from './protocol/ops.js'

/** The last argument of every async call: a way to give up, and a deadline. */
export interface AbortOptions {
  signal?: AbortSignal
  /** Milliseconds before the operation fails with `TimeoutError`. */
  timeoutMs?: number
}

/** The longest deadline an operation may have: the longest delay a timer takes. */
export const MAX_TIMEOUT_MS = MAX_TIMER_MS

/** The deadline of an operation in ms, checked; `fallback` when none is given. */
export function timeoutOf (options: AbortOptions | undefined, fallback: number): number {
  const t = options?.timeoutMs
  if (t === undefined) return fallback
  if (typeof t !== 'number' || !(t > 0 && t <= MAX_TIMEOUT_MS)) {
    throw new InvalidOptionError(`timeoutMs must be a number in (0, ${MAX_TIMEOUT_MS}], got ${String(t)} (${typeof t})`)
  }
  return t
}

/** Throws `AbortError` when the signal is already aborted. */
export function checkSignal (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AbortError('the operation was aborted before it started')
}

/** Checks a worker id given by a user. */
export function checkId (id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new InvalidOptionError(`a worker id must be a string of 1 to ${MAX_ID_LENGTH} characters, got ${typeof id === 'string' ? `${id.length} characters` : typeof id}`)
  }
}
