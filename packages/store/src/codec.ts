import { decode, encode } from 'cbor-x'
import { InvalidMessageError } from '@simplepool/core'

/**
 * A worker's state as the stores keep it: cbor, as the transport carries it between nodes
 * (so what a handoff can carry, a store can keep: Maps, Sets, Dates, typed arrays, bigints).
 */
export function encodeState (state: unknown): Uint8Array {
  return encode(state)
}

/** The state `encodeState` wrote. */
export function decodeState (bytes: Uint8Array): unknown {
  return decode(bytes)
}

/**
 * Answers a load of `w.pool`/`w.id` with the state `bytes` hold, decoded after the write's
 * transaction committed: a row that does not decode (written by another codec, or
 * damaged) fails that load alone, with `InvalidMessageError`.
 */
export function settleDecoded (w: { pool: string, id: string, resolve: (state: unknown) => void, reject: (err: Error) => void }, bytes: Uint8Array): void {
  let state: unknown
  try {
    state = decodeState(bytes)
  } catch (err) {
    w.reject(new InvalidMessageError(`the state of ${w.pool}/${w.id} in the store does not decode: ${(err as Error).message}`))
    return
  }
  w.resolve(state)
}
