import { decode } from 'cbor-x'
import { InvalidMessageError, shown } from '@simplepool/core'

/** Longest peer id a link's message may name. */
export const MAX_ID = 128

/**
 * The checks a link's decoders make of what came off the network, each throwing
 * `InvalidMessageError` that names the message kind and the field.
 */
export function wireChecks (kind: string): {
  object: (raw: unknown, what: string) => Record<string, unknown>
  list: (raw: unknown, what: string, max: number) => unknown[]
  id: (raw: unknown, what: string) => string
  count: (raw: unknown, what: string, min?: number) => number
} {
  const bad = (what: string): InvalidMessageError => new InvalidMessageError(`${kind}: bad ${what}`)
  return {
    object (raw, what) {
      if (raw == null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidMessageError(`${kind}: ${what} is not an object`)
      return raw as Record<string, unknown>
    },
    list (raw, what, max) {
      if (!Array.isArray(raw) || raw.length > max) throw bad(what)
      return raw
    },
    id (raw, what) {
      if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_ID) throw bad(what)
      return raw
    },
    // a whole number from `min` (0 unless told) up to the safe integers
    count (raw, what, min = 0) {
      if (!Number.isSafeInteger(raw) || (raw as number) < min) throw bad(what)
      return raw as number
    }
  }
}

/**
 * Opens a message of the mesh's wire form (cbor of a plain object, `v: 1`): its size
 * bounded by `maxBytes`, then its cbor, its shape and its version checked, each failure an
 * `InvalidMessageError` that names `kind`.
 */
export function openVersioned (bytes: Uint8Array, kind: string, maxBytes: number): Record<string, unknown> {
  if (bytes.byteLength > maxBytes) throw new InvalidMessageError(`${kind} of ${bytes.byteLength} bytes exceeds ${maxBytes}`)
  let raw: unknown
  try {
    raw = decode(bytes)
  } catch (err) {
    throw new InvalidMessageError(`${kind} is not valid cbor: ${(err as Error).message}`)
  }
  if (raw == null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidMessageError(`${kind} is not an object`)
  const r = raw as Record<string, unknown>
  if (r.v !== 1) throw new InvalidMessageError(`${kind} version ${shown(r.v)} is not supported`)
  return r
}

export { shown } from '@simplepool/core'
