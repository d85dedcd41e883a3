import { decode, encode } from 'cbor-x'

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
