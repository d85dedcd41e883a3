import { ENVELOPE_VERSION, InvalidMessageError } from '@simplepool/core'
import type { WireError } from '@simplepool/core'

/** Kinds of envelope. The numbers are the wire format: never renumber. */
export const Kind = {
  Cast: 1,
  Call: 2,
  Reply: 3,
  Error: 4
} as const

/**
 * One message on the wire, a cbor array whose first two items are version and kind:
 * `[v, Cast, payload]`, `[v, Call, id, payload]`, `[v, Reply, id, payload]`,
 * `[v, Error, id, { name, message, data? }]`. Arrays, not objects: no key names on the wire.
 */
export type Envelope =
  | [typeof ENVELOPE_VERSION, typeof Kind.Cast, unknown]
  | [typeof ENVELOPE_VERSION, typeof Kind.Call, number, unknown]
  | [typeof ENVELOPE_VERSION, typeof Kind.Reply, number, unknown]
  | [typeof ENVELOPE_VERSION, typeof Kind.Error, number, WireError]

/**
 * Checks one decoded envelope; throws `InvalidMessageError` naming what is wrong. Only
 * the frame around the payload is checked here; the payload is the receiver's to judge.
 */
export function checkEnvelope (e: unknown): Envelope {
  if (!Array.isArray(e) || e.length < 3) throw new InvalidMessageError('envelope is not an array of at least 3 items')
  if (e[0] !== ENVELOPE_VERSION) throw new InvalidMessageError(`envelope version ${String(e[0])} is not supported (expected ${ENVELOPE_VERSION})`)
  const kind = e[1]
  if (kind === Kind.Cast) {
    if (e.length !== 3) throw new InvalidMessageError('cast envelope must have 3 items')
    return e as Envelope
  }
  if (kind === Kind.Call || kind === Kind.Reply || kind === Kind.Error) {
    if (e.length !== 4) throw new InvalidMessageError(`envelope of kind ${String(kind)} must have 4 items`)
    if (typeof e[2] !== 'number' || !Number.isSafeInteger(e[2]) || e[2] < 0) throw new InvalidMessageError('envelope id must be a non-negative integer')
    if (kind === Kind.Error && (e[3] == null || typeof e[3] !== 'object' || typeof (e[3] as WireError).name !== 'string')) {
      throw new InvalidMessageError('error envelope must carry { name, message }')
    }
    return e as Envelope
  }
  throw new InvalidMessageError(`envelope kind ${String(kind)} is unknown`)
}
